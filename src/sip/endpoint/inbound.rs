//! Requests that reach us: retransmissions absorbed by their server transaction, in-dialog
//! BYE / re-INVITE / UPDATE / INFO / OPTIONS answered (a new SDP offer answered and reported
//! to the call), and everything a stranger sends refused.
//! ringmaster never places or bridges a call a stranger asked for.

use super::unwanted::Unwanted;
use super::{CallEvent, CallHandle, Endpoint, EndpointEvent, Owner};
use crate::sip::build;
use crate::sip::dialog::DialogId;
use crate::sip::message::{self, headers, Header, Method, Request};
use crate::sip::transaction::{ServerInvite, ServerNonInvite, Transaction, TransactionKey};
use crate::sip::uri::TransportKind;
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::Instant;

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REGISTER";

impl Endpoint {
    /// Handles a parsed request. `screened`: it has already been admitted by its source's
    /// rate limit (as a request outside any dialog, from its raw bytes).
    pub(super) fn handle_request(
        &mut self,
        now: Instant,
        from: SocketAddr,
        transport: TransportKind,
        mut req: Request,
        screened: bool,
    ) {
        let Some(branch) = message::top_via_branch(&req.headers).map(str::to_string) else {
            self.note_unwanted(now, Unwanted::Stray, from, "request without a Via branch");
            return;
        };
        stamp_received(&mut req, from);
        let (call_id, seq) = request_identity(&req);
        let key = TransactionKey::server(&branch, &req.method.to_string(), &call_id, seq);
        if let Some(id) = self.by_key.get(&key).copied() {
            if let Some(e) = self.transactions.get_mut(&id) {
                match &mut e.tx {
                    Transaction::ServerInvite(t) => t.handle_request(now, &req),
                    Transaction::ServerNonInvite(t) => t.handle_request(now, &req),
                    _ => {}
                }
            }
            self.service_tx(now, id);
            return;
        }
        let peer = response_destination(&req, from, transport);
        if req.method == Method::Ack {
            self.on_ack(now, &req);
            return;
        }
        // Our dialogs' requests, and a CANCEL of a transaction of ours, are served whatever
        // else arrives.
        if let Some(handle) = self.dialog_of(&req) {
            self.handle_in_dialog(now, req, peer, transport, handle);
            return;
        }
        let invite_key = TransactionKey::server(&branch, "INVITE", &call_id, seq);
        if req.method == Method::Cancel && self.by_key.contains_key(&invite_key) {
            self.respond_non_invite(now, req, peer, transport, 200, vec![], vec![]);
            return;
        }
        let trunk = self.is_trunk(from.ip());
        if !trunk {
            if !screened && !self.limiter.admit(now, from.ip()) {
                self.note_unwanted(
                    now,
                    Unwanted::RateLimited,
                    from,
                    format_args!("{} request", req.method),
                );
                return;
            }
            // One answer and nothing kept: a stranger's INVITE must not make us re-send
            // responses (towards a source that may be spoofed) until timer H.
            if req.method == Method::Invite {
                self.note_unwanted(
                    now,
                    Unwanted::Refused,
                    from,
                    format_args!("{} request", req.method),
                );
                let code = refusal_code(&req);
                self.respond_stateless(req, peer, transport, code, vec![]);
                return;
            }
            if self.server_transactions >= self.config.limits.max_server_transactions {
                self.note_unwanted(
                    now,
                    Unwanted::Overloaded,
                    from,
                    format_args!("{} request", req.method),
                );
                let extra = vec![headers::RetryAfter::new("5").into()];
                self.respond_stateless(req, peer, transport, 503, extra);
                return;
            }
        }
        match req.method {
            Method::Invite => {
                self.note_unwanted(
                    now,
                    Unwanted::Refused,
                    from,
                    format_args!("{} request", req.method),
                );
                let code = refusal_code(&req);
                self.respond_invite(now, req, peer, transport, code, vec![], vec![], None);
            }
            Method::Options if message::to_tag(&req.headers).is_none() => {
                let extra = capabilities();
                self.respond_non_invite(now, req, peer, transport, 200, extra, vec![]);
            }
            Method::Register if message::to_tag(&req.headers).is_none() => {
                self.on_register(now, req, from, peer, transport);
            }
            Method::Message | Method::Subscribe | Method::Publish | Method::Refer
                if message::to_tag(&req.headers).is_none() =>
            {
                self.note_unwanted(
                    now,
                    Unwanted::Refused,
                    from,
                    format_args!("{} request", req.method),
                );
                let extra = vec![headers::Allow::new(ALLOW).into()];
                self.respond_non_invite(now, req, peer, transport, 405, extra, vec![]);
            }
            // CANCEL of nothing of ours, a dialog we do not know, anything else.
            _ => {
                self.note_unwanted(
                    now,
                    Unwanted::Refused,
                    from,
                    format_args!("{} request", req.method),
                );
                self.respond_non_invite(now, req, peer, transport, 481, vec![], vec![]);
            }
        }
    }

    /// An ACK outside any transaction acknowledges a 2xx we sent (re-INVITE), which then stops
    /// being re-sent; any other (the ACK of a stateless refusal) is absorbed silently.
    fn on_ack(&mut self, now: Instant, req: &Request) {
        let answered = message::call_id(&req.headers)
            .zip(message::cseq(&req.headers))
            .and_then(|(call_id, (seq, _))| self.awaiting_ack.remove(&(call_id.to_string(), seq)))
            .map(|(id, _)| id);
        if let Some(id) = answered {
            if let Some(e) = self.transactions.get_mut(&id) {
                if let Transaction::ServerInvite(t) = &mut e.tx {
                    t.acknowledged();
                }
            }
            self.service_tx(now, id);
        }
    }

    /// The call whose dialog `req` belongs to, if any.
    fn dialog_of(&self, req: &Request) -> Option<CallHandle> {
        let local_tag = message::to_tag(&req.headers)?;
        let id = DialogId {
            call_id: message::call_id(&req.headers)?.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: message::from_tag(&req.headers)
                .unwrap_or_default()
                .to_string(),
        };
        self.dialogs.get(&id).copied()
    }

    /// Answers `req` once, keeping no transaction: a retransmission of it is answered afresh.
    pub(super) fn respond_stateless(
        &mut self,
        req: Request,
        peer: SocketAddr,
        transport: TransportKind,
        code: u16,
        extra: Vec<Header>,
    ) {
        let resp = build::response(&req, code, Some(&build::new_tag()), extra, vec![]);
        let bytes = Bytes::from(message::response_bytes(&resp));
        self.push_transmit(transport, peer, bytes);
    }

    fn handle_in_dialog(
        &mut self,
        now: Instant,
        req: Request,
        peer: SocketAddr,
        transport: TransportKind,
        handle: CallHandle,
    ) {
        let seq = message::cseq(&req.headers).map(|(n, _)| n).unwrap_or(0);
        if !self.accept_remote_cseq(handle, seq) {
            self.respond_non_invite(now, req, peer, transport, 500, vec![], vec![]);
            return;
        }
        match req.method {
            Method::Bye => {
                self.respond_non_invite(now, req, peer, transport, 200, vec![], vec![]);
                self.on_remote_bye(now, handle);
            }
            // A new offer (hold, resume, a new media address): answered with our offer revised
            // (next version, direction mirrored) and reported to the call, or refused with 488
            // and the call left as it was. A re-INVITE without an offer gets our offer again
            // (its answer comes in the ACK, which we do not read); an UPDATE without one is a
            // refresh and gets no SDP (RFC 3311 section 5.2).
            Method::Invite | Method::Update => {
                let is_invite = req.method == Method::Invite;
                let mut extra = Vec::new();
                let (code, body, remote) = if req.body.is_empty() {
                    let body = match is_invite {
                        true => self.offer_again(handle).unwrap_or_default(),
                        false => Vec::new(),
                    };
                    (200, body, None)
                } else {
                    match self.answer_reoffer(handle, &req.body) {
                        Ok(answer) => (200, answer, Some(Bytes::from(req.body.clone()))),
                        Err(reason) => {
                            tracing::info!(%reason, method = %req.method, "re-offer refused");
                            let text = reason.replace(['"', '\\'], "");
                            extra.push(
                                headers::Warning::new(format!("399 ringmaster \"{text}\"")).into(),
                            );
                            (488, Vec::new(), None)
                        }
                    }
                };
                if code == 200 {
                    extra.push(contact(self, transport));
                    if !body.is_empty() {
                        extra.push(headers::ContentType::new("application/sdp").into());
                    }
                }
                if is_invite {
                    self.respond_invite(now, req, peer, transport, code, extra, body, Some(handle));
                } else {
                    self.respond_non_invite(now, req, peer, transport, code, extra, body);
                }
                if let Some(sdp) = remote {
                    self.events
                        .push_back(EndpointEvent::Call(handle, CallEvent::RemoteSdp { sdp }));
                }
            }
            Method::Info => {
                let content_type = req
                    .headers
                    .iter()
                    .find_map(|h| match h {
                        Header::ContentType(ct) => Some(ct.value().to_string()),
                        _ => None,
                    })
                    .unwrap_or_default();
                let digit = super::info::dtmf_digit(&content_type, &req.body);
                self.respond_non_invite(now, req, peer, transport, 200, vec![], vec![]);
                if let Some(digit) = digit {
                    self.events
                        .push_back(EndpointEvent::Call(handle, CallEvent::Digit { digit }));
                }
            }
            Method::Options | Method::Notify => {
                self.respond_non_invite(now, req, peer, transport, 200, vec![], vec![])
            }
            _ => {
                let extra = vec![headers::Allow::new(ALLOW).into()];
                self.respond_non_invite(now, req, peer, transport, 405, extra, vec![]);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn respond_invite(
        &mut self,
        now: Instant,
        req: Request,
        peer: SocketAddr,
        transport: TransportKind,
        code: u16,
        extra: Vec<Header>,
        body: Vec<u8>,
        call: Option<CallHandle>,
    ) {
        let branch = message::top_via_branch(&req.headers).unwrap_or_default();
        let (call_id, seq) = request_identity(&req);
        let key = TransactionKey::server(branch, "INVITE", &call_id, seq);
        let resp = build::response(&req, code, Some(&build::new_tag()), extra, body);
        // A 2xx to a call's re-INVITE over UDP is re-sent until its ACK arrives, and without
        // one the call is hung up (RFC 3261 §13.3.1.4).
        let awaiting_ack = call
            .filter(|_| (200..300).contains(&code) && !transport.is_reliable())
            .and_then(|call| {
                let (call_id, (seq, _)) =
                    message::call_id(&req.headers).zip(message::cseq(&req.headers))?;
                Some(((call_id.to_string(), seq), call))
            });
        let mut tx = ServerInvite::new(now, req, transport.is_reliable(), self.config.timers);
        tx.respond(now, resp);
        let id = self.insert_tx(
            now,
            key,
            Transaction::ServerInvite(tx),
            peer,
            transport,
            Owner::Nobody,
        );
        if let Some((dialog_seq, call)) = awaiting_ack {
            self.awaiting_ack.insert(dialog_seq, (id, call));
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn respond_non_invite(
        &mut self,
        now: Instant,
        req: Request,
        peer: SocketAddr,
        transport: TransportKind,
        code: u16,
        extra: Vec<Header>,
        body: Vec<u8>,
    ) {
        let branch = message::top_via_branch(&req.headers).unwrap_or_default();
        let (call_id, seq) = request_identity(&req);
        let key = TransactionKey::server(branch, &req.method.to_string(), &call_id, seq);
        let resp = build::response(&req, code, Some(&build::new_tag()), extra, body);
        let mut tx = ServerNonInvite::new(now, req, transport.is_reliable(), self.config.timers);
        tx.respond(now, resp);
        self.insert_tx(
            now,
            key,
            Transaction::ServerNonInvite(tx),
            peer,
            transport,
            Owner::Nobody,
        );
    }
}

/// What tells a request's server transaction apart besides its branch: Call-ID and CSeq
/// number (see [`TransactionKey`]).
fn request_identity(req: &Request) -> (String, u32) {
    let call_id = message::call_id(&req.headers)
        .unwrap_or_default()
        .to_string();
    let seq = message::cseq(&req.headers).map_or(0, |(n, _)| n);
    (call_id, seq)
}

/// The refusal of an INVITE from outside our dialogs: 481 for a dialog we do not know, else
/// 403 (ringmaster never places or bridges a call a stranger asked for).
fn refusal_code(req: &Request) -> u16 {
    match message::to_tag(&req.headers) {
        Some(_) => 481,
        None => 403,
    }
}

fn capabilities() -> Vec<Header> {
    vec![
        headers::Allow::new(ALLOW).into(),
        headers::Accept::new("application/sdp, application/dtmf-relay, application/dtmf").into(),
    ]
}

fn contact(ep: &Endpoint, transport: TransportKind) -> Header {
    headers::Contact::new(format!(
        "<sip:ringmaster@{};transport={}>",
        ep.local_addr(transport),
        transport.via_token().to_ascii_lowercase()
    ))
    .into()
}

/// RFC 3261 §18.2.1 and RFC 3581: record where the request really came from in its top Via
/// (`received`, and `rport` when the sender asked for it), so responses find their way back
/// through NAT.
fn stamp_received(req: &mut Request, from: SocketAddr) {
    let Some(via) = req.headers.iter_mut().find_map(|h| match h {
        Header::Via(v) => Some(v),
        _ => None,
    }) else {
        return;
    };
    let value = via.value().to_string();
    let (top, rest) = match value.find(',') {
        Some(i) if message::split_list(&value).count() > 1 => {
            (value[..i].to_string(), value[i..].to_string())
        }
        _ => (value.clone(), String::new()),
    };
    let mut params: Vec<String> = top.split(';').map(|p| p.trim().to_string()).collect();
    let sent_by_host = params
        .first()
        .and_then(|sp| sp.split_whitespace().nth(1))
        .map(|hp| {
            crate::sip::uri::host_port(&format!("sip:{hp}"))
                .map(|(h, _)| h.to_string())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let mut changed = false;
    for p in params.iter_mut().skip(1) {
        if p.eq_ignore_ascii_case("rport") {
            *p = format!("rport={}", from.port());
            changed = true;
        }
    }
    if sent_by_host != from.ip().to_string()
        && !params
            .iter()
            .any(|p| p.to_ascii_lowercase().starts_with("received="))
    {
        params.push(format!("received={}", from.ip()));
        changed = true;
    }
    if changed {
        via.replace(format!("{}{rest}", params.join(";")));
    }
}

/// Where a response to `req` goes (RFC 3261 §18.2.2, RFC 3581): back to the source for
/// streams and for `rport`, else to the Via's sent-by port at the source address.
fn response_destination(req: &Request, from: SocketAddr, transport: TransportKind) -> SocketAddr {
    if transport.is_reliable() {
        return from;
    }
    let Some(top) = message::top_via(&req.headers) else {
        return from;
    };
    if message::param(top, "rport").is_some() {
        return from;
    }
    let port = top
        .split(';')
        .next()
        .and_then(|sp| sp.split_whitespace().nth(1))
        .and_then(|hp| crate::sip::uri::host_port(&format!("sip:{hp}")).map(|(_, p)| p))
        .unwrap_or(5060);
    SocketAddr::new(from.ip(), port)
}
