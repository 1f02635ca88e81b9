//! The sans-IO SIP endpoint: owns every transaction, call and dialog of one ringmaster node
//! and routes each incoming message to its owner. It never reads a clock or touches a socket;
//! a transport driver feeds it (`handle_datagram`, `handle_timeout`, commands) and drains
//! `poll_transmit`, `poll_event` and `poll_timeout`.

mod inbound;
mod info;
mod leg_end;
mod limiter;
mod parked;
mod raw;
mod register;
mod timers;
mod uac;
mod unwanted;

use crate::fast::FastMap;
use crate::sip::auth::Credentials;
use crate::sip::message::{self, Request, Response, SipMessage};
use crate::sip::registrar::{Binding, RegistrarConfig};
use crate::sip::transaction::{Role, TimerConfig, Transaction, TransactionEvent, TransactionKey};
use crate::sip::uri::TransportKind;
use bytes::Bytes;
use limiter::SourceLimiter;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use timers::{TimerQueue, Wake};
use unwanted::{Unwanted, UnwantedLog};

pub use leg_end::{ByeCause, CancelCause, FinalStatus, LegEnd, LegEndCause, PeerFault, Side};
pub use uac::{CallEvent, CallSpec};

/// Identifies one call placed through the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallHandle(pub u64);

impl CallHandle {
    /// The top bit of the handles a caller makes itself ([`Endpoint::place_call_as`]): the
    /// endpoint's own never reach it, so the two never meet.
    pub const CALLER_MADE: u64 = 1 << 63;
}

/// Identifies one OPTIONS probe (trunk keep-alive) or one BYE of a dialog left open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProbeHandle(pub u64);

/// Bytes the driver must put on the wire.
#[derive(Debug, Clone)]
pub struct Transmit {
    /// UDP or TCP.
    pub transport: TransportKind,
    /// Where to send them.
    pub destination: SocketAddr,
    /// One whole SIP message.
    pub payload: Bytes,
}

/// What the endpoint reports to the layers above.
#[derive(Debug)]
pub enum EndpointEvent {
    /// Something happened on a call we placed.
    Call(CallHandle, CallEvent),
    /// An OPTIONS probe, or the BYE of a dialog left open ([`Endpoint::end_dialog`]), ended:
    /// the final status, or `None` when no answer came (timer F or a transport error).
    Probe(ProbeHandle, Option<u16>),
    /// A user's registered contacts changed (a REGISTER, an expiry, a contact that stopped
    /// answering, a credential removed): the whole current set, empty when offline.
    Registration {
        /// The agent the user name belongs to.
        owner: uuid::Uuid,
        /// The user name (address of record).
        username: String,
        /// Its contacts now.
        contacts: Vec<Binding>,
    },
}

/// The addresses we advertise in Via and Contact, per transport.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Our UDP address as the peers should see it.
    pub udp: Option<SocketAddr>,
    /// Our TCP listening address as the peers should see it.
    pub tcp: Option<SocketAddr>,
    /// RFC 3261 timer values.
    pub timers: TimerConfig,
    /// The User-Agent header we send.
    pub user_agent: String,
    /// The IPs of our trunks: their requests are never rate-limited, and an INVITE from them
    /// is refused through a server transaction (re-sent until ACKed) rather than statelessly.
    pub trunks: Vec<IpAddr>,
    /// What requests from outside our dialogs and trunks may cost.
    pub limits: Limits,
    /// What the registrar enforces.
    pub registrar: RegistrarConfig,
}

/// Bounds on what requests from outside our dialogs and trunks may cost: a flood of them must
/// neither grow memory without end nor crowd out the calls we place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Server transactions kept at once. Past it, a new request from outside our dialogs and
    /// trunks is answered `503 Service Unavailable` without a transaction.
    pub max_server_transactions: usize,
    /// Requests per second one source IP (not a trunk) may send outside our dialogs; more are
    /// dropped unanswered. 0: no limit.
    pub source_rate: u32,
    /// How many such requests a quiet source may send at once.
    pub source_burst: u32,
    /// Sources whose rate is tracked apart; sources beyond share one bucket.
    pub max_sources: usize,
    /// Unwanted traffic (unparsable, refused, stray, rate-limited, overloaded) is logged as
    /// one line of counts per interval.
    pub unwanted_log_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_server_transactions: 10_000,
            source_rate: 20,
            source_burst: 100,
            max_sources: 10_000,
            unwanted_log_interval: Duration::from_secs(10),
        }
    }
}

/// Counters a driver may report.
#[derive(Debug, Clone, Copy, Default)]
pub struct EndpointStats {
    /// SIP messages received and parsed.
    pub messages_in: u64,
    /// Datagrams or frames that did not parse (answered 400 or dropped).
    pub malformed_in: u64,
    /// Messages handed to the driver for sending.
    pub messages_out: u64,
    /// Responses and requests that matched no transaction, dialog or call.
    pub stray_in: u64,
    /// Requests from outside our dialogs refused (INVITE, REGISTER, an unknown dialog).
    pub refused_in: u64,
    /// Requests dropped unanswered: their source was over its rate limit.
    pub rate_limited_in: u64,
    /// Requests answered 503 statelessly: the server transactions were at their bound.
    pub overloaded_in: u64,
    /// Server transactions held now.
    pub server_transactions: usize,
    /// Summary lines logged about unwanted traffic since start.
    pub unwanted_summaries: u64,
}

/// Who a client transaction works for.
#[derive(Debug, Clone, Copy)]
enum Owner {
    /// The INVITE of a call.
    Invite(CallHandle),
    /// The CANCEL of a call's INVITE.
    Cancel(CallHandle),
    /// An OPTIONS keep-alive, or the BYE of a dialog left open by a previous process.
    Probe(ProbeHandle),
    /// A qualify OPTIONS to a registered contact.
    Qualify(ProbeHandle),
    /// A server transaction, a BYE we sent (its call is over once it is sent), or one whose
    /// owner is gone.
    Nobody,
}

/// A transaction with where its messages go and who hears about it.
struct TxEntry {
    tx: Transaction,
    key: TransactionKey,
    peer: SocketAddr,
    transport: TransportKind,
    owner: Owner,
    armed: Option<Instant>,
}

/// The SIP endpoint core.
pub struct Endpoint {
    config: EndpointConfig,
    /// Boxed: the map holds tens of thousands of entries at high rates (timer M keeps each
    /// accepted INVITE 32 s) and growing it moves every entry; a pointer moves cheaply.
    transactions: FastMap<u64, Box<TxEntry>>,
    by_key: FastMap<TransactionKey, u64>,
    calls: FastMap<CallHandle, uac::UacCall>,
    dialogs: FastMap<crate::sip::dialog::DialogId, CallHandle>,
    /// Our 2xx answers to re-INVITEs over UDP still waiting for their ACK, by Call-ID and
    /// CSeq number: the ACK is a transaction of its own, matched to the answer here.
    /// The value: the answer's server transaction and the call it belongs to.
    awaiting_ack: FastMap<(String, u32), (u64, CallHandle)>,
    /// INVITE client transactions in Accepted, held in the little they need until timer M.
    accepted: parked::Parked,
    /// Non-INVITE client transactions in Completed (over UDP), the same until timer K.
    completed: parked::Parked,
    timers: TimerQueue,
    /// The timer heap's length past which its stale entries are swept out.
    timers_compact_at: usize,
    outbox: VecDeque<Transmit>,
    events: VecDeque<EndpointEvent>,
    next_id: u64,
    stats: EndpointStats,
    /// Server transactions among `transactions`: the bound of `Limits` applies to these.
    server_transactions: usize,
    limiter: SourceLimiter,
    unwanted: UnwantedLog,
    registrar: register::RegistrarState,
}

impl Endpoint {
    /// Creates an endpoint advertising the given addresses.
    pub fn new(config: EndpointConfig) -> Endpoint {
        let limits = config.limits;
        Endpoint {
            limiter: SourceLimiter::new(
                limits.source_rate,
                limits.source_burst,
                limits.max_sources,
            ),
            unwanted: UnwantedLog::new(limits.unwanted_log_interval),
            registrar: register::RegistrarState::new(config.registrar.clone()),
            server_transactions: 0,
            config,
            transactions: FastMap::default(),
            by_key: FastMap::default(),
            calls: FastMap::default(),
            dialogs: FastMap::default(),
            awaiting_ack: FastMap::default(),
            accepted: parked::Parked::default(),
            completed: parked::Parked::default(),
            timers: TimerQueue::default(),
            timers_compact_at: TIMERS_COMPACT_MIN,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            next_id: 1,
            stats: EndpointStats::default(),
        }
    }

    /// Counters since start.
    pub fn stats(&self) -> EndpointStats {
        EndpointStats {
            server_transactions: self.server_transactions,
            unwanted_summaries: self.unwanted.summaries(),
            ..self.stats
        }
    }

    /// How many calls are in progress.
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Whether a request we sent outside an INVITE (a BYE, a CANCEL, an OPTIONS) still waits
    /// for its final response: a driver shutting down lets these finish first.
    pub fn requests_pending(&self) -> bool {
        use crate::sip::transaction::ClientNonInviteState::{Proceeding, Trying};
        self.transactions.values().any(|e| {
            matches!(&e.tx, Transaction::ClientNonInvite(t) if matches!(t.state(), Trying | Proceeding))
        })
    }

    /// Feeds one received datagram (UDP) or framed message (TCP).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        from: SocketAddr,
        transport: TransportKind,
        data: &[u8],
    ) {
        if data.iter().all(|b| b.is_ascii_whitespace()) {
            return; // keep-alive
        }
        // A request outside any dialog from a stranger over its rate costs no parse.
        let screened = !self.is_trunk(from.ip()) && raw::is_out_of_dialog_request(data);
        if screened && !self.limiter.admit(now, from.ip()) {
            self.note_unwanted(now, Unwanted::RateLimited, from, "request outside a dialog");
            return;
        }
        match message::parse(data) {
            Ok(SipMessage::Request(req)) => {
                self.stats.messages_in += 1;
                self.handle_request(now, from, transport, req, screened);
            }
            Ok(SipMessage::Response(resp)) => {
                self.stats.messages_in += 1;
                self.handle_response(now, from, resp);
            }
            Err(e) => {
                let detail = format_args!("{e}: {}", unwanted::Excerpt(data));
                self.note_unwanted(now, Unwanted::Unparsable, from, detail);
                // A reply is a request's worth of the sender's rate: garbage from spoofed
                // sources is not reflected at full rate.
                if let Some(reply) = raw::bad_request_reply(data, &e.to_string()) {
                    let admitted =
                        screened || self.is_trunk(from.ip()) || self.limiter.admit(now, from.ip());
                    if admitted {
                        let to = raw::reply_destination(data, from);
                        self.push_transmit(transport, to, reply.into());
                    }
                }
            }
        }
    }

    /// The transport could not deliver to `peer` (ICMP unreachable, TCP connect refused):
    /// every client transaction towards it fails.
    pub fn handle_transport_error(&mut self, now: Instant, peer: SocketAddr) {
        let ids: Vec<u64> = self
            .transactions
            .iter()
            .filter(|(_, e)| e.peer == peer)
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            if let Some(e) = self.transactions.get_mut(&id) {
                e.tx.handle_transport_error();
            }
            self.service_tx(now, id);
        }
    }

    /// Fires every timer due at or before `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.accepted.expire(now);
        self.completed.expire(now);
        if self.timers.len() > self.timers_compact_at {
            self.compact_timers();
        }
        while let Some(wake) = self.timers.pop_due(now) {
            match wake {
                Wake::Tx(id, at) => {
                    let Some(e) = self.transactions.get_mut(&id) else {
                        continue;
                    };
                    if e.armed != Some(at) {
                        continue;
                    }
                    e.armed = None;
                    e.tx.handle_timeout(now);
                    self.service_tx(now, id);
                }
                Wake::DialTimeout(h) => self.on_dial_timeout(now, h),
                Wake::CancelGuard(h) => self.on_cancel_guard(now, h),
                Wake::UnwantedSummary => {
                    self.unwanted.summarise(now);
                }
                Wake::BindingExpiry(at) => self.on_binding_expiry(now, at),
                Wake::Qualify => self.on_qualify(now),
            }
        }
    }

    /// The next instant at which `handle_timeout` has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.timers.next_deadline(),
            self.accepted.next_deadline(),
            self.completed.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Sweeps out of the timer heap the entries that would wake nothing: a transaction's timer
    /// re-armed or ended, the dial timeout of a call answered or over. Each is small, but a call
    /// leaves several behind for up to 32 s (timers B and F, its dial timeout), which at high
    /// call rates outweighs what the call itself still holds.
    fn compact_timers(&mut self) {
        let (transactions, calls) = (&self.transactions, &self.calls);
        let expiry_armed = self.registrar.expiry_armed();
        self.timers.retain(|wake| match wake {
            Wake::Tx(id, at) => transactions.get(id).is_some_and(|e| e.armed == Some(*at)),
            Wake::DialTimeout(h) => calls.get(h).is_some_and(|c| c.is_inviting()),
            Wake::CancelGuard(h) => calls.contains_key(h),
            Wake::UnwantedSummary => true,
            Wake::BindingExpiry(at) => expiry_armed == Some(*at),
            Wake::Qualify => true,
        });
        self.timers_compact_at = (self.timers.len() * 2).max(TIMERS_COMPACT_MIN);
    }

    /// The next message to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.outbox.pop_front()
    }

    /// The next event for the layers above.
    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }

    /// Sends an OPTIONS to `uri` at `peer` (trunk keep-alive); the answer comes back as
    /// [`EndpointEvent::Probe`].
    pub fn probe(
        &mut self,
        now: Instant,
        uri: &str,
        peer: SocketAddr,
        transport: TransportKind,
    ) -> Result<ProbeHandle, crate::sip::build::BuildError> {
        let handle = ProbeHandle(self.fresh_id());
        let req = uac::options_request(self, uri, transport)?;
        self.start_client_tx(now, req, peer, transport, Owner::Probe(handle));
        Ok(handle)
    }

    /// Whether `ip` is one of our trunks'.
    fn is_trunk(&self, ip: IpAddr) -> bool {
        self.config.trunks.contains(&ip)
    }

    /// Counts a message we refuse or drop, for the next summary line and the stats.
    fn note_unwanted(
        &mut self,
        now: Instant,
        kind: Unwanted,
        from: SocketAddr,
        detail: impl std::fmt::Display,
    ) {
        let counter = match kind {
            Unwanted::Unparsable => &mut self.stats.malformed_in,
            Unwanted::Refused => &mut self.stats.refused_in,
            Unwanted::Stray => &mut self.stats.stray_in,
            Unwanted::RateLimited => &mut self.stats.rate_limited_in,
            Unwanted::Overloaded => &mut self.stats.overloaded_in,
        };
        *counter += 1;
        if let Some(at) = self.unwanted.record(now, kind, from, detail) {
            self.timers.push(at, Wake::UnwantedSummary);
        }
    }

    fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn push_transmit(&mut self, transport: TransportKind, destination: SocketAddr, payload: Bytes) {
        self.stats.messages_out += 1;
        self.outbox.push_back(Transmit {
            transport,
            destination,
            payload,
        });
    }

    /// `SIP/2.0/UDP host:port;rport` for our side of `transport`, without branch.
    fn via_sent_by(&self, transport: TransportKind) -> String {
        let addr = self.local_addr(transport);
        format!("SIP/2.0/{} {addr};rport", transport.via_token())
    }

    fn local_addr(&self, transport: TransportKind) -> SocketAddr {
        let addr = match transport {
            TransportKind::Udp => self.config.udp.or(self.config.tcp),
            TransportKind::Tcp => self.config.tcp.or(self.config.udp),
        };
        addr.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 5060)))
    }

    fn start_client_tx(
        &mut self,
        now: Instant,
        req: Request,
        peer: SocketAddr,
        transport: TransportKind,
        owner: Owner,
    ) -> u64 {
        let branch = message::top_via_branch(&req.headers).unwrap_or_default();
        let key = TransactionKey::client(branch, &req.method.to_string());
        let reliable = transport.is_reliable();
        let timers = self.config.timers;
        let tx = if req.method == message::Method::Invite {
            Transaction::ClientInvite(crate::sip::transaction::ClientInvite::new(
                now, req, reliable, timers,
            ))
        } else {
            Transaction::ClientNonInvite(crate::sip::transaction::ClientNonInvite::new(
                now, req, reliable, timers,
            ))
        };
        self.insert_tx(now, key, tx, peer, transport, owner)
    }

    fn insert_tx(
        &mut self,
        now: Instant,
        key: TransactionKey,
        tx: Transaction,
        peer: SocketAddr,
        transport: TransportKind,
        owner: Owner,
    ) -> u64 {
        let id = self.fresh_id();
        if key.role == Role::Server {
            self.server_transactions += 1;
        }
        self.by_key.insert(key.clone(), id);
        self.transactions.insert(
            id,
            Box::new(TxEntry {
                tx,
                key,
                peer,
                transport,
                owner,
                armed: None,
            }),
        );
        self.service_tx(now, id);
        id
    }

    /// Drains a transaction after any input: transmits out, timer re-armed, events to its owner,
    /// and the transaction dropped once terminated.
    fn service_tx(&mut self, now: Instant, id: u64) {
        let mut events = Vec::new();
        let owner;
        // A 2xx to a re-INVITE whose transaction ended before its ACK came.
        let mut unacknowledged = None;
        {
            let Some(e) = self.transactions.get_mut(&id) else {
                return;
            };
            owner = e.owner;
            while let Some(payload) = e.tx.poll_transmit() {
                self.stats.messages_out += 1;
                self.outbox.push_back(Transmit {
                    transport: e.transport,
                    destination: e.peer,
                    payload,
                });
            }
            while let Some(ev) = e.tx.poll_event() {
                events.push(ev);
            }
            let next = e.tx.poll_timeout();
            let parked = match (&e.tx, next) {
                (Transaction::ClientInvite(t), Some(until))
                    if t.state() == crate::sip::transaction::ClientInviteState::Accepted =>
                {
                    Some((&mut self.accepted, until))
                }
                (Transaction::ClientNonInvite(t), Some(until))
                    if t.state() == crate::sip::transaction::ClientNonInviteState::Completed =>
                {
                    Some((&mut self.completed, until))
                }
                _ => None,
            };
            if let Some((parked, until)) = parked {
                {
                    // From here on it only needs its branch, its call and its last timer.
                    let owner_now = e.owner;
                    let owner = match e.owner {
                        Owner::Invite(h) => Some(h),
                        _ => None,
                    };
                    parked.park(&e.key.branch, owner, until);
                    let key = e.key.clone();
                    self.transactions.remove(&id);
                    if self.by_key.get(&key) == Some(&id) {
                        self.by_key.remove(&key);
                    }
                    for ev in events {
                        self.dispatch_tx_event(now, owner_now, ev);
                    }
                    return;
                }
            }
            if next != e.armed {
                e.armed = next;
                if let Some(at) = next {
                    self.timers.push(at, Wake::Tx(id, at));
                }
            }
            if e.tx.is_terminated() {
                let key = e.key.clone();
                self.transactions.remove(&id);
                if key.role == Role::Server {
                    self.server_transactions -= 1;
                }
                if !self.awaiting_ack.is_empty() {
                    self.awaiting_ack.retain(|_, (tx, call)| {
                        if *tx == id {
                            unacknowledged = Some(*call);
                        }
                        *tx != id
                    });
                }
                if self.by_key.get(&key) == Some(&id) {
                    self.by_key.remove(&key);
                }
            }
        }
        for ev in events {
            self.dispatch_tx_event(now, owner, ev);
        }
        if let Some(call) = unacknowledged {
            self.on_reinvite_unacknowledged(now, call);
        }
    }

    fn dispatch_tx_event(&mut self, now: Instant, owner: Owner, ev: TransactionEvent) {
        match owner {
            Owner::Invite(h) => self.on_invite_event(now, h, ev),
            Owner::Cancel(h) => self.on_cancel_event(now, h, ev),
            Owner::Probe(p) => match ev {
                TransactionEvent::Response(r) if r.status_code.code() >= 200 => self
                    .events
                    .push_back(EndpointEvent::Probe(p, Some(r.status_code.code()))),
                TransactionEvent::Timeout | TransactionEvent::TransportError => {
                    self.events.push_back(EndpointEvent::Probe(p, None))
                }
                _ => {}
            },
            Owner::Qualify(p) => match ev {
                TransactionEvent::Response(r) if r.status_code.code() >= 200 => {
                    self.on_qualify_answer(now, p, true)
                }
                TransactionEvent::Timeout | TransactionEvent::TransportError => {
                    self.on_qualify_answer(now, p, false)
                }
                _ => {}
            },
            Owner::Nobody => {}
        }
    }

    fn handle_response(&mut self, now: Instant, from: SocketAddr, resp: Response) {
        let key = match (
            message::top_via_branch(&resp.headers),
            message::cseq(&resp.headers),
        ) {
            (Some(b), Some((_, m))) => TransactionKey::client(b, m),
            _ => {
                self.note_unwanted(
                    now,
                    Unwanted::Stray,
                    from,
                    "response without Via branch or CSeq",
                );
                return;
            }
        };
        match self.by_key.get(&key).copied() {
            None if key.method == "INVITE" => match self.accepted.find(&key.branch) {
                // RFC 6026 §7.2: a 2xx goes up (its call re-sends the ACK); anything else for
                // an accepted INVITE is absorbed.
                Some(owner) => {
                    if resp.status_code.code() / 100 == 2 {
                        self.dispatch_tx_event(
                            now,
                            owner_of_events(owner),
                            TransactionEvent::Response(resp),
                        );
                    }
                }
                None => self.on_stray_response(now, from, resp),
            },
            // A retransmitted answer to a request of ours already answered: absorbed.
            None if self.completed.find(&key.branch).is_some() => {}
            Some(id) => {
                if let Some(e) = self.transactions.get_mut(&id) {
                    if let Transaction::ClientInvite(t) = &mut e.tx {
                        t.handle_response(now, resp);
                    } else if let Transaction::ClientNonInvite(t) = &mut e.tx {
                        t.handle_response(now, resp);
                    }
                }
                self.service_tx(now, id);
            }
            None => self.on_stray_response(now, from, resp),
        }
    }
}

/// The timer heap is never swept below this length (smaller in tests, to sweep sooner).
#[cfg(not(test))]
const TIMERS_COMPACT_MIN: usize = 4096;
#[cfg(test)]
const TIMERS_COMPACT_MIN: usize = 256;

/// Who hears the events of a parked INVITE transaction.
fn owner_of_events(owner: Option<CallHandle>) -> Owner {
    owner.map_or(Owner::Nobody, Owner::Invite)
}

/// The default dial timeout when a caller gives none.
pub const DEFAULT_DIAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Credentials re-exported for callers building a [`CallSpec`].
pub type TrunkCredentials = Credentials;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod flood_tests;

#[cfg(test)]
mod register_tests;
