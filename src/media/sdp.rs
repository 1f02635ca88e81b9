//! SDP offers (RFC 4566 / RFC 3264) for the calls ringmaster places.

use std::net::IpAddr;

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

#[cfg(test)]
mod tests {
    #[test]
    fn the_offer_lists_pcmu_pcma_and_telephone_events() {
        let sdp = super::offer("127.0.0.1".parse().unwrap(), 20000, 7);
        assert!(sdp.contains("m=audio 20000 RTP/AVP 0 8 101\r\n"));
        assert!(sdp.contains("c=IN IP4 127.0.0.1\r\n"));
        assert!(sdp.contains("a=rtpmap:101 telephone-event/8000\r\n"));
    }
}
