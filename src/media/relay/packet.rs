//! The RTP header as the relay reads and writes it: a fixed 12-byte header parsed in place
//! and written into the send buffer, so a relayed packet costs no allocation (pure).

/// Length of an RTP header without CSRCs or extension: what the relay writes.
pub const HEADER_LEN: usize = 12;

/// The fields of a received RTP packet the relay uses, with where its payload lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpView {
    /// The marker bit.
    pub marker: bool,
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub seq: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// Start of the payload in the datagram (after CSRCs and the extension).
    pub payload_start: usize,
    /// End of the payload (before padding).
    pub payload_end: usize,
}

impl RtpView {
    /// Parses `datagram`; `None` unless it is well-formed RTP version 2 (the CSRC list, the
    /// extension and the padding all fit).
    pub fn parse(datagram: &[u8]) -> Option<RtpView> {
        let d = datagram;
        if d.len() < HEADER_LEN || d[0] >> 6 != 2 {
            return None;
        }
        let csrcs = (d[0] & 0x0F) as usize;
        let mut start = HEADER_LEN + 4 * csrcs;
        if d.len() < start {
            return None;
        }
        if d[0] & 0x10 != 0 {
            let ext = d.get(start..start + 4)?;
            let words = u16::from_be_bytes([ext[2], ext[3]]) as usize;
            start += 4 + 4 * words;
            if d.len() < start {
                return None;
            }
        }
        let mut end = d.len();
        if d[0] & 0x20 != 0 {
            let pad = d[end - 1] as usize;
            if pad == 0 || pad > end - start {
                return None;
            }
            end -= pad;
        }
        Some(RtpView {
            marker: d[1] & 0x80 != 0,
            payload_type: d[1] & 0x7F,
            seq: u16::from_be_bytes([d[2], d[3]]),
            timestamp: u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
            ssrc: u32::from_be_bytes([d[8], d[9], d[10], d[11]]),
            payload_start: start,
            payload_end: end,
        })
    }
}

/// The header of a packet the relay sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutHeader {
    /// The marker bit.
    pub marker: bool,
    /// Payload type.
    pub payload_type: u8,
    /// Sequence number.
    pub seq: u16,
    /// Media timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
}

impl OutHeader {
    /// Writes the 12 header bytes at the start of `buf` (at least [`HEADER_LEN`] long).
    pub fn write(&self, buf: &mut [u8]) {
        buf[0] = 0x80;
        buf[1] = (self.payload_type & 0x7F) | if self.marker { 0x80 } else { 0 };
        buf[2..4].copy_from_slice(&self.seq.to_be_bytes());
        buf[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        buf[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(first: u8, extra: &[u8]) -> Vec<u8> {
        let mut p = vec![
            first,
            0x80 | 8,
            0x12,
            0x34,
            0,
            0,
            1,
            0,
            0xDE,
            0xAD,
            0xBE,
            0xEF,
        ];
        p.extend_from_slice(extra);
        p
    }

    #[test]
    fn reads_the_fields_and_finds_the_payload() {
        let p = packet(0x80, &[1, 2, 3]);
        let v = RtpView::parse(&p).unwrap();
        assert!(v.marker);
        assert_eq!(
            (v.payload_type, v.seq, v.timestamp, v.ssrc),
            (8, 0x1234, 256, 0xDEAD_BEEF)
        );
        assert_eq!(&p[v.payload_start..v.payload_end], &[1, 2, 3]);
    }

    #[test]
    fn skips_csrcs_and_the_extension_and_strips_padding() {
        // One CSRC, an extension of one word, a payload of two bytes and two of padding.
        let p = packet(
            0x80 | 0x20 | 0x10 | 1,
            &[0, 0, 0, 9, 0xBE, 0xDE, 0, 1, 7, 7, 7, 7, 5, 6, 0, 2],
        );
        let v = RtpView::parse(&p).unwrap();
        assert_eq!(&p[v.payload_start..v.payload_end], &[5, 6]);
    }

    #[test]
    fn refuses_what_is_not_rtp() {
        assert!(RtpView::parse(&[0x80; 11]).is_none(), "short");
        assert!(RtpView::parse(&packet(0x40, &[1])).is_none(), "version 1");
        assert!(
            RtpView::parse(&packet(0x80 | 3, &[0; 8])).is_none(),
            "CSRCs past the end"
        );
        assert!(
            RtpView::parse(&packet(0x90, &[0, 0, 0, 4])).is_none(),
            "extension past the end"
        );
        assert!(
            RtpView::parse(&packet(0xA0, &[1, 9])).is_none(),
            "padding past the payload"
        );
        assert!(
            RtpView::parse(&packet(0xA0, &[1, 0])).is_none(),
            "zero padding"
        );
    }

    #[test]
    fn writes_what_it_reads() {
        let h = OutHeader {
            marker: true,
            payload_type: 101,
            seq: 65535,
            timestamp: 0x0102_0304,
            ssrc: 42,
        };
        let mut buf = [0u8; HEADER_LEN];
        h.write(&mut buf);
        let v = RtpView::parse(&buf).unwrap();
        assert_eq!(
            (v.marker, v.payload_type, v.seq, v.timestamp, v.ssrc),
            (true, 101, 65535, 0x0102_0304, 42)
        );
    }
}
