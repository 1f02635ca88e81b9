//! Outbound calls (the UAC side): INVITE through a trunk, digest auth retries, CANCEL at the
//! dial timeout, ACK and BYE, and the SIP facts every leg ends with ([`LegEnd`]).

use super::leg_end::{ByeCause, CancelCause, FinalStatus, LegEnd, LegEndCause, PeerFault};
use super::timers::Wake;
use super::unwanted::Unwanted;
use super::{CallHandle, Endpoint, EndpointEvent, Owner, ProbeHandle};
use crate::sdp;
use crate::sip::auth::{self, Credentials};
use crate::sip::build::{self, BuildError};
use crate::sip::dialog::{Dialog, DialogError, DialogRecord};
use crate::sip::message::{self, headers, Header, Method, Request, Response};
use crate::sip::transaction::TransactionEvent;
use crate::sip::uri::{self, TransportKind};
use bytes::Bytes;
use std::any::Any;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything needed to place one call.
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// The Request-URI, e.g. `sip:+15551234567@trunk.example.com`.
    pub request_uri: String,
    /// Caller id: our From URI (and P-Asserted-Identity's when set), e.g.
    /// `sip:+15550000000@trunk.example.com`.
    pub from_uri: String,
    /// The user part of our Contact URI.
    pub contact_user: String,
    /// Optional display name for From (quoted and escaped when the INVITE is built).
    pub from_display: Option<String>,
    /// Send a P-Asserted-Identity with the caller id.
    pub asserted_identity: bool,
    /// Where the trunk is.
    pub peer: SocketAddr,
    /// UDP or TCP towards the trunk.
    pub transport: TransportKind,
    /// Digest credentials for 401/407 challenges.
    pub credentials: Option<Credentials>,
    /// How long to wait for an answer before CANCEL.
    pub dial_timeout: Duration,
    /// Our SDP offer, if any.
    pub sdp: Option<Vec<u8>>,
    /// Further headers, as (name, value).
    pub extra_headers: Vec<(String, String)>,
    /// Whether provisional responses are reported ([`CallEvent::Progress`]). A dialer that
    /// only waits for the answer leaves it off: each event wakes the call's owner on its own
    /// thread, two or more per call for nothing.
    pub report_progress: bool,
    /// Held until the INVITE's first response (or the call's end) and dropped then, on the
    /// endpoint's thread: a guard whose drop counts the call as no longer setting up, without
    /// an event to its owner.
    pub until_first_response: Option<Arc<dyn Any + Send + Sync>>,
    /// The Call-ID to use (a caller that records it before the INVITE leaves); `None`: a
    /// random one. It must be a SIP `word` (RFC 3261 section 25.1), optionally `@host`.
    pub call_id: Option<String>,
}

/// What happened on a call.
#[derive(Debug, Clone)]
pub enum CallEvent {
    /// A provisional response (100, 180, 183, ...).
    Progress {
        /// Its status code.
        code: u16,
    },
    /// The callee answered; the dialog is confirmed and ACKed.
    Answered {
        /// The SDP answer (possibly empty).
        sdp: Bytes,
        /// What it takes to end the dialog from another process (`None` only if the ACK could
        /// not be built).
        dialog: Option<Box<DialogRecord>>,
    },
    /// The callee pressed a key, sent in a SIP INFO (`application/dtmf-relay` or
    /// `application/dtmf`).
    Digit {
        /// `0-9`, `*`, `#`, `A-D`.
        digit: char,
    },
    /// The callee made a new SDP offer on the answered call (a re-INVITE or UPDATE: hold,
    /// resume, a new media address) and we accepted it with a 200. Reported after the answer
    /// has gone out; an offer we refused (488) is not reported and changes nothing.
    RemoteSdp {
        /// The callee's new SDP.
        sdp: Bytes,
    },
    /// The call is over; nothing more will be reported for it.
    Ended(LegEnd),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// INVITE outstanding.
    Inviting,
    /// 2xx received and ACKed.
    Confirmed,
}

/// One call in progress.
#[derive(Debug)]
pub(super) struct UacCall {
    spec: CallSpec,
    invite: Request,
    /// Every client transaction of the call (INVITEs, CANCEL, BYE), released when it ends.
    txs: Vec<u64>,
    phase: Phase,
    provisional_seen: bool,
    cancel: Option<CancelCause>,
    cancel_sent: bool,
    auth_attempts: u8,
    nonce_count: u32,
    dialog: Option<Dialog>,
    ack: Option<(Bytes, SocketAddr)>,
    started: Instant,
    final_at: Option<Instant>,
    answered_at: Option<Instant>,
    /// The INVITE's final response, once one arrived.
    final_status: Option<FinalStatus>,
    /// How far the `o=` version of the SDP we last sent is past the one of our offer.
    sdp_revision: u64,
    /// Why the next hop did not take the call, once known.
    peer_fault: Option<PeerFault>,
}

impl UacCall {
    /// Whether the INVITE still waits for its final answer (the dial timeout still matters).
    pub(super) fn is_inviting(&self) -> bool {
        self.phase == Phase::Inviting
    }

    fn call_id(&self) -> String {
        message::call_id(&self.invite.headers)
            .unwrap_or_default()
            .to_string()
    }
}

/// Builds the OPTIONS request a trunk probe sends.
pub(super) fn options_request(
    ep: &Endpoint,
    target: &str,
    transport: TransportKind,
) -> Result<Request, BuildError> {
    let local = ep.local_addr(transport);
    let hs: Vec<Header> = vec![
        headers::Via::new(format!(
            "{};branch={}",
            ep.via_sent_by(transport),
            build::new_branch()
        ))
        .into(),
        headers::MaxForwards::new("70").into(),
        headers::From::new(format!("<sip:ringmaster@{local}>;tag={}", build::new_tag())).into(),
        headers::To::new(format!("<{target}>")).into(),
        headers::CallId::new(format!("{}@{}", build::new_call_id(), local.ip())).into(),
        headers::CSeq::new("1 OPTIONS").into(),
        headers::UserAgent::new(ep.config.user_agent.clone()).into(),
    ];
    build::request(Method::Options, target, hs, Vec::new())
}

const ALLOW: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE";

impl Endpoint {
    /// Places a call: sends the INVITE and arms the dial timeout. Events arrive as
    /// [`EndpointEvent::Call`].
    pub fn place_call(&mut self, now: Instant, spec: CallSpec) -> Result<CallHandle, BuildError> {
        let handle = CallHandle(self.fresh_id());
        self.start_call(now, handle, spec)?;
        Ok(handle)
    }

    /// [`place_call`](Self::place_call) under a handle the caller made: one with
    /// [`CallHandle::CALLER_MADE`] set, not in use.
    pub fn place_call_as(
        &mut self,
        now: Instant,
        handle: CallHandle,
        spec: CallSpec,
    ) -> Result<(), BuildError> {
        if handle.0 & CallHandle::CALLER_MADE == 0 || self.calls.contains_key(&handle) {
            return Err(BuildError::Handle(handle.0));
        }
        self.start_call(now, handle, spec)
    }

    fn start_call(
        &mut self,
        now: Instant,
        handle: CallHandle,
        spec: CallSpec,
    ) -> Result<(), BuildError> {
        let local = self.local_addr(spec.transport);
        let display = match &spec.from_display {
            Some(d) => format!("{} ", build::quoted_string(d)?),
            None => String::new(),
        };
        let from_uri = &spec.from_uri;
        let call_id = match &spec.call_id {
            Some(id) if is_call_id(id) => id.clone(),
            Some(id) => return Err(BuildError::CallId(id.clone())),
            None => format!("{}@{}", build::new_call_id(), local.ip()),
        };
        let mut hs: Vec<Header> = vec![
            headers::Via::new(format!(
                "{};branch={}",
                self.via_sent_by(spec.transport),
                build::new_branch()
            ))
            .into(),
            headers::MaxForwards::new("70").into(),
            headers::From::new(format!("{display}<{from_uri}>;tag={}", build::new_tag())).into(),
            headers::To::new(format!("<{}>", spec.request_uri)).into(),
            headers::CallId::new(call_id).into(),
            headers::CSeq::new("1 INVITE").into(),
            headers::Contact::new(format!(
                "<sip:{}@{local};transport={}>",
                spec.contact_user,
                spec.transport.via_token().to_ascii_lowercase()
            ))
            .into(),
            headers::Allow::new(ALLOW).into(),
            headers::UserAgent::new(self.config.user_agent.clone()).into(),
        ];
        if spec.asserted_identity {
            hs.push(headers::PAssertedIdentity::new(format!("{display}<{from_uri}>")).into());
        }
        for (name, value) in &spec.extra_headers {
            hs.push(Header::Other(name.clone(), value.clone()));
        }
        let body = spec.sdp.clone().unwrap_or_default();
        if !body.is_empty() {
            hs.push(headers::ContentType::new("application/sdp").into());
        }
        let invite = build::request(Method::Invite, &spec.request_uri, hs, body)?;
        let (peer, transport, dial_timeout) = (spec.peer, spec.transport, spec.dial_timeout);
        self.calls.insert(
            handle,
            UacCall {
                spec,
                invite: invite.clone(),
                txs: Vec::with_capacity(3),
                phase: Phase::Inviting,
                provisional_seen: false,
                cancel: None,
                cancel_sent: false,
                auth_attempts: 0,
                nonce_count: 0,
                dialog: None,
                ack: None,
                started: now,
                final_at: None,
                answered_at: None,
                final_status: None,
                sdp_revision: 0,
                peer_fault: None,
            },
        );
        self.timers
            .push(now + dial_timeout, Wake::DialTimeout(handle));
        self.start_call_tx(now, handle, invite, peer, transport, Owner::Invite(handle));
        Ok(())
    }

    /// Ends a call from our side: CANCEL while it rings, BYE once answered.
    pub fn hangup(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        match call.phase {
            Phase::Inviting => self.cancel_call(now, handle, CancelCause::Hangup),
            Phase::Confirmed => self.send_bye(now, handle, ByeCause::Hangup),
        }
    }

    /// Our 200 to the callee's re-INVITE was never acknowledged: the dialog stands but the
    /// session is ended with a BYE (RFC 3261 §13.3.1.4).
    pub(super) fn on_reinvite_unacknowledged(&mut self, now: Instant, handle: CallHandle) {
        if self
            .calls
            .get(&handle)
            .is_some_and(|c| c.phase == Phase::Confirmed)
        {
            tracing::warn!("no ACK for our 200 to a re-INVITE; hanging up");
            self.send_bye(now, handle, ByeCause::ReinviteUnacknowledged);
        }
    }

    pub(super) fn on_dial_timeout(&mut self, now: Instant, handle: CallHandle) {
        if self
            .calls
            .get(&handle)
            .is_some_and(|c| c.phase == Phase::Inviting)
        {
            self.cancel_call(now, handle, CancelCause::DialTimeout);
        }
    }

    pub(super) fn on_cancel_guard(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        if call.phase == Phase::Inviting {
            self.finish(now, handle, LegEndCause::NoFinalResponseAfterCancel);
        }
    }

    fn cancel_call(&mut self, now: Instant, handle: CallHandle, reason: CancelCause) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.cancel.is_some() {
            return;
        }
        call.cancel = Some(reason);
        // RFC 3261 §9.1: no CANCEL before a provisional response; it goes out when one arrives
        // (or timer B ends the attempt).
        if call.provisional_seen {
            self.send_cancel(now, handle);
        }
    }

    fn send_cancel(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.cancel_sent {
            return;
        }
        call.cancel_sent = true;
        let inv = &call.invite;
        let mut hs: Vec<Header> = Vec::with_capacity(8);
        let mut via_done = false;
        for h in inv.headers.iter() {
            match h {
                Header::Via(v) if !via_done => {
                    via_done = true;
                    let top = message::split_list(v.value()).next().unwrap_or(v.value());
                    hs.push(headers::Via::new(top).into());
                }
                Header::Route(_)
                | Header::From(_)
                | Header::To(_)
                | Header::CallId(_)
                | Header::MaxForwards(_) => hs.push(h.clone()),
                _ => {}
            }
        }
        let seq = message::cseq(&inv.headers).map(|(n, _)| n).unwrap_or(1);
        hs.push(headers::CSeq::new(format!("{seq} CANCEL")).into());
        let uri = inv.uri.to_string();
        let (peer, transport) = (call.spec.peer, call.spec.transport);
        match build::request(Method::Cancel, &uri, hs, Vec::new()) {
            Ok(cancel) => {
                self.start_call_tx(now, handle, cancel, peer, transport, Owner::Cancel(handle));
            }
            Err(e) => tracing::warn!(error = %e, "could not build CANCEL"),
        }
        self.timers.push(
            now + self.config.timers.timeout(),
            Wake::CancelGuard(handle),
        );
    }

    pub(super) fn on_invite_event(
        &mut self,
        now: Instant,
        handle: CallHandle,
        ev: TransactionEvent,
    ) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        match ev {
            TransactionEvent::Response(resp) => {
                let code = resp.status_code.code();
                call.spec.until_first_response = None;
                match code {
                    100..=199 => {
                        call.provisional_seen = true;
                        if call.cancel.is_some() {
                            self.send_cancel(now, handle);
                        } else if call.spec.report_progress {
                            self.events.push_back(EndpointEvent::Call(
                                handle,
                                CallEvent::Progress { code },
                            ));
                        }
                    }
                    200..=299 => self.on_invite_2xx(now, handle, resp),
                    _ => self.on_invite_failure(now, handle, resp),
                }
            }
            TransactionEvent::Timeout => {
                if call.phase == Phase::Inviting {
                    if !call.provisional_seen {
                        call.peer_fault = Some(PeerFault::NoResponse);
                    }
                    self.finish(now, handle, LegEndCause::TimerB);
                }
            }
            TransactionEvent::TransportError => {
                if call.phase == Phase::Inviting {
                    call.peer_fault = Some(PeerFault::Transport);
                    self.finish(now, handle, LegEndCause::TransportError);
                }
            }
            TransactionEvent::Terminated => {}
        }
    }

    fn on_invite_2xx(&mut self, now: Instant, handle: CallHandle, resp: Response) {
        let via = self.via_sent_by(
            self.calls
                .get(&handle)
                .map(|c| c.spec.transport)
                .unwrap_or(TransportKind::Udp),
        );
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.dialog.is_some() {
            // A retransmitted 2xx: our ACK was lost.
            if let Some((ack, peer)) = call.ack.clone() {
                let transport = call.spec.transport;
                self.push_transmit(transport, peer, ack);
            }
            return;
        }
        call.final_at.get_or_insert(now);
        call.final_status = Some(final_status(&resp));
        let mut dialog = match Dialog::from_uac_response(&call.invite, &resp) {
            Ok(d) => d,
            Err(e) => {
                let error = e.to_string();
                self.finish(now, handle, LegEndCause::UnusableAnswer { error });
                return;
            }
        };
        let peer = next_hop_addr(&dialog, call.spec.peer);
        let transport = call.spec.transport;
        match dialog.request(Method::Ack, &via, Vec::new(), Vec::new()) {
            Ok(ack) => {
                let bytes = Bytes::from(message::request_bytes(&ack));
                call.ack = Some((bytes.clone(), peer));
                self.dialogs.insert(dialog.id.clone(), handle);
                call.dialog = Some(dialog);
                self.push_transmit(transport, peer, bytes);
            }
            Err(e) => tracing::warn!(error = %e, "could not build ACK"),
        }
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        match call.cancel {
            Some(_) => {
                // The callee answered while we were cancelling: ACK and hang up at once.
                call.phase = Phase::Confirmed;
                self.send_bye(now, handle, ByeCause::AnsweredAfterCancel);
            }
            None => {
                call.phase = Phase::Confirmed;
                call.answered_at = Some(now);
                let sdp = Bytes::from(resp.body);
                let dialog = call
                    .dialog
                    .as_ref()
                    .map(|d| Box::new(d.record(call.spec.peer, call.spec.transport)));
                self.events.push_back(EndpointEvent::Call(
                    handle,
                    CallEvent::Answered { sdp, dialog },
                ));
            }
        }
    }

    fn on_invite_failure(&mut self, now: Instant, handle: CallHandle, resp: Response) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if call.phase != Phase::Inviting {
            return;
        }
        let code = resp.status_code.code();
        if (code == 401 || code == 407)
            && call.cancel.is_none()
            && self.retry_with_auth(now, handle, &resp)
        {
            return;
        }
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        if code == 503 {
            call.peer_fault = Some(PeerFault::Unavailable {
                retry_after: message::retry_after(&resp.headers),
            });
        }
        call.final_status = Some(final_status(&resp));
        self.finish(now, handle, LegEndCause::FinalResponse);
    }

    /// Answers a 401/407 with credentials; false when we have none, or they already failed
    /// against a fresh (non-stale) nonce.
    fn retry_with_auth(&mut self, now: Instant, handle: CallHandle, resp: &Response) -> bool {
        let via = {
            let Some(call) = self.calls.get(&handle) else {
                return false;
            };
            self.via_sent_by(call.spec.transport)
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return false;
        };
        let Some(creds) = call.spec.credentials.clone() else {
            return false;
        };
        let proxy = resp.status_code.code() == 407;
        let values = resp.headers.iter().filter_map(|h| match h {
            Header::ProxyAuthenticate(v) if proxy => Some(v.value()),
            Header::WwwAuthenticate(v) if !proxy => Some(v.value()),
            _ => None,
        });
        let Some(challenge) = auth::pick_challenge(values) else {
            return false;
        };
        if call.auth_attempts >= 1 && !challenge.stale || call.auth_attempts >= 3 {
            return false;
        }
        call.auth_attempts += 1;
        call.nonce_count += 1;
        let mut invite = call.invite.clone();
        let seq = message::cseq(&invite.headers).map(|(n, _)| n).unwrap_or(1) + 1;
        let uri = invite.uri.to_string();
        let value = auth::authorization(
            &challenge,
            &creds,
            "INVITE",
            &uri,
            call.nonce_count,
            &build::random_token(16),
        );
        invite.headers.0.retain(|h| {
            !matches!(
                h,
                Header::Via(_)
                    | Header::CSeq(_)
                    | Header::ContentLength(_)
                    | Header::Authorization(_)
                    | Header::ProxyAuthorization(_)
            )
        });
        invite.headers.0.insert(
            0,
            headers::Via::new(format!("{via};branch={}", build::new_branch())).into(),
        );
        invite
            .headers
            .0
            .push(headers::CSeq::new(format!("{seq} INVITE")).into());
        invite.headers.0.push(if proxy {
            headers::ProxyAuthorization::new(value).into()
        } else {
            headers::Authorization::new(value).into()
        });
        let length = invite.body.len().to_string();
        invite
            .headers
            .0
            .push(headers::ContentLength::new(length).into());
        call.invite = invite.clone();
        call.provisional_seen = false;
        let (peer, transport) = (call.spec.peer, call.spec.transport);
        self.start_call_tx(now, handle, invite, peer, transport, Owner::Invite(handle));
        true
    }

    pub(super) fn on_cancel_event(
        &mut self,
        _now: Instant,
        _handle: CallHandle,
        ev: TransactionEvent,
    ) {
        if let TransactionEvent::Response(r) = ev {
            tracing::debug!(code = r.status_code.code(), "CANCEL answered");
        }
    }

    /// Ends a confirmed call with a BYE. The call is over as soon as the BYE is handed to its
    /// transaction (RFC 3261 §15.1.1): its outcome is reported at once, and the transaction
    /// goes on alone (re-sent until answered or timer F), so a far end that never answers
    /// the BYE does not hold the call open for 32 s.
    fn send_bye(&mut self, now: Instant, handle: CallHandle, cause: ByeCause) {
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        let via = self.via_sent_by(call.spec.transport);
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        let (default_peer, transport) = (call.spec.peer, call.spec.transport);
        if let Some(dialog) = call.dialog.as_mut() {
            let peer = next_hop_addr(dialog, default_peer);
            match dialog.request(Method::Bye, &via, Vec::new(), Vec::new()) {
                Ok(bye) => {
                    self.start_call_tx(now, handle, bye, peer, transport, Owner::Nobody);
                }
                Err(e) => tracing::warn!(error = %e, "could not build BYE"),
            }
        }
        self.finish(now, handle, LegEndCause::LocalBye(cause));
    }

    /// The callee sent BYE on a confirmed call.
    pub(super) fn on_remote_bye(&mut self, now: Instant, handle: CallHandle) {
        let Some(call) = self.calls.get(&handle) else {
            return;
        };
        if call.phase == Phase::Confirmed {
            self.finish(now, handle, LegEndCause::RemoteBye);
        }
    }

    /// Our SDP for a re-INVITE without an offer (RFC 3264 section 8: the offer is then in our
    /// 200 and the answer in the ACK): the offer we made when we placed the call. After we
    /// have answered a re-offer the `o=` version may not go back, so it is then our offer
    /// (`sendrecv` again) with the next version. `None` when we offered no media.
    pub(super) fn offer_again(&mut self, handle: CallHandle) -> Option<Vec<u8>> {
        let call = self.calls.get_mut(&handle)?;
        let ours = call.spec.sdp.as_deref().filter(|s| !s.is_empty())?;
        if call.sdp_revision == 0 {
            return Some(ours.to_vec());
        }
        let revised = std::str::from_utf8(ours)
            .ok()
            .and_then(|s| sdp::revise(s, call.sdp_revision + 1, sdp::Direction::SendRecv))?;
        call.sdp_revision += 1;
        Some(revised.into_bytes())
    }

    /// Answers the callee's re-offer (a re-INVITE or UPDATE with SDP) on call `handle`: our
    /// offer with the next `o=` version and the offered direction mirrored (RFC 3264 sections
    /// 6.1 and 8). Codec list, address and port stay those of our offer. The reason, when the
    /// offer cannot be accepted (not SDP, no PCMU or PCMA, no audio) or we never offered media;
    /// the call is then left as it was.
    pub(super) fn answer_reoffer(
        &mut self,
        handle: CallHandle,
        offer: &[u8],
    ) -> Result<Vec<u8>, String> {
        let remote = sdp::parse_answer(offer).map_err(|e| e.to_string())?;
        let call = self.calls.get_mut(&handle).ok_or("no such call")?;
        let ours = call
            .spec
            .sdp
            .as_deref()
            .filter(|s| !s.is_empty())
            .ok_or("the call has no media")?;
        let answer = std::str::from_utf8(ours)
            .ok()
            .and_then(|s| sdp::revise(s, call.sdp_revision + 1, remote.direction.answered()))
            .ok_or("our offer cannot be revised")?;
        call.sdp_revision += 1;
        Ok(answer.into_bytes())
    }

    /// Accepts the CSeq of an in-dialog request from the peer.
    pub(super) fn accept_remote_cseq(&mut self, handle: CallHandle, seq: u32) -> bool {
        self.calls
            .get_mut(&handle)
            .and_then(|c| c.dialog.as_mut())
            .map(|d| d.accept_remote_cseq(seq))
            .unwrap_or(true)
    }

    /// A 2xx for an INVITE whose transaction is gone: re-send the ACK if it is ours.
    pub(super) fn on_stray_response(&mut self, now: Instant, from: SocketAddr, resp: Response) {
        let code = resp.status_code.code();
        let is_invite =
            message::cseq(&resp.headers).is_some_and(|(_, m)| m.eq_ignore_ascii_case("INVITE"));
        if (200..300).contains(&code) && is_invite {
            let id = crate::sip::dialog::DialogId {
                call_id: message::call_id(&resp.headers)
                    .unwrap_or_default()
                    .to_string(),
                local_tag: message::from_tag(&resp.headers)
                    .unwrap_or_default()
                    .to_string(),
                remote_tag: message::to_tag(&resp.headers)
                    .unwrap_or_default()
                    .to_string(),
            };
            if let Some(call) = self.dialogs.get(&id).and_then(|h| self.calls.get(h)) {
                if let Some((ack, peer)) = call.ack.clone() {
                    let transport = call.spec.transport;
                    self.push_transmit(transport, peer, ack);
                    return;
                }
            }
        }
        self.note_unwanted(
            now,
            Unwanted::Stray,
            from,
            format_args!("{code} response matches no transaction"),
        );
    }

    /// Ends call `handle` for `cause` and reports how it ended.
    fn finish(&mut self, now: Instant, handle: CallHandle, cause: LegEndCause) {
        let Some(call) = self.calls.remove(&handle) else {
            return;
        };
        if let Some(d) = &call.dialog {
            self.dialogs.remove(&d.id);
        }
        let ms = |d: Duration| d.as_millis() as u64;
        let end = LegEnd {
            cause,
            answered: call.phase == Phase::Confirmed,
            cancel: call.cancel,
            provisional_seen: call.provisional_seen,
            call_id: call.call_id(),
            setup_ms: ms(call
                .final_at
                .unwrap_or(now)
                .saturating_duration_since(call.started)),
            talk_ms: call
                .answered_at
                .map(|a| ms(now.saturating_duration_since(a)))
                .unwrap_or(0),
            peer_fault: call.peer_fault,
            final_status: call.final_status,
        };
        // Transactions of a finished call keep running (absorbing retransmissions) but report
        // to nobody. Only the call's own are visited: the endpoint holds every transaction of
        // the last 32 s (timer M), tens of thousands under load.
        for id in &call.txs {
            if let Some(e) = self.transactions.get_mut(id) {
                e.owner = Owner::Nobody;
            }
        }
        self.events
            .push_back(EndpointEvent::Call(handle, CallEvent::Ended(end)));
    }
}

impl Endpoint {
    /// Ends a dialog this endpoint does not hold (one a previous process left up): sends a BYE
    /// built from `record`, CSeq one past the stored one, in a transaction of its own. Its
    /// final status (or `None`: timer F, a transport error) comes back as
    /// [`EndpointEvent::Probe`].
    pub fn end_dialog(
        &mut self,
        now: Instant,
        record: &DialogRecord,
    ) -> Result<ProbeHandle, DialogError> {
        let mut dialog = Dialog::from_record(record)?;
        let via = self.via_sent_by(record.transport);
        let agent = headers::UserAgent::new(self.config.user_agent.clone()).into();
        let bye = dialog.request(Method::Bye, &via, vec![agent], Vec::new())?;
        let peer = next_hop_addr(&dialog, record.peer);
        let handle = ProbeHandle(self.fresh_id());
        self.start_client_tx(now, bye, peer, record.transport, Owner::Probe(handle));
        Ok(handle)
    }

    /// Starts a client transaction of call `handle` and records it with the call.
    fn start_call_tx(
        &mut self,
        now: Instant,
        handle: CallHandle,
        req: Request,
        peer: SocketAddr,
        transport: TransportKind,
        owner: Owner,
    ) {
        let id = self.start_client_tx(now, req, peer, transport, owner);
        if let Some(call) = self.calls.get_mut(&handle) {
            call.txs.push(id);
        }
    }
}

/// The final status `resp` carries.
fn final_status(resp: &Response) -> FinalStatus {
    FinalStatus {
        code: resp.status_code.code(),
        reason: build::reason(resp),
    }
}

/// Whether `id` can be a Call-ID: `word [ "@" word ]` (RFC 3261 section 25.1).
fn is_call_id(id: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~()<>:\\\"/[]?{}".contains(&b))
    };
    match id.split_once('@') {
        Some((a, b)) => word(a) && word(b),
        None => word(id),
    }
}

/// Where in-dialog requests go: the next hop's IP literal, else the trunk.
fn next_hop_addr(dialog: &Dialog, default: SocketAddr) -> SocketAddr {
    uri::socket_addr(dialog.next_hop()).unwrap_or(default)
}
