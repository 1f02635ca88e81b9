//! The endpoint's side of the registrar: a REGISTER is answered through a server transaction
//! (retransmissions absorbed), binding changes go up as [`EndpointEvent::Registration`],
//! bindings lapse and contacts are qualified on the endpoint's timer queue, and a failed
//! authentication is counted as unwanted traffic.

use super::timers::Wake;
use super::unwanted::Unwanted;
use super::{uac, Endpoint, EndpointEvent, Owner, ProbeHandle};
use crate::domain::sip_uri::SipUri;
use crate::fast::FastMap;
use crate::sip::digest_server::NonceKey;
use crate::sip::message::Request;
use crate::sip::registrar::{Binding, Credential, Registrar, RegistrarConfig, Registration};
use crate::sip::uri::TransportKind;
use std::net::SocketAddr;
use std::time::Instant;

/// The registrar with what the endpoint keeps for it.
pub(super) struct RegistrarState {
    registrar: Registrar,
    /// Qualify OPTIONS awaiting their answer: the user and the contact they test.
    qualifying: FastMap<ProbeHandle, (String, SipUri)>,
    /// The earliest binding expiry on the timer queue.
    expiry_armed: Option<Instant>,
    /// Whether the next round of qualify OPTIONS is on the timer queue.
    qualify_armed: bool,
}

impl RegistrarState {
    /// A registrar with a fresh nonce key.
    pub(super) fn new(config: RegistrarConfig) -> RegistrarState {
        RegistrarState {
            registrar: Registrar::new(config, NonceKey::random()),
            qualifying: FastMap::default(),
            expiry_armed: None,
            qualify_armed: false,
        }
    }

    /// The binding expiry on the timer queue that still counts (older entries wake nothing).
    pub(super) fn expiry_armed(&self) -> Option<Instant> {
        self.expiry_armed
    }
}

impl Endpoint {
    /// Answers a REGISTER from outside any dialog; `from` is where it came from (the flow
    /// requests to its contacts will take), `peer` where the response goes.
    pub(super) fn on_register(
        &mut self,
        now: Instant,
        req: Request,
        from: SocketAddr,
        peer: SocketAddr,
        transport: TransportKind,
    ) {
        let outcome = self.registrar.registrar.handle(now, &req, from, transport);
        if let Some(why) = outcome.refused {
            self.note_unwanted(now, Unwanted::Refused, from, why);
        }
        if outcome.stateless {
            self.respond_stateless(req, peer, transport, outcome.code, outcome.headers);
            return;
        }
        self.respond_non_invite(
            now,
            req,
            peer,
            transport,
            outcome.code,
            outcome.headers,
            vec![],
        );
        if let Some(change) = outcome.change {
            self.report_registration(change);
        }
        self.arm_registrar(now);
    }

    /// Adds or replaces who may register as `credential.username`.
    pub fn set_credential(&mut self, now: Instant, credential: Credential) {
        if let Some(change) = self.registrar.registrar.set_credential(credential) {
            self.report_registration(change);
        }
        self.arm_registrar(now);
    }

    /// Removes a user's credential; its bindings go with it.
    pub fn remove_credential(&mut self, username: &str) {
        if let Some(change) = self.registrar.registrar.remove_credential(username) {
            self.report_registration(change);
        }
    }

    /// The current bindings of `username`.
    pub fn bindings(&self, username: &str) -> Vec<Binding> {
        self.registrar.registrar.bindings(username)
    }

    /// A binding expiry came due (or a stale entry of one): drop what has lapsed.
    pub(super) fn on_binding_expiry(&mut self, now: Instant, at: Instant) {
        if self.registrar.expiry_armed == Some(at) {
            self.registrar.expiry_armed = None;
        }
        for change in self.registrar.registrar.expire(now) {
            self.report_registration(change);
        }
        self.arm_registrar(now);
    }

    /// Sends one qualify OPTIONS to every bound contact that has none in flight.
    pub(super) fn on_qualify(&mut self, now: Instant) {
        self.registrar.qualify_armed = false;
        for target in self.registrar.registrar.qualify_targets() {
            let key = (target.username, target.contact);
            if self.registrar.qualifying.values().any(|v| *v == key) {
                continue;
            }
            let Ok(req) = uac::options_request(self, key.1.as_str(), target.transport) else {
                continue;
            };
            let handle = ProbeHandle(self.fresh_id());
            self.start_client_tx(
                now,
                req,
                target.flow,
                target.transport,
                Owner::Qualify(handle),
            );
            self.registrar.qualifying.insert(handle, key);
        }
        self.arm_registrar(now);
    }

    /// A qualify OPTIONS ended: any final answer means the contact is alive.
    pub(super) fn on_qualify_answer(&mut self, now: Instant, handle: ProbeHandle, answered: bool) {
        let Some((username, contact)) = self.registrar.qualifying.remove(&handle) else {
            return;
        };
        let change = self
            .registrar
            .registrar
            .qualified(&username, &contact, answered);
        if let Some(change) = change {
            tracing::info!(%username, %contact, "contact removed: two qualify OPTIONS unanswered");
            self.report_registration(change);
        }
        self.arm_registrar(now);
    }

    fn report_registration(&mut self, change: Registration) {
        tracing::info!(
            username = %change.username,
            owner = %change.owner,
            contacts = change.contacts.len(),
            "registration changed"
        );
        self.events.push_back(EndpointEvent::Registration {
            owner: change.owner,
            username: change.username,
            contacts: change.contacts,
        });
    }

    /// Puts the next binding expiry and the next qualify round on the timer queue.
    fn arm_registrar(&mut self, now: Instant) {
        let state = &mut self.registrar;
        if let Some(next) = state.registrar.next_expiry() {
            if state.expiry_armed.is_none_or(|armed| next < armed) {
                state.expiry_armed = Some(next);
                self.timers.push(next, Wake::BindingExpiry(next));
            }
        }
        let interval = state.registrar.config().qualify_interval;
        if !interval.is_zero() && !state.qualify_armed && state.registrar.has_bindings() {
            state.qualify_armed = true;
            self.timers.push(now + interval, Wake::Qualify);
        }
    }
}
