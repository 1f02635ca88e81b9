//! The demo's agents: softphones on loopback (real SIP over UDP) that register as their agent
//! with its username and password (digest, as any softphone does), answer the calls the queue
//! sends them, talk for a few seconds (a 20 ms G.711 µ-law tone) while counting what they hear
//! back, and hang up.

use crate::domain::Username;
use crate::sip::auth::{authorization, pick_challenge, Credentials};
use crate::sip::build;
use crate::sip::message::{self, headers, Header, Method, Request, Response, SipMessage};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;

/// Registration attempts per REGISTER before giving up (loopback loses nothing, but the node
/// may be busy starting).
const REGISTER_TRIES: u32 = 4;
/// How long a phone waits for each answer to its REGISTER.
const REGISTER_WAIT: Duration = Duration::from_millis(500);
/// The binding a phone asks for: longer than any demo.
const EXPIRES_SECS: u32 = 600;
/// BYEs sent before the phone stops waiting for their 200.
const BYE_TRIES: u32 = 3;
/// Samples in one 20 ms packet at 8 kHz.
const SAMPLES: usize = 160;

/// What one phone did, as it saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PhoneFigures {
    /// Calls it answered.
    pub answered: u64,
    /// RTP packets it sent while talking.
    pub rtp_sent: u64,
    /// RTP packets it heard back.
    pub rtp_heard: u64,
}

/// How a phone behaves on a call.
#[derive(Debug, Clone, Copy)]
pub struct PhoneConfig {
    /// Ringing before it answers.
    pub ring: Duration,
    /// The shortest talk; each call talks between this and `talk_max`.
    pub talk_min: Duration,
    /// The longest talk.
    pub talk_max: Duration,
}

/// Why a phone could not register.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    /// Its socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The registrar answered none of the REGISTERs.
    #[error("the registrar did not answer")]
    NoAnswer,
    /// The registrar said no.
    #[error("the registrar refused with {0}")]
    Refused(u16),
    /// The challenge offered no algorithm the phone speaks.
    #[error("the registrar's challenge cannot be answered")]
    Challenge,
}

/// A registered phone, answering calls until the runtime stops.
#[derive(Debug, Clone)]
pub struct Phone {
    /// The agent it registered as.
    pub username: Username,
    figures: Arc<Mutex<PhoneFigures>>,
}

impl Phone {
    /// What it did so far.
    pub fn figures(&self) -> PhoneFigures {
        *lock(&self.figures)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// Registers `username` with `password` at `registrar` from a new loopback socket, answering
/// the digest challenge, and then answers the calls that come to it.
pub async fn register(
    registrar: SocketAddr,
    username: &Username,
    password: &str,
    config: PhoneConfig,
) -> Result<Phone, PhoneError> {
    let socket = Arc::new(UdpSocket::bind(SocketAddr::new(registrar.ip(), 0)).await?);
    let me = socket.local_addr()?;
    let line = RegisterLine {
        registrar,
        me,
        user: username.as_str().to_string(),
        call_id: format!("{}@{}", build::new_call_id(), me.ip()),
        tag: build::new_tag(),
    };
    let challenge = line.transact(&socket, 1, None).await?;
    let code = build::status(&challenge);
    let answer = if code == 401 {
        let offered = challenge.headers.iter().filter_map(|h| match h {
            Header::WwwAuthenticate(v) => Some(v.value()),
            _ => None,
        });
        let chosen = pick_challenge(offered).ok_or(PhoneError::Challenge)?;
        let creds = Credentials {
            username: line.user.clone(),
            password: password.to_string(),
        };
        let value = authorization(
            &chosen,
            &creds,
            "REGISTER",
            &line.uri(),
            1,
            &build::random_token(12),
        );
        line.transact(&socket, 2, Some(&value)).await?
    } else {
        challenge
    };
    match build::status(&answer) {
        200..=299 => {}
        code => return Err(PhoneError::Refused(code)),
    }
    let phone = Phone {
        username: username.clone(),
        figures: Arc::default(),
    };
    let answering = Answering {
        socket,
        me,
        config,
        figures: phone.figures.clone(),
        calls: Arc::default(),
    };
    tokio::spawn(answering.run());
    Ok(phone)
}

/// One phone's registration: the same Call-ID and From tag for every REGISTER.
struct RegisterLine {
    registrar: SocketAddr,
    me: SocketAddr,
    user: String,
    call_id: String,
    tag: String,
}

impl RegisterLine {
    fn uri(&self) -> String {
        format!("sip:{}", self.registrar)
    }

    /// Sends REGISTER number `cseq` (with `authorization` when given) until a final response
    /// to it arrives.
    async fn transact(
        &self,
        socket: &UdpSocket,
        cseq: u32,
        authorization: Option<&str>,
    ) -> Result<Response, PhoneError> {
        let (user, host, me) = (&self.user, self.registrar.ip(), self.me);
        let auth = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        let text = format!(
            "REGISTER {} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={};rport\r\nMax-Forwards: 70\r\n\
             From: <sip:{user}@{host}>;tag={}\r\nTo: <sip:{user}@{host}>\r\nCall-ID: {}\r\n\
             CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{me}>\r\nExpires: {EXPIRES_SECS}\r\n\
             {auth}User-Agent: ringmaster demo agent\r\nContent-Length: 0\r\n\r\n",
            self.uri(),
            build::new_branch(),
            self.tag,
            self.call_id,
        );
        let mut buf = vec![0u8; 65536];
        for _ in 0..REGISTER_TRIES {
            socket.send_to(text.as_bytes(), self.registrar).await?;
            let deadline = tokio::time::Instant::now() + REGISTER_WAIT;
            while let Ok(got) = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await
            {
                let (n, _) = got?;
                if let Ok(SipMessage::Response(r)) = message::parse(&buf[..n]) {
                    let ours = message::cseq(&r.headers) == Some((cseq, "REGISTER"));
                    if ours && build::status(&r) >= 200 {
                        return Ok(r);
                    }
                }
            }
        }
        Err(PhoneError::NoAnswer)
    }
}

/// A call the phone was offered.
struct Offered {
    invite: Request,
    /// Where the INVITE came from (the node): everything in the dialog goes back there.
    from: SocketAddr,
    tag: String,
    answered: bool,
    /// Still up: neither side has hung up.
    open: bool,
}

/// The phone once registered: one task reading its SIP socket, one more per call it talks on.
struct Answering {
    socket: Arc<UdpSocket>,
    me: SocketAddr,
    config: PhoneConfig,
    figures: Arc<Mutex<PhoneFigures>>,
    calls: Arc<Mutex<HashMap<String, Offered>>>,
}

impl Answering {
    async fn run(self) {
        let this = Arc::new(self);
        let mut buf = vec![0u8; 65536];
        loop {
            let Ok((n, from)) = this.socket.recv_from(&mut buf).await else {
                return;
            };
            match message::parse(&buf[..n]) {
                Ok(SipMessage::Request(req)) => this.request(req, from).await,
                Ok(SipMessage::Response(resp)) => this.response(&resp),
                Err(_) => {}
            }
        }
    }

    async fn send(&self, to: SocketAddr, msg: impl std::fmt::Display) {
        let _ = self.socket.send_to(msg.to_string().as_bytes(), to).await;
    }

    async fn request(self: &Arc<Self>, req: Request, from: SocketAddr) {
        let call_id = message::call_id(&req.headers)
            .unwrap_or_default()
            .to_string();
        match req.method {
            Method::Invite => {
                let tag = {
                    let mut calls = lock(&self.calls);
                    if calls.contains_key(&call_id) {
                        return; // a retransmission: the answer is on its way
                    }
                    let tag = build::new_tag();
                    calls.insert(
                        call_id.clone(),
                        Offered {
                            invite: req.clone(),
                            from,
                            tag: tag.clone(),
                            answered: false,
                            open: true,
                        },
                    );
                    tag
                };
                self.send(from, build::response(&req, 180, Some(&tag), vec![], vec![]))
                    .await;
                tokio::spawn(self.clone().answer(call_id));
            }
            Method::Cancel => {
                self.send(from, build::response(&req, 200, None, vec![], vec![]))
                    .await;
                let cancelled = match lock(&self.calls).get_mut(&call_id) {
                    Some(c) if !c.answered => {
                        c.open = false;
                        Some((c.invite.clone(), c.tag.clone()))
                    }
                    _ => None,
                };
                if let Some((invite, tag)) = cancelled {
                    self.send(
                        from,
                        build::response(&invite, 487, Some(&tag), vec![], vec![]),
                    )
                    .await;
                }
            }
            Method::Bye => {
                if let Some(c) = lock(&self.calls).get_mut(&call_id) {
                    c.open = false;
                }
                self.send(from, build::response(&req, 200, None, vec![], vec![]))
                    .await;
            }
            Method::Ack => {}
            // OPTIONS (the registrar qualifying the contact) and anything else: fine.
            _ => {
                self.send(from, build::response(&req, 200, None, vec![], vec![]))
                    .await
            }
        }
    }

    /// A 200 to the BYE the phone sent: the call is over.
    fn response(&self, resp: &Response) {
        if matches!(message::cseq(&resp.headers), Some((_, "BYE"))) {
            let call_id = message::call_id(&resp.headers).unwrap_or_default();
            lock(&self.calls).remove(call_id);
        }
    }

    fn is_open(&self, call_id: &str) -> bool {
        lock(&self.calls).get(call_id).is_some_and(|c| c.open)
    }

    /// Rings, answers with its own media address, talks, hangs up.
    async fn answer(self: Arc<Self>, call_id: String) {
        tokio::time::sleep(self.config.ring).await;
        let Ok(rtp) = UdpSocket::bind(SocketAddr::new(self.me.ip(), 0)).await else {
            return;
        };
        let Ok(media) = rtp.local_addr() else {
            return;
        };
        let (invite, from, tag) = {
            let mut calls = lock(&self.calls);
            match calls.get_mut(&call_id) {
                Some(c) if c.open => {
                    c.answered = true;
                    (c.invite.clone(), c.from, c.tag.clone())
                }
                _ => return,
            }
        };
        let Ok(remote) = crate::sdp::parse_answer(&invite.body) else {
            // No audio we can take: refuse rather than answer mute.
            lock(&self.calls).remove(&call_id);
            self.send(
                from,
                build::response(&invite, 488, Some(&tag), vec![], vec![]),
            )
            .await;
            return;
        };
        let sdp = crate::sdp::offer(media.ip(), media.port(), 1).into_bytes();
        let extra: Vec<Header> = vec![
            headers::Contact::new(format!("<sip:agent@{}>", self.me)).into(),
            headers::ContentType::new("application/sdp").into(),
        ];
        self.send(from, build::response(&invite, 200, Some(&tag), extra, sdp))
            .await;
        lock(&self.figures).answered += 1;
        let span = self.config.talk_max.saturating_sub(self.config.talk_min);
        let talk = self.config.talk_min + span.mul_f64(rand::random::<f64>());
        self.talk(&call_id, &rtp, remote.addr, talk).await;
        for _ in 0..BYE_TRIES {
            if !self.is_open(&call_id) {
                break;
            }
            self.send(from, bye(&invite, &tag, self.me)).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        lock(&self.calls).remove(&call_id);
    }

    /// Sends a 400 Hz tone in 20 ms PCMU packets to `to` for `talk` (or until the node hangs
    /// up), counting the packets that come back.
    async fn talk(&self, call_id: &str, rtp: &UdpSocket, to: SocketAddr, talk: Duration) {
        let tone = tone();
        let ssrc = rand::random::<u32>();
        let mut packet = [0u8; 12 + SAMPLES];
        packet[12..].copy_from_slice(&tone);
        let mut tick = tokio::time::interval(Duration::from_millis(20));
        let end = tokio::time::Instant::now() + talk;
        let mut buf = [0u8; 2048];
        let (mut seq, mut timestamp) = (rand::random::<u16>(), rand::random::<u32>());
        while tokio::time::Instant::now() < end && self.is_open(call_id) {
            tokio::select! {
                _ = tick.tick() => {
                    packet[0] = 0x80;
                    packet[1] = 0; // PCMU
                    packet[2..4].copy_from_slice(&seq.to_be_bytes());
                    packet[4..8].copy_from_slice(&timestamp.to_be_bytes());
                    packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
                    if rtp.send_to(&packet, to).await.is_ok() {
                        lock(&self.figures).rtp_sent += 1;
                    }
                    seq = seq.wrapping_add(1);
                    timestamp = timestamp.wrapping_add(SAMPLES as u32);
                }
                got = rtp.recv_from(&mut buf) => {
                    if matches!(got, Ok((n, _)) if n > 12) {
                        lock(&self.figures).rtp_heard += 1;
                    }
                }
            }
        }
    }
}

/// One 20 ms packet of a 400 Hz tone in µ-law: exactly eight periods, so packets repeat it
/// seamlessly.
fn tone() -> [u8; SAMPLES] {
    let mut out = [0u8; SAMPLES];
    for (i, o) in out.iter_mut().enumerate() {
        let phase = i as f64 * 400.0 / 8000.0 * std::f64::consts::TAU;
        *o = crate::media::g711::linear_to_ulaw((phase.sin() * 6000.0) as i16);
    }
    out
}

/// The BYE ending the call `invite` set up, from the answering side: to the caller's Contact,
/// with From and To swapped.
fn bye(invite: &Request, tag: &str, me: SocketAddr) -> String {
    let header = |pick: fn(&Header) -> Option<String>| {
        invite.headers.iter().find_map(pick).unwrap_or_default()
    };
    let contact = header(|h| match h {
        Header::Contact(c) => Some(c.value().to_string()),
        _ => None,
    });
    let target = contact
        .split(['<', '>'])
        .find(|p| p.starts_with("sip:"))
        .unwrap_or(contact.as_str())
        .to_string();
    let their_from = header(|h| match h {
        Header::From(f) => Some(f.value().to_string()),
        _ => None,
    });
    let their_to = header(|h| match h {
        Header::To(t) => Some(t.value().to_string()),
        _ => None,
    });
    format!(
        "BYE {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch={};rport\r\nMax-Forwards: 70\r\n\
         From: {their_to};tag={tag}\r\nTo: {their_from}\r\nCall-ID: {}\r\nCSeq: 1 BYE\r\n\
         Content-Length: 0\r\n\r\n",
        build::new_branch(),
        message::call_id(&invite.headers).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tone_is_loud_and_repeats_without_a_step() {
        let t = tone();
        let law = crate::media::g711::Codec::Pcmu;
        let peak = t.iter().map(|&b| law.decode(b).unsigned_abs()).max();
        assert!(peak.is_some_and(|p| p > 5000), "{peak:?}");
        // The last sample leads into the first as any two neighbours do.
        let (first, last) = (law.decode(t[0]), law.decode(t[SAMPLES - 1]));
        assert!((i32::from(first) - i32::from(last)).abs() < 2500);
    }

    #[test]
    fn the_bye_goes_to_the_callers_contact_with_from_and_to_swapped() {
        let invite = "INVITE sip:alice@127.0.0.1:6000 SIP/2.0\r\n\
            Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx\r\n\
            From: <sip:+15550001@127.0.0.1>;tag=rm1\r\nTo: <sip:alice@127.0.0.1:6000>\r\n\
            Call-ID: abc@127.0.0.1\r\nCSeq: 1 INVITE\r\nContact: <sip:rm@127.0.0.1:5060>\r\n\
            Content-Length: 0\r\n\r\n";
        let Ok(SipMessage::Request(invite)) = message::parse(invite.as_bytes()) else {
            panic!("an INVITE");
        };
        let text = bye(&invite, "ph1", "127.0.0.1:6000".parse().expect("addr"));
        let Ok(SipMessage::Request(bye)) = message::parse(text.as_bytes()) else {
            panic!("a BYE: {text}");
        };
        assert_eq!(bye.uri.to_string(), "sip:rm@127.0.0.1:5060");
        assert!(text.contains("From: <sip:alice@127.0.0.1:6000>;tag=ph1\r\n"));
        assert!(text.contains("To: <sip:+15550001@127.0.0.1>;tag=rm1\r\n"));
        assert_eq!(message::call_id(&bye.headers), Some("abc@127.0.0.1"));
    }
}
