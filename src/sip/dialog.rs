//! UAC dialogs (RFC 3261 §12): created from the 18x/2xx answering our INVITE, they hold what
//! every later in-dialog request needs: tags, route set, remote target and CSeq numbers.

use crate::sip::build;
use crate::sip::message::{self, headers, Header, Method, Request, Response};
use crate::sip::uri::{uri_of, TransportKind};
use std::net::SocketAddr;

/// Identifies a dialog: Call-ID and both tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    /// The Call-ID shared by every message of the dialog.
    pub call_id: String,
    /// Our tag (From of our requests).
    pub local_tag: String,
    /// The peer's tag (To of our requests).
    pub remote_tag: String,
}

/// The state of one dialog we created as UAC.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// Call-ID and tags.
    pub id: DialogId,
    /// Our From header value, tag included.
    local: String,
    /// The peer's To header value, tag included.
    remote: String,
    /// Where in-dialog requests go (the peer's Contact URI).
    pub remote_target: String,
    /// Record-Route entries, reversed (UAC view).
    pub route_set: Vec<String>,
    /// CSeq of our last request in the dialog.
    pub local_cseq: u32,
    /// CSeq of the peer's last request, once it sent one.
    pub remote_cseq: Option<u32>,
    /// CSeq of the INVITE that created the dialog (ACK for 2xx reuses it).
    pub invite_cseq: u32,
    /// Whether a 2xx confirmed the dialog (early dialogs come from 18x).
    pub confirmed: bool,
}

/// What it takes to end a confirmed dialog from another process (after a restart): stored
/// with the answer, as compact JSON. The tags ride inside `from` and `to`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DialogRecord {
    /// The Call-ID.
    pub call_id: String,
    /// Our From header value, our tag included.
    pub from: String,
    /// The peer's To header value, its tag included.
    pub to: String,
    /// The remote target (the peer's Contact URI).
    pub target: String,
    /// The route set, UAC order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<String>,
    /// CSeq of our last request in the dialog.
    pub cseq: u32,
    /// Where the call was sent (the trunk): the next hop when the route set and remote target
    /// name no IP literal.
    pub peer: SocketAddr,
    /// The transport of the call.
    pub transport: TransportKind,
}

/// Why a response cannot create a dialog.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DialogError {
    /// The response has no To tag.
    #[error("response has no To tag")]
    NoRemoteTag,
    /// A mandatory header is missing from the INVITE or the response.
    #[error("missing {0}")]
    Missing(&'static str),
    /// The request we tried to build was invalid.
    #[error(transparent)]
    Build(#[from] build::BuildError),
}

fn header_value(h: &message::Headers, want: fn(&Header) -> Option<&str>) -> Option<&str> {
    h.iter().find_map(want)
}

impl Dialog {
    /// Creates the dialog a 18x/2xx (with To tag) establishes for our INVITE.
    pub fn from_uac_response(invite: &Request, resp: &Response) -> Result<Dialog, DialogError> {
        let remote_tag = message::to_tag(&resp.headers).ok_or(DialogError::NoRemoteTag)?;
        let call_id = message::call_id(&invite.headers).ok_or(DialogError::Missing("Call-ID"))?;
        let local_tag =
            message::from_tag(&invite.headers).ok_or(DialogError::Missing("From tag"))?;
        let (invite_cseq, _) =
            message::cseq(&invite.headers).ok_or(DialogError::Missing("CSeq"))?;
        let local = header_value(&invite.headers, |h| match h {
            Header::From(v) => Some(v.value()),
            _ => None,
        })
        .ok_or(DialogError::Missing("From"))?;
        let remote = header_value(&resp.headers, |h| match h {
            Header::To(v) => Some(v.value()),
            _ => None,
        })
        .ok_or(DialogError::Missing("To"))?;
        let remote_target = match header_value(&resp.headers, |h| match h {
            Header::Contact(v) => Some(v.value()),
            _ => None,
        }) {
            Some(c) => uri_of(message::split_list(c).next().unwrap_or(c)).to_string(),
            None => invite.uri.to_string(),
        };
        let mut route_set: Vec<String> = resp
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::RecordRoute(v) => Some(v.value()),
                _ => None,
            })
            .flat_map(message::split_list)
            .map(str::to_string)
            .collect();
        route_set.reverse();
        Ok(Dialog {
            id: DialogId {
                call_id: call_id.to_string(),
                local_tag: local_tag.to_string(),
                remote_tag: remote_tag.to_string(),
            },
            local: local.to_string(),
            remote: remote.to_string(),
            remote_target,
            route_set,
            local_cseq: invite_cseq,
            remote_cseq: None,
            invite_cseq,
            confirmed: (200..300).contains(&resp.status_code.code()),
        })
    }

    /// The URI the next in-dialog request is sent towards: the first loose route, else the
    /// remote target.
    pub fn next_hop(&self) -> &str {
        match self.route_set.first() {
            Some(r) => uri_of(r),
            None => &self.remote_target,
        }
    }

    /// Builds an in-dialog request with a fresh branch (RFC 3261 §12.2.1.1). ACK reuses the
    /// INVITE's CSeq; every other method takes the next local CSeq.
    pub fn request(
        &mut self,
        method: Method,
        via: &str,
        extra: Vec<Header>,
        body: Vec<u8>,
    ) -> Result<Request, DialogError> {
        let seq = if method == Method::Ack {
            self.invite_cseq
        } else {
            self.local_cseq += 1;
            self.local_cseq
        };
        let first_route_is_strict = self
            .route_set
            .first()
            .is_some_and(|r| message::param(uri_of(r), "lr").is_none());
        let (request_uri, routes): (String, Vec<String>) = if first_route_is_strict {
            let mut rest: Vec<String> = self.route_set[1..].to_vec();
            rest.push(format!("<{}>", self.remote_target));
            (uri_of(&self.route_set[0]).to_string(), rest)
        } else {
            (self.remote_target.clone(), self.route_set.clone())
        };
        let mut hs: Vec<Header> = Vec::with_capacity(8 + routes.len() + extra.len());
        hs.push(headers::Via::new(format!("{via};branch={}", build::new_branch())).into());
        hs.push(headers::MaxForwards::new("70").into());
        hs.extend(routes.into_iter().map(|r| headers::Route::new(r).into()));
        hs.push(headers::From::new(self.local.clone()).into());
        hs.push(headers::To::new(self.remote.clone()).into());
        hs.push(headers::CallId::new(self.id.call_id.clone()).into());
        hs.push(headers::CSeq::new(format!("{seq} {method}")).into());
        hs.extend(extra);
        Ok(build::request(method, &request_uri, hs, body)?)
    }

    /// What a later process needs to end this dialog, for a call sent to `peer` over
    /// `transport`.
    pub fn record(&self, peer: SocketAddr, transport: TransportKind) -> DialogRecord {
        DialogRecord {
            call_id: self.id.call_id.clone(),
            from: self.local.clone(),
            to: self.remote.clone(),
            target: self.remote_target.clone(),
            route: self.route_set.clone(),
            cseq: self.local_cseq,
            peer,
            transport,
        }
    }

    /// The confirmed dialog a [`DialogRecord`] describes; its next request takes the CSeq
    /// after the stored one.
    pub fn from_record(record: &DialogRecord) -> Result<Dialog, DialogError> {
        let local_tag = message::name_addr_param(&record.from, "tag")
            .filter(|t| !t.is_empty())
            .ok_or(DialogError::Missing("From tag"))?;
        let remote_tag = message::name_addr_param(&record.to, "tag")
            .filter(|t| !t.is_empty())
            .ok_or(DialogError::NoRemoteTag)?;
        Ok(Dialog {
            id: DialogId {
                call_id: record.call_id.clone(),
                local_tag: local_tag.to_string(),
                remote_tag: remote_tag.to_string(),
            },
            local: record.from.clone(),
            remote: record.to.clone(),
            remote_target: record.target.clone(),
            route_set: record.route.clone(),
            local_cseq: record.cseq,
            remote_cseq: None,
            invite_cseq: record.cseq,
            confirmed: true,
        })
    }

    /// Records the CSeq of a request the peer sent in this dialog; false if it is out of order
    /// (lower than one already seen), which RFC 3261 §12.2.2 answers with 500.
    pub fn accept_remote_cseq(&mut self, seq: u32) -> bool {
        match self.remote_cseq {
            Some(last) if seq < last => false,
            _ => {
                self.remote_cseq = Some(seq);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::message::SipMessage;

    fn invite() -> Request {
        let raw = "INVITE sip:+15551234567@127.0.0.1:5080 SIP/2.0\r\n\
                   Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv;rport\r\n\
                   Max-Forwards: 70\r\n\
                   From: <sip:ringmaster@127.0.0.1>;tag=ours\r\n\
                   To: <sip:+15551234567@127.0.0.1>\r\n\
                   Call-ID: dlg-1\r\n\
                   CSeq: 7 INVITE\r\n\
                   Content-Length: 0\r\n\r\n";
        match SipMessage::try_from(raw).unwrap() {
            SipMessage::Request(r) => r,
            _ => unreachable!(),
        }
    }

    fn ok(extra: &str) -> Response {
        let raw = format!(
            "SIP/2.0 200 OK\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv;rport\r\n\
             From: <sip:ringmaster@127.0.0.1>;tag=ours\r\n\
             To: <sip:+15551234567@127.0.0.1>;tag=theirs\r\n\
             Call-ID: dlg-1\r\n\
             CSeq: 7 INVITE\r\n\
             Contact: <sip:callee@127.0.0.1:5090>\r\n{extra}\
             Content-Length: 0\r\n\r\n"
        );
        match SipMessage::try_from(raw.as_str()).unwrap() {
            SipMessage::Response(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn bye_goes_to_the_contact_with_both_tags_and_the_next_cseq() {
        let mut d = Dialog::from_uac_response(&invite(), &ok("")).unwrap();
        assert!(d.confirmed);
        let bye = d
            .request(Method::Bye, "SIP/2.0/UDP 127.0.0.1:5060", vec![], vec![])
            .unwrap();
        assert_eq!(bye.uri.to_string(), "sip:callee@127.0.0.1:5090");
        assert_eq!(message::cseq(&bye.headers), Some((8, "BYE")));
        assert_eq!(message::from_tag(&bye.headers), Some("ours"));
        assert_eq!(message::to_tag(&bye.headers), Some("theirs"));
        let ack = d
            .request(Method::Ack, "SIP/2.0/UDP 127.0.0.1:5060", vec![], vec![])
            .unwrap();
        assert_eq!(message::cseq(&ack.headers), Some((7, "ACK")));
    }

    #[test]
    fn record_route_is_reversed_into_the_route_set() {
        let rr = "Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\n";
        let mut d = Dialog::from_uac_response(&invite(), &ok(rr)).unwrap();
        assert_eq!(d.next_hop(), "sip:p1.example.com;lr");
        let bye = d
            .request(Method::Bye, "SIP/2.0/UDP h", vec![], vec![])
            .unwrap();
        let routes: Vec<_> = bye
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Route(r) => Some(r.value().to_string()),
                _ => None,
            })
            .collect();
        assert_eq!(
            routes,
            vec!["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"]
        );
    }

    #[test]
    fn a_dialog_record_survives_json_and_makes_the_same_bye() {
        let rr = "Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>\r\n";
        let d = Dialog::from_uac_response(&invite(), &ok(rr)).unwrap();
        let peer: SocketAddr = "127.0.0.1:5080".parse().unwrap();
        let record = d.record(peer, TransportKind::Udp);
        let json = serde_json::to_string(&record).unwrap();
        let back: DialogRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record);
        let mut restored = Dialog::from_record(&back).unwrap();
        assert_eq!(restored.id, d.id);
        let via = "SIP/2.0/UDP 127.0.0.1:5060";
        let bye = restored.request(Method::Bye, via, vec![], vec![]).unwrap();
        let want = d.clone().request(Method::Bye, via, vec![], vec![]).unwrap();
        assert_eq!(bye.uri, want.uri);
        assert_eq!(message::cseq(&bye.headers), Some((8, "BYE")));
        let without_via = |r: &Request| -> Vec<String> {
            r.headers
                .iter()
                .filter(|h| !matches!(h, Header::Via(_)))
                .map(|h| h.to_string())
                .collect()
        };
        assert_eq!(without_via(&bye), without_via(&want));
    }

    #[test]
    fn a_record_without_the_peer_tag_is_refused() {
        let d = Dialog::from_uac_response(&invite(), &ok("")).unwrap();
        let mut record = d.record("127.0.0.1:5080".parse().unwrap(), TransportKind::Udp);
        record.to = "<sip:+15551234567@127.0.0.1>".into();
        assert_eq!(
            Dialog::from_record(&record).unwrap_err(),
            DialogError::NoRemoteTag
        );
    }

    #[test]
    fn a_response_without_to_tag_makes_no_dialog_and_old_cseqs_are_refused() {
        let mut r = ok("");
        r.headers.iter_mut().for_each(|h| {
            if let Header::To(t) = h {
                *t = headers::To::new("<sip:+15551234567@127.0.0.1>");
            }
        });
        assert_eq!(
            Dialog::from_uac_response(&invite(), &r).unwrap_err(),
            DialogError::NoRemoteTag
        );
        let mut d = Dialog::from_uac_response(&invite(), &ok("")).unwrap();
        assert!(d.accept_remote_cseq(5));
        assert!(!d.accept_remote_cseq(4));
    }
}
