//! The demo's simulated trunk: a small SIP UAS on loopback (real SIP over UDP) whose callees
//! answer, are busy, never answer, or do not exist, in a realistic mix. Callees whose number
//! starts with [`WAITING_NUMBERS`] wait for an agent: they press no key, and what they hear
//! they say back (an RTP echo), so an agent hears its own voice through the relay.

use crate::sip::build;
use crate::sip::message::{self, headers, Header, Method, Request, SipMessage};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;

/// What one simulated callee does with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// Rings for the given time, then answers.
    Answer(Duration),
    /// 486 Busy Here.
    Busy,
    /// Rings until cancelled.
    NoAnswer,
    /// 404 Not Found.
    Unknown,
    /// 503 Service Unavailable.
    Failure,
}

/// Picks a behaviour from a roll in 0..100: 62 % answer, 16 % busy, 14 % no answer, 5 %
/// unknown number, 3 % failure.
pub fn behaviour(roll: u32, ring: Duration) -> Behaviour {
    match roll % 100 {
        0..=61 => Behaviour::Answer(ring),
        62..=77 => Behaviour::Busy,
        78..=91 => Behaviour::NoAnswer,
        92..=96 => Behaviour::Unknown,
        _ => Behaviour::Failure,
    }
}

/// Numbers of callees who wait for an agent rather than press a key.
pub const WAITING_NUMBERS: &str = "+15552";

#[derive(Default)]
struct Calls {
    /// Call-ID → the INVITE and whether it got its final response.
    open: HashMap<String, (Request, bool)>,
}

/// Starts the trunk on `bind` and returns its address; it runs until the runtime stops.
pub async fn start(bind: SocketAddr) -> std::io::Result<SocketAddr> {
    let socket = Arc::new(UdpSocket::bind(bind).await?);
    let addr = socket.local_addr()?;
    let calls = Arc::new(Mutex::new(Calls::default()));
    let echo = UdpSocket::bind(SocketAddr::new(addr.ip(), 0)).await?;
    let media = Media {
        sip: addr,
        silent: SocketAddr::new(addr.ip(), addr.port().wrapping_add(1)),
        echo: echo.local_addr()?,
    };
    tokio::spawn(echo_rtp(echo));
    tokio::spawn(async move {
        let mut buf = vec![0u8; 65536];
        loop {
            let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(SipMessage::Request(req)) = message::parse(&buf[..n]) else {
                continue;
            };
            handle(&socket, &calls, req, from, media).await;
        }
    });
    Ok(addr)
}

/// Where the callees' RTP goes: nowhere (those who listen) or back where it came from (those
/// who wait for an agent).
#[derive(Debug, Clone, Copy)]
struct Media {
    /// The trunk's own SIP address.
    sip: SocketAddr,
    silent: SocketAddr,
    echo: SocketAddr,
}

/// Sends every datagram back where it came from, until the runtime stops.
async fn echo_rtp(socket: UdpSocket) {
    let mut buf = vec![0u8; 2048];
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        let _ = socket.send_to(&buf[..n], from).await;
    }
}

fn waits_for_an_agent(req: &Request) -> bool {
    req.uri
        .to_string()
        .starts_with(&format!("sip:{WAITING_NUMBERS}"))
}

fn lock(calls: &Mutex<Calls>) -> std::sync::MutexGuard<'_, Calls> {
    match calls.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

async fn send(socket: &UdpSocket, to: SocketAddr, msg: impl std::fmt::Display) {
    let _ = socket.send_to(msg.to_string().as_bytes(), to).await;
}

async fn handle(
    socket: &Arc<UdpSocket>,
    calls: &Arc<Mutex<Calls>>,
    req: Request,
    from: SocketAddr,
    media: Media,
) {
    let call_id = message::call_id(&req.headers)
        .unwrap_or_default()
        .to_string();
    let tag = format!(
        "sim{:x}",
        call_id
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b))
                .wrapping_mul(0x100_0000_01b3))
    );
    match req.method {
        Method::Invite => {
            if lock(calls).open.contains_key(&call_id) {
                return; // a retransmission: the answer is on its way
            }
            lock(calls)
                .open
                .insert(call_id.clone(), (req.clone(), false));
            send(
                socket,
                from,
                build::response(&req, 100, None, vec![], vec![]),
            )
            .await;
            let roll = rand::random::<u32>();
            let ring = Duration::from_millis(200 + u64::from(roll / 100 % 1300));
            let final_code = match behaviour(roll, ring) {
                Behaviour::Busy => Some(486),
                Behaviour::Unknown => Some(404),
                Behaviour::Failure => Some(503),
                Behaviour::NoAnswer | Behaviour::Answer(_) => None,
            };
            if let Some(code) = final_code {
                lock(calls).open.remove(&call_id);
                send(
                    socket,
                    from,
                    build::response(&req, code, Some(&tag), vec![], vec![]),
                )
                .await;
                return;
            }
            send(
                socket,
                from,
                build::response(&req, 180, Some(&tag), vec![], vec![]),
            )
            .await;
            if let Behaviour::Answer(ring) = behaviour(roll, ring) {
                let (socket, calls) = (socket.clone(), calls.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(ring).await;
                    let answered = match lock(&calls).open.get_mut(&call_id) {
                        Some((_, done @ false)) => {
                            *done = true;
                            true
                        }
                        _ => false,
                    };
                    if answered {
                        let me = media.sip;
                        let rtp = if waits_for_an_agent(&req) {
                            media.echo
                        } else {
                            media.silent
                        };
                        let sdp = crate::sdp::offer(rtp.ip(), rtp.port(), 1).into_bytes();
                        let extra: Vec<Header> = vec![
                            headers::Contact::new(format!("<sip:callee@{me}>")).into(),
                            headers::ContentType::new("application/sdp").into(),
                        ];
                        send(
                            &socket,
                            from,
                            build::response(&req, 200, Some(&tag), extra, sdp),
                        )
                        .await;
                    }
                });
            }
        }
        Method::Cancel => {
            send(
                socket,
                from,
                build::response(&req, 200, Some(&tag), vec![], vec![]),
            )
            .await;
            let invite = match lock(calls).open.get_mut(&call_id) {
                Some((invite, done @ false)) => {
                    *done = true;
                    Some(invite.clone())
                }
                _ => None,
            };
            if let Some(invite) = invite {
                send(
                    socket,
                    from,
                    build::response(&invite, 487, Some(&tag), vec![], vec![]),
                )
                .await;
            }
        }
        Method::Bye => {
            lock(calls).open.remove(&call_id);
            send(
                socket,
                from,
                build::response(&req, 200, None, vec![], vec![]),
            )
            .await;
        }
        Method::Ack => {
            let invite = {
                let mut c = lock(calls);
                match c.open.get(&call_id) {
                    // ACK of a non-2xx ends the attempt; an answered call stays until its BYE.
                    Some((_, true)) if !is_answered_ack(&req) => {
                        c.open.remove(&call_id);
                        None
                    }
                    Some((invite, true)) => Some(invite.clone()),
                    _ => None,
                }
            };
            if let Some(invite) = invite.filter(|i| !waits_for_an_agent(i)) {
                let (socket, calls) = (socket.clone(), calls.clone());
                tokio::spawn(press_a_key(socket, calls, invite, tag, from, media.sip));
            }
        }
        _ => {
            send(
                socket,
                from,
                build::response(&req, 200, None, vec![], vec![]),
            )
            .await
        }
    }
}

/// The callee listens to the reminder for a while, then (nine times in ten) presses 1 to
/// confirm or 2 to cancel, sent as a SIP INFO in the dialog.
async fn press_a_key(
    socket: Arc<UdpSocket>,
    calls: Arc<Mutex<Calls>>,
    invite: Request,
    tag: String,
    to: SocketAddr,
    me: SocketAddr,
) {
    let roll = rand::random::<u32>() % 100;
    let key = match roll {
        0..=69 => '1',
        70..=89 => '2',
        _ => return,
    };
    tokio::time::sleep(Duration::from_millis(1000 + u64::from(roll) * 20)).await;
    if !lock(&calls)
        .open
        .contains_key(message::call_id(&invite.headers).unwrap_or_default())
    {
        return;
    }
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
    let body = format!("Signal={key}\r\nDuration=160\r\n");
    let info = format!(
        "INFO {target} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bK{:x}\r\nMax-Forwards: 70\r\n\
         From: {their_to};tag={tag}\r\nTo: {their_from}\r\nCall-ID: {}\r\nCSeq: 1 INFO\r\n\
         Content-Type: application/dtmf-relay\r\nContent-Length: {}\r\n\r\n{body}",
        rand::random::<u64>(),
        message::call_id(&invite.headers).unwrap_or_default(),
        body.len()
    );
    let _ = socket.send_to(info.as_bytes(), to).await;
}

fn is_answered_ack(req: &Request) -> bool {
    // The 2xx ACK is a new transaction with its own branch, sent to our Contact.
    req.uri.to_string().contains("callee@")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mix_covers_every_behaviour_in_the_stated_shares() {
        let ring = Duration::from_millis(500);
        let count = |b: Behaviour| (0..100).filter(|&r| behaviour(r, ring) == b).count();
        assert_eq!(count(Behaviour::Answer(ring)), 62);
        assert_eq!(count(Behaviour::Busy), 16);
        assert_eq!(count(Behaviour::NoAnswer), 14);
        assert_eq!(count(Behaviour::Unknown), 5);
        assert_eq!(count(Behaviour::Failure), 3);
    }
}
