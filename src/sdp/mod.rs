//! SDP offers and answers (RFC 4566 / RFC 3264) for the calls ringmaster places: pure text in
//! and out, no IO. The SIP core answers re-offers with it and the media layer reads the
//! answer's address and codec from it; neither imports the other for SDP.

mod codec;

pub use codec::Codec;
use std::net::{IpAddr, SocketAddr};

/// The audio formats ringmaster offers: PCMU, PCMA and RFC 4733 telephone-events.
pub const OFFERED_PAYLOADS: &str = "0 8 101";

/// Builds our SDP offer for a call whose RTP socket is at `ip:port`.
pub fn offer(ip: IpAddr, port: u16, session_id: u64) -> String {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\n\
         o=ringmaster {session_id} {session_id} IN {family} {ip}\r\n\
         s=ringmaster\r\n\
         c=IN {family} {ip}\r\n\
         t=0 0\r\n\
         m=audio {port} RTP/AVP {OFFERED_PAYLOADS}\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-16\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    )
}

/// Which way the far end said media flows (from its point of view).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways (the default).
    SendRecv,
    /// The far end sends, and will not receive.
    SendOnly,
    /// The far end receives, and will not send.
    RecvOnly,
    /// Neither way.
    Inactive,
}

impl Direction {
    /// The direction an answer takes to an offer with this one (RFC 3264 section 6.1): the
    /// offerer's `sendonly` is the answerer's `recvonly` and the reverse; `sendrecv` and
    /// `inactive` stay as they are.
    pub fn answered(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    /// The attribute naming it: `sendrecv`, `sendonly`, `recvonly` or `inactive`.
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// Our SDP `ours` revised for a later offer or answer in the same session (RFC 3264 section
/// 8): the `o=` line's session version raised by `bump`, every direction attribute replaced
/// by one `a=<direction>` ending the audio section, and everything else (origin, address,
/// port, codec list) as it was. `None` when `ours` has no well-formed `o=` line or no audio
/// stream.
pub fn revise(ours: &str, bump: u64, direction: Direction) -> Option<String> {
    let mut out = String::with_capacity(ours.len() + 16);
    let mut origin = false;
    let mut in_audio = false;
    let mut placed = false;
    let place = |out: &mut String| {
        out.push_str("a=");
        out.push_str(direction.attribute());
        out.push_str("\r\n");
    };
    for line in ours
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty())
    {
        if let Some(value) = line.strip_prefix("o=") {
            let fields: Vec<&str> = value.split_ascii_whitespace().collect();
            let [user, id, version, net, family, addr] = fields[..] else {
                return None;
            };
            let version = version.parse::<u64>().ok()?.checked_add(bump)?;
            out.push_str(&format!(
                "o={user} {id} {version} {net} {family} {addr}\r\n"
            ));
            origin = true;
            continue;
        }
        if line.starts_with("m=") {
            if in_audio {
                place(&mut out);
                placed = true;
            }
            in_audio = !placed && line.starts_with("m=audio ");
        }
        if matches!(
            line,
            "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive"
        ) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    if in_audio {
        place(&mut out);
        placed = true;
    }
    (origin && placed).then_some(out)
}

/// What the far end's answer says about its audio stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteMedia {
    /// Where to send RTP (the connection address and the audio port).
    pub addr: SocketAddr,
    /// The codec to send: the first of the answer's payloads that we offered.
    pub codec: Codec,
    /// The payload type of RFC 4733 telephone-events, when the answer has one.
    pub telephone_event: Option<u8>,
    /// The far end's direction attribute (media level over session level).
    pub direction: Direction,
    /// `c=0.0.0.0` (RFC 2543 hold): do not send until the far end sends to us.
    pub on_hold: bool,
}

impl RemoteMedia {
    /// Whether the far end wants our audio.
    pub fn wants_audio(&self) -> bool {
        !self.on_hold && matches!(self.direction, Direction::SendRecv | Direction::RecvOnly)
    }

    /// Whether the far end said it would send audio (so silence from it means trouble).
    pub fn will_send(&self) -> bool {
        matches!(self.direction, Direction::SendRecv | Direction::SendOnly)
    }
}

/// Why an SDP answer cannot be used. The Display is a short reason for the call's record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not SDP: no `v=0` line or not text.
    #[error("not an SDP body")]
    NotSdp,
    /// A line the parser needs is malformed.
    #[error("malformed {0} line")]
    Malformed(&'static str),
    /// No `m=audio` line with a real port.
    #[error("no audio stream")]
    NoAudio,
    /// No `c=` line at session or audio level.
    #[error("no connection address")]
    NoConnection,
    /// The audio stream is not plain RTP (SRTP, DTLS, UDPTL, ...).
    #[error("unsupported media transport")]
    Transport,
    /// The audio stream lists none of PCMU and PCMA.
    #[error("no common codec")]
    NoCommonCodec,
}

/// Parses the far end's SDP answer to our offer, or a later offer of its own (a re-INVITE or
/// UPDATE): what is read from either is the same.
pub fn parse_answer(body: &[u8]) -> Result<RemoteMedia, SdpError> {
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotSdp)?;
    let mut lines = text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty());
    if lines.next().map(str::trim) != Some("v=0") {
        return Err(SdpError::NotSdp);
    }

    let mut session_conn: Option<IpAddr> = None;
    let mut session_dir: Option<Direction> = None;
    // The first audio stream; later m= lines (video, a second audio) are ignored.
    let mut audio: Option<AudioSection> = None;
    let mut in_audio = false;
    let mut seen_media = false;

    for line in lines {
        let (kind, value) = line.split_once('=').ok_or(SdpError::Malformed("SDP"))?;
        match kind {
            "m" => {
                seen_media = true;
                in_audio = false;
                if value.starts_with("audio ") && audio.is_none() {
                    audio = Some(AudioSection::parse(value)?);
                    in_audio = true;
                }
            }
            "c" => {
                let ip = parse_connection(value)?;
                if !seen_media {
                    session_conn = Some(ip);
                } else if in_audio {
                    if let Some(a) = audio.as_mut() {
                        a.conn = Some(ip);
                    }
                }
            }
            "a" => {
                let dir = match value {
                    "sendrecv" => Some(Direction::SendRecv),
                    "sendonly" => Some(Direction::SendOnly),
                    "recvonly" => Some(Direction::RecvOnly),
                    "inactive" => Some(Direction::Inactive),
                    _ => None,
                };
                if !seen_media {
                    session_dir = dir.or(session_dir);
                } else if let (true, Some(a)) = (in_audio, audio.as_mut()) {
                    if dir.is_some() {
                        a.direction = dir;
                    } else if let Some(map) = value.strip_prefix("rtpmap:") {
                        a.rtpmap(map)?;
                    }
                }
            }
            _ => {}
        }
    }

    let audio = audio.ok_or(SdpError::NoAudio)?;
    if audio.port == 0 {
        // A rejected stream (RFC 3264 section 6).
        return Err(SdpError::NoAudio);
    }
    let ip = audio.conn.or(session_conn).ok_or(SdpError::NoConnection)?;
    let codec = audio
        .payloads
        .iter()
        .find_map(|&pt| Codec::from_payload_type(pt))
        .ok_or(SdpError::NoCommonCodec)?;
    Ok(RemoteMedia {
        addr: SocketAddr::new(ip, audio.port),
        codec,
        telephone_event: audio.telephone_event,
        direction: audio
            .direction
            .or(session_dir)
            .unwrap_or(Direction::SendRecv),
        on_hold: ip.is_unspecified(),
    })
}

/// The parts of the `m=audio` section we use.
struct AudioSection {
    port: u16,
    payloads: Vec<u8>,
    conn: Option<IpAddr>,
    direction: Option<Direction>,
    telephone_event: Option<u8>,
}

impl AudioSection {
    /// `audio <port>[/<count>] <proto> <fmt> ...`
    fn parse(value: &str) -> Result<AudioSection, SdpError> {
        let mut parts = value.split_ascii_whitespace().skip(1);
        let port = parts
            .next()
            .and_then(|p| p.split('/').next())
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or(SdpError::Malformed("m="))?;
        let proto = parts.next().ok_or(SdpError::Malformed("m="))?;
        // We offered plain RTP/AVP; SRTP (RTP/SAVP), DTLS or anything else is not ours.
        if !matches!(proto, "RTP/AVP" | "RTP/AVPF") {
            return Err(SdpError::Transport);
        }
        let payloads = parts
            .map(|p| p.parse::<u8>().map_err(|_| SdpError::Malformed("m=")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AudioSection {
            port,
            payloads,
            conn: None,
            direction: None,
            telephone_event: None,
        })
    }

    /// `rtpmap:<pt> <encoding>/<rate>[/<channels>]`
    fn rtpmap(&mut self, map: &str) -> Result<(), SdpError> {
        let (pt, encoding) = map.split_once(' ').ok_or(SdpError::Malformed("a=rtpmap"))?;
        let pt: u8 = pt.parse().map_err(|_| SdpError::Malformed("a=rtpmap"))?;
        let is_event = encoding
            .trim()
            .to_ascii_lowercase()
            .starts_with("telephone-event/8000");
        if is_event
            && (96..=127).contains(&pt)
            && self.payloads.contains(&pt)
            && self.telephone_event.is_none()
        {
            self.telephone_event = Some(pt);
        }
        Ok(())
    }
}

/// `IN IP4 <addr>[/ttl]` or `IN IP6 <addr>`.
fn parse_connection(value: &str) -> Result<IpAddr, SdpError> {
    let mut parts = value.split_ascii_whitespace();
    let (Some("IN"), Some(family), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(SdpError::Malformed("c="));
    };
    let addr = addr.split('/').next().unwrap_or(addr);
    let ip: IpAddr = addr.parse().map_err(|_| SdpError::Malformed("c="))?;
    match (family, ip) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Ok(ip),
        _ => Err(SdpError::Malformed("c=")),
    }
}

#[cfg(test)]
mod tests;
