//! The registrar (RFC 3261 §10.3): agents' softphones REGISTER with digest authentication and
//! the registrar keeps where each agent can be reached. Pure: `handle(now, request, source)`
//! returns the answer and the change of bindings; expiry and qualify are driven by `now`.
//!
//! What is checked, in order: the source is not locked out after too many failures; the
//! request carries an answer to our challenge (else 401); the nonce is ours, for this source
//! and fresh (else 401, `stale=true` when only its age is wrong); the realm, user, URI and
//! digest are right (else 403, counted as a failure of the source); the To user is the
//! authenticated user (else 403); then the Contacts (RFC 3261 §10.3 steps 6 to 8).

use crate::domain::sip_uri::SipUri;
use crate::sip::auth::Algorithm;
use crate::sip::digest_server::{self, DigestAnswer, NonceCheck, NonceKey};
use crate::sip::message::{self, headers, Header, Request};
use crate::sip::uri::TransportKind;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Contacts one user may hold at once; a REGISTER adding more is refused 403.
pub const MAX_CONTACTS_PER_USER: usize = 10;
/// Source IPs whose failures are counted apart; past it the oldest records are forgotten.
const MAX_FAILURE_SOURCES: usize = 10_000;
/// Qualify OPTIONS a contact may leave unanswered in a row before it is removed.
const QUALIFY_MISSES: u8 = 2;

/// What the registrar enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// The protection space of our challenges (`[sip] realm`).
    pub realm: String,
    /// Shorter registrations are refused `423 Interval Too Brief`.
    pub min_expires: u32,
    /// Longer registrations are granted this long.
    pub max_expires: u32,
    /// How long a nonce we issued stays fresh.
    pub nonce_lifetime: Duration,
    /// Failed attempts from one source IP within `failure_window` that lock it out.
    pub max_failures: u32,
    /// The window failures are counted in.
    pub failure_window: Duration,
    /// How long a source is answered 403 without any check once locked out.
    pub lockout: Duration,
    /// Every bound contact is sent OPTIONS this often (zero: never).
    pub qualify_interval: Duration,
    /// The digest algorithms challenged with, in this order (one `WWW-Authenticate` each);
    /// an answer with another is refused. Default SHA-256 then MD5; MD5 alone for clients
    /// that read only the first challenge and know no SHA-256.
    pub algorithms: Vec<Algorithm>,
}

/// The realm challenged with unless `[sip] realm` says otherwise.
pub const DEFAULT_REALM: &str = "ringmaster";

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            realm: DEFAULT_REALM.into(),
            min_expires: 60,
            max_expires: 3600,
            nonce_lifetime: Duration::from_secs(30),
            max_failures: 10,
            failure_window: Duration::from_secs(60),
            lockout: Duration::from_secs(300),
            qualify_interval: Duration::from_secs(30),
            algorithms: digest_server::OFFERED.to_vec(),
        }
    }
}

/// Who may register as `username`: never the password, only its two HA1 digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The agent the user name belongs to.
    pub owner: Uuid,
    /// The user name (the address of record).
    pub username: String,
    /// `MD5(username:realm:password)`, lower-case hex.
    pub ha1_md5: String,
    /// `SHA-256(username:realm:password)`, lower-case hex.
    pub ha1_sha256: String,
}

impl Credential {
    /// Derives the stored digests from a password.
    pub fn from_password(owner: Uuid, username: &str, realm: &str, password: &str) -> Credential {
        Credential {
            owner,
            username: username.to_string(),
            ha1_md5: digest_server::ha1(Algorithm::Md5, username, realm, password),
            ha1_sha256: digest_server::ha1(Algorithm::Sha256, username, realm, password),
        }
    }

    fn ha1(&self, alg: Algorithm) -> Option<&str> {
        match alg {
            Algorithm::Md5 => Some(&self.ha1_md5),
            Algorithm::Sha256 => Some(&self.ha1_sha256),
            Algorithm::Md5Sess | Algorithm::Sha256Sess => None,
        }
    }
}

/// One place an agent can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The Contact URI the softphone registered.
    pub contact: SipUri,
    /// Where the REGISTER came from: requests to this contact go here (through any NAT).
    pub flow: SocketAddr,
    /// The transport the REGISTER came over.
    pub transport: TransportKind,
    /// When the binding lapses unless refreshed.
    pub expires_at: Instant,
    /// RFC 3261 §10.3 step 7: the Call-ID and CSeq of the REGISTER that last set it.
    pub call_id: String,
    /// See `call_id`.
    pub cseq: u32,
    /// Qualify OPTIONS unanswered in a row.
    missed: u8,
}

impl Binding {
    /// Seconds left at `now`.
    pub fn remaining(&self, now: Instant) -> u64 {
        self.expires_at.saturating_duration_since(now).as_secs()
    }
}

/// The whole current set of bindings of a user after a change (empty: offline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The agent.
    pub owner: Uuid,
    /// The user name.
    pub username: String,
    /// Its contacts now.
    pub contacts: Vec<Binding>,
}

/// The answer to one REGISTER.
#[derive(Debug, Clone)]
pub struct RegisterOutcome {
    /// The status code.
    pub code: u16,
    /// Headers to add to the response (WWW-Authenticate, Contact, Min-Expires).
    pub headers: Vec<Header>,
    /// The user's bindings after the request, when it added or removed any.
    pub change: Option<Registration>,
    /// Why it was refused, when it counts as unwanted traffic (failed authentication, locked
    /// out source).
    pub refused: Option<&'static str>,
    /// Whether to answer once and keep nothing (a locked-out source: its requests must cost
    /// no transaction).
    pub stateless: bool,
}

impl RegisterOutcome {
    fn plain(code: u16) -> RegisterOutcome {
        RegisterOutcome {
            code,
            headers: Vec::new(),
            change: None,
            refused: None,
            stateless: false,
        }
    }

    fn refused(code: u16, why: &'static str) -> RegisterOutcome {
        RegisterOutcome {
            refused: Some(why),
            ..RegisterOutcome::plain(code)
        }
    }
}

/// A contact to send a qualify OPTIONS to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualifyTarget {
    /// The user it is bound to.
    pub username: String,
    /// The Contact URI (the OPTIONS Request-URI).
    pub contact: SipUri,
    /// Where to send it.
    pub flow: SocketAddr,
    /// Over what.
    pub transport: TransportKind,
}

/// Failed attempts of one source.
#[derive(Debug, Clone, Copy)]
struct Failures {
    window_start: Instant,
    count: u32,
    locked_until: Option<Instant>,
}

/// The registrar: credentials, bindings and failure counts.
#[derive(Debug)]
pub struct Registrar {
    config: RegistrarConfig,
    key: NonceKey,
    /// The instant nonce timestamps count from (the first one seen).
    epoch: Option<Instant>,
    credentials: HashMap<String, Credential>,
    bindings: HashMap<String, Vec<Binding>>,
    failures: HashMap<IpAddr, Failures>,
}

/// One Contact of a REGISTER, read and checked before anything changes.
struct ContactRequest {
    contact: SipUri,
    expires: u32,
}

impl Registrar {
    /// A registrar signing its nonces with `key`.
    pub fn new(config: RegistrarConfig, key: NonceKey) -> Registrar {
        Registrar {
            config,
            key,
            epoch: None,
            credentials: HashMap::new(),
            bindings: HashMap::new(),
            failures: HashMap::new(),
        }
    }

    /// What it enforces.
    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    /// Adds or replaces a credential. Bindings of a user whose agent changed are dropped.
    pub fn set_credential(&mut self, credential: Credential) -> Option<Registration> {
        let username = credential.username.clone();
        let owner = credential.owner;
        let previous = self.credentials.insert(username.clone(), credential)?;
        if previous.owner == owner {
            return None;
        }
        let dropped = self.bindings.remove(&username)?;
        (!dropped.is_empty()).then_some(Registration {
            owner: previous.owner,
            username,
            contacts: Vec::new(),
        })
    }

    /// Removes a credential and the user's bindings; the change, if the user was bound.
    pub fn remove_credential(&mut self, username: &str) -> Option<Registration> {
        let previous = self.credentials.remove(username)?;
        let dropped = self.bindings.remove(username)?;
        (!dropped.is_empty()).then_some(Registration {
            owner: previous.owner,
            username: username.to_string(),
            contacts: Vec::new(),
        })
    }

    /// The current bindings of `username`.
    pub fn bindings(&self, username: &str) -> Vec<Binding> {
        self.bindings.get(username).cloned().unwrap_or_default()
    }

    /// Answers a REGISTER received from `source` over `transport`.
    pub fn handle(
        &mut self,
        now: Instant,
        req: &Request,
        source: SocketAddr,
        transport: TransportKind,
    ) -> RegisterOutcome {
        let ip = source.ip();
        if self.locked_out(now, ip) {
            return RegisterOutcome {
                stateless: true,
                ..RegisterOutcome::refused(403, "REGISTER from a locked-out source")
            };
        }
        let answers: Vec<&str> = req
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Authorization(v) => Some(v.value()),
                _ => None,
            })
            .collect();
        if answers.is_empty() {
            return self.challenge(now, ip, false);
        }
        // Several answers (for several realms): ours is the one for our realm.
        let parsed: Vec<DigestAnswer> = answers
            .iter()
            .filter_map(|v| DigestAnswer::parse(v).ok())
            .collect();
        let Some(answer) = parsed
            .iter()
            .find(|a| a.realm == self.config.realm)
            .or(parsed.first())
        else {
            return self.fail(now, ip, "REGISTER with an unreadable Authorization");
        };
        let issued_now = self.seconds(now);
        let lifetime = self.config.nonce_lifetime.as_secs().max(1);
        let nonce = digest_server::check_nonce(&self.key, &answer.nonce, ip, issued_now, lifetime);
        if nonce == NonceCheck::Invalid {
            // Not a failure: a nonce from before a restart, or from another address.
            return self.challenge(now, ip, false);
        }
        if answer.realm != self.config.realm {
            return self.fail(now, ip, "REGISTER for another realm");
        }
        let Some(credential) = self.credentials.get(&answer.username) else {
            return self.fail(now, ip, "REGISTER of an unknown user");
        };
        let offered = self.config.algorithms.contains(&answer.algorithm);
        let Some(ha1) = credential.ha1(answer.algorithm).filter(|_| offered) else {
            return self.fail(now, ip, "REGISTER with an algorithm not offered");
        };
        if !same_uri(&answer.uri, req) || !answer.verify("REGISTER", ha1) {
            return self.fail(now, ip, "REGISTER with wrong credentials");
        }
        if nonce == NonceCheck::Stale {
            return self.challenge(now, ip, true);
        }
        let username = answer.username.clone();
        let owner = credential.owner;
        let to_user = message::first_header(&req.headers, |h| match h {
            Header::To(v) => Some(crate::sip::uri::uri_of(v.value()).to_string()),
            _ => None,
        })
        .and_then(|uri| SipUri::parse(&uri).ok())
        .and_then(|uri| uri.user().map(str::to_string));
        if to_user.as_deref() != Some(username.as_str()) {
            return RegisterOutcome::plain(403);
        }
        self.update_bindings(now, req, &username, owner, source, transport)
    }

    /// Removes bindings expired at `now`; the users whose set changed.
    pub fn expire(&mut self, now: Instant) -> Vec<Registration> {
        let mut changes = Vec::new();
        for (username, list) in self.bindings.iter_mut() {
            let before = list.len();
            list.retain(|b| b.expires_at > now);
            if list.len() != before {
                if let Some(c) = self.credentials.get(username) {
                    changes.push(Registration {
                        owner: c.owner,
                        username: username.clone(),
                        contacts: list.clone(),
                    });
                }
            }
        }
        self.bindings.retain(|_, list| !list.is_empty());
        changes
    }

    /// When the next binding lapses.
    pub fn next_expiry(&self) -> Option<Instant> {
        self.bindings.values().flatten().map(|b| b.expires_at).min()
    }

    /// Whether any contact is bound.
    pub fn has_bindings(&self) -> bool {
        !self.bindings.is_empty()
    }

    /// Every bound contact, to send a qualify OPTIONS to.
    pub fn qualify_targets(&self) -> Vec<QualifyTarget> {
        self.bindings
            .iter()
            .flat_map(|(username, list)| {
                list.iter().map(|b| QualifyTarget {
                    username: username.clone(),
                    contact: b.contact.clone(),
                    flow: b.flow,
                    transport: b.transport,
                })
            })
            .collect()
    }

    /// A qualify OPTIONS to `contact` of `username` was answered (any final response) or not.
    /// The second miss in a row removes the contact: the change then.
    pub fn qualified(
        &mut self,
        username: &str,
        contact: &SipUri,
        answered: bool,
    ) -> Option<Registration> {
        let list = self.bindings.get_mut(username)?;
        let binding = list.iter_mut().find(|b| b.contact == *contact)?;
        if answered {
            binding.missed = 0;
            return None;
        }
        binding.missed += 1;
        if binding.missed < QUALIFY_MISSES {
            return None;
        }
        list.retain(|b| b.contact != *contact);
        let contacts = list.clone();
        if contacts.is_empty() {
            self.bindings.remove(username);
        }
        let owner = self.credentials.get(username)?.owner;
        Some(Registration {
            owner,
            username: username.to_string(),
            contacts,
        })
    }

    fn seconds(&mut self, now: Instant) -> u64 {
        let epoch = *self.epoch.get_or_insert(now);
        now.saturating_duration_since(epoch).as_secs()
    }

    fn challenge(&mut self, now: Instant, ip: IpAddr, stale: bool) -> RegisterOutcome {
        let issued = self.seconds(now);
        let nonce = digest_server::nonce(&self.key, issued, ip);
        RegisterOutcome {
            headers: digest_server::challenges(
                &self.config.realm,
                &nonce,
                stale,
                &self.config.algorithms,
            )
            .into_iter()
            .map(|v| headers::WwwAuthenticate::new(v).into())
            .collect(),
            ..RegisterOutcome::plain(401)
        }
    }

    fn locked_out(&mut self, now: Instant, ip: IpAddr) -> bool {
        let Some(f) = self.failures.get_mut(&ip) else {
            return false;
        };
        match f.locked_until {
            Some(until) if now < until => true,
            Some(_) => {
                self.failures.remove(&ip);
                false
            }
            None => false,
        }
    }

    /// Counts a failed attempt of `ip` and answers 403.
    fn fail(&mut self, now: Instant, ip: IpAddr, why: &'static str) -> RegisterOutcome {
        if self.failures.len() >= MAX_FAILURE_SOURCES && !self.failures.contains_key(&ip) {
            let window = self.config.failure_window;
            self.failures.retain(|_, f| match f.locked_until {
                Some(until) => until > now,
                None => now.saturating_duration_since(f.window_start) < window,
            });
            if self.failures.len() >= MAX_FAILURE_SOURCES {
                self.failures.clear();
            }
        }
        let f = self.failures.entry(ip).or_insert(Failures {
            window_start: now,
            count: 0,
            locked_until: None,
        });
        if now.saturating_duration_since(f.window_start) >= self.config.failure_window {
            f.window_start = now;
            f.count = 0;
        }
        f.count += 1;
        if self.config.max_failures > 0 && f.count >= self.config.max_failures {
            f.locked_until = Some(now + self.config.lockout);
            tracing::warn!(source = %ip, failures = f.count, lockout_s = self.config.lockout.as_secs(), "REGISTER source locked out after failed authentication");
        }
        RegisterOutcome::refused(403, why)
    }

    /// RFC 3261 §10.3 steps 6 to 8 for an authenticated user.
    fn update_bindings(
        &mut self,
        now: Instant,
        req: &Request,
        username: &str,
        owner: Uuid,
        source: SocketAddr,
        transport: TransportKind,
    ) -> RegisterOutcome {
        let header_expires = message::first_header(&req.headers, |h| match h {
            Header::Expires(v) => Some(v.value().trim().parse::<u32>().ok()),
            _ => None,
        });
        let header_expires = match header_expires {
            Some(None) => return RegisterOutcome::plain(400),
            Some(Some(e)) => Some(e),
            None => None,
        };
        let values: Vec<&str> = req
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Contact(v) => Some(v.value()),
                _ => None,
            })
            .flat_map(message::split_list)
            .collect();
        let call_id = message::call_id(&req.headers)
            .unwrap_or_default()
            .to_string();
        let cseq = message::cseq(&req.headers).map_or(0, |(n, _)| n);
        let mut current = self.bindings.get(username).cloned().unwrap_or_default();
        // `Contact: *` removes every binding, and only with Expires: 0 alone (step 6).
        if values.iter().any(|v| v.trim() == "*") {
            if values.len() != 1 || header_expires != Some(0) {
                return RegisterOutcome::plain(400);
            }
            if current
                .iter()
                .any(|b| b.call_id == call_id && cseq <= b.cseq)
            {
                return RegisterOutcome::plain(500);
            }
            let was_bound = !current.is_empty();
            let mut outcome = self.commit(now, username, owner, Vec::new());
            if !was_bound {
                outcome.change = None;
            }
            return outcome;
        }
        let mut requests = Vec::with_capacity(values.len());
        for value in &values {
            let Ok(contact) = SipUri::parse(crate::sip::uri::uri_of(value)) else {
                return RegisterOutcome::plain(400);
            };
            let expires = match message::name_addr_param(value, "expires") {
                Some(e) => match e.parse::<u32>() {
                    Ok(e) => e,
                    Err(_) => return RegisterOutcome::plain(400),
                },
                None => header_expires.unwrap_or(self.config.max_expires),
            };
            if expires != 0 && expires < self.config.min_expires {
                let min = self.config.min_expires.to_string();
                return RegisterOutcome {
                    headers: vec![headers::MinExpires::new(min).into()],
                    ..RegisterOutcome::plain(423)
                };
            }
            requests.push(ContactRequest {
                contact,
                expires: expires.min(self.config.max_expires),
            });
        }
        // Step 7: an older or repeated request of the same Call-ID changes nothing.
        let out_of_order = requests.iter().any(|r| {
            current
                .iter()
                .any(|b| b.contact == r.contact && b.call_id == call_id && cseq <= b.cseq)
        });
        if out_of_order {
            return RegisterOutcome::plain(500);
        }
        let before: Vec<(SipUri, SocketAddr)> = current
            .iter()
            .map(|b| (b.contact.clone(), b.flow))
            .collect();
        for r in requests {
            current.retain(|b| b.contact != r.contact);
            if r.expires > 0 {
                current.push(Binding {
                    contact: r.contact,
                    flow: source,
                    transport,
                    expires_at: now + Duration::from_secs(r.expires.into()),
                    call_id: call_id.clone(),
                    cseq,
                    missed: 0,
                });
            }
        }
        if current.len() > MAX_CONTACTS_PER_USER {
            return RegisterOutcome::plain(403);
        }
        let after: Vec<(SipUri, SocketAddr)> = current
            .iter()
            .map(|b| (b.contact.clone(), b.flow))
            .collect();
        let changed = before.len() != after.len() || before.iter().any(|b| !after.contains(b));
        let mut outcome = self.commit(now, username, owner, current);
        if !changed {
            outcome.change = None;
        }
        outcome
    }

    /// Stores `contacts` as the user's set and answers 200 listing them.
    fn commit(
        &mut self,
        now: Instant,
        username: &str,
        owner: Uuid,
        contacts: Vec<Binding>,
    ) -> RegisterOutcome {
        let headers = contacts
            .iter()
            .map(|b| {
                headers::Contact::new(format!("<{}>;expires={}", b.contact, b.remaining(now)))
                    .into()
            })
            .collect();
        match contacts.is_empty() {
            true => self.bindings.remove(username),
            false => self.bindings.insert(username.to_string(), contacts.clone()),
        };
        RegisterOutcome {
            code: 200,
            headers,
            change: Some(Registration {
                owner,
                username: username.to_string(),
                contacts,
            }),
            refused: None,
            stateless: false,
        }
    }
}

/// Whether the `uri` of a digest answer names the Request-URI (as written, or the same URI
/// written another way).
fn same_uri(answered: &str, req: &Request) -> bool {
    let request_uri = req.uri.to_string();
    answered == request_uri
        || crate::sip::message::Uri::try_from(answered).is_ok_and(|u| u == req.uri)
}

#[cfg(test)]
#[path = "registrar_tests.rs"]
mod tests;
