//! Newtypes for RTP wire ids and media time, so a sequence number is never added to a
//! timestamp by mistake.

/// RTP synchronisation source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ssrc(pub u32);

/// RTP sequence number (wraps at 2^16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeqNo(pub u16);

impl SeqNo {
    /// This number, then advances by one.
    pub fn take_next(&mut self) -> SeqNo {
        let now = *self;
        self.0 = self.0.wrapping_add(1);
        now
    }
}

/// RTP media time at 8 kHz: one unit per sample (wraps at 2^32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MediaTime(pub u32);

impl MediaTime {
    /// Advances by `samples`.
    pub fn advance(&mut self, samples: u32) {
        self.0 = self.0.wrapping_add(samples);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_and_time_wrap() {
        let mut s = SeqNo(u16::MAX);
        assert_eq!(s.take_next(), SeqNo(u16::MAX));
        assert_eq!(s, SeqNo(0));
        let mut t = MediaTime(u32::MAX - 10);
        t.advance(160);
        assert_eq!(t, MediaTime(149));
    }
}
