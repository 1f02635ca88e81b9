//! G.711 (ITU-T G.711): µ-law (PCMU, payload type 0) and A-law (PCMA, payload type 8).
//!
//! Decoding is a table look-up built at compile time; encoding is a few shifts around one
//! `leading_zeros`, which is as fast as a 64 KiB table without the cache pressure.

/// The two laws, as SDP names them (`crate::sdp::Codec`); their arithmetic is here.
pub use crate::sdp::Codec;

impl Codec {
    /// Encodes one linear sample.
    #[inline]
    pub fn encode(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => linear_to_ulaw(sample),
            Codec::Pcma => linear_to_alaw(sample),
        }
    }

    /// Decodes one byte.
    #[inline]
    pub fn decode(self, byte: u8) -> i16 {
        match self {
            Codec::Pcmu => ULAW_TO_LINEAR[byte as usize],
            Codec::Pcma => ALAW_TO_LINEAR[byte as usize],
        }
    }

    /// Encodes `samples` into `out` (which must be at least as long).
    pub fn encode_into(self, samples: &[i16], out: &mut [u8]) {
        for (o, &s) in out.iter_mut().zip(samples) {
            *o = self.encode(s);
        }
    }

    /// The byte that decodes to silence.
    pub fn silence(self) -> u8 {
        self.encode(0)
    }
}

const ULAW_BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 32635;

/// µ-law encode (the classic CCITT algorithm: bias, find the segment, take 4 mantissa bits).
#[inline]
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = pcm.min(ULAW_CLIP) + ULAW_BIAS;
    // pcm is in [0x84, 0x7FFF]: its top bit is bit 7..=14, the segment is that minus 7.
    let exponent = (31 - (pcm as u32).leading_zeros()) as i32 - 7;
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) as u8 | mantissa as u8)
}

/// A-law encode.
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = (sample as i32) >> 3; // 13-bit magnitude range
    let mask = if pcm >= 0 {
        0xD5
    } else {
        pcm = -pcm - 1;
        0x55
    };
    // Segment ends: 0x1F, 0x3F, 0x7F, ... 0xFFF; segment = number of bits above 5.
    let bits = 32 - (pcm as u32).leading_zeros() as i32;
    let seg = (bits - 5).max(0);
    if seg >= 8 {
        return 0x7F ^ mask;
    }
    let mantissa = if seg < 2 {
        (pcm >> 1) & 0x0F
    } else {
        (pcm >> seg) & 0x0F
    };
    ((seg << 4) as u8 | mantissa as u8) ^ mask
}

const fn ulaw_decode(byte: u8) -> i16 {
    let u = !byte;
    let exponent = ((u >> 4) & 0x07) as i32;
    let mantissa = (u & 0x0F) as i32;
    let magnitude = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    if u & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

const fn alaw_decode(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = ((a & 0x0F) as i32) << 4;
    let seg = ((a & 0x70) >> 4) as i32;
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => {
            t += 0x108;
            t <<= seg - 1;
        }
    }
    if a & 0x80 != 0 {
        t as i16
    } else {
        -t as i16
    }
}

const fn table(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if alaw {
            alaw_decode(i as u8)
        } else {
            ulaw_decode(i as u8)
        };
        i += 1;
    }
    t
}

/// µ-law byte → linear sample.
pub static ULAW_TO_LINEAR: [i16; 256] = table(false);
/// A-law byte → linear sample.
pub static ALAW_TO_LINEAR: [i16; 256] = table(true);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(-1), 0x7F);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(ULAW_TO_LINEAR[0xFF], 0);
        assert_eq!(ULAW_TO_LINEAR[0x00], -32124);
        assert_eq!(ULAW_TO_LINEAR[0x80], 32124);
        assert_eq!(ULAW_TO_LINEAR[0x7F], 0);
        assert_eq!(linear_to_ulaw(1000), 0xCE);
        assert_eq!(ULAW_TO_LINEAR[0xCE], 988);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(ALAW_TO_LINEAR[0xD5], 8);
        assert_eq!(ALAW_TO_LINEAR[0x55], -8);
        assert_eq!(ALAW_TO_LINEAR[0xAA], 32256);
        assert_eq!(ALAW_TO_LINEAR[0x2A], -32256);
        assert_eq!(linear_to_alaw(1000), 0xFA);
        assert_eq!(ALAW_TO_LINEAR[0xFA], 1008);
    }

    #[test]
    fn every_byte_survives_decode_then_encode() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_alaw(ALAW_TO_LINEAR[b as usize]), b, "alaw {b:#x}");
            let back = linear_to_ulaw(ULAW_TO_LINEAR[b as usize]);
            // µ-law has two zeros (0x7F and 0xFF); both decode to 0, which encodes to 0xFF.
            if b == 0x7F {
                assert_eq!(back, 0xFF);
            } else {
                assert_eq!(back, b, "ulaw {b:#x}");
            }
        }
    }

    #[test]
    fn round_trip_error_stays_within_the_segment_step() {
        for s in (i16::MIN..=i16::MAX).step_by(7) {
            for codec in [Codec::Pcmu, Codec::Pcma] {
                let back = codec.decode(codec.encode(s)) as i32;
                let err = (back - s as i32).abs();
                // The quantisation step grows with the magnitude: at most 1/16 of it, plus
                // the clip region at the very top of µ-law.
                let bound = (s as i32).abs() / 16 + 16 + if codec == Codec::Pcmu { 700 } else { 0 };
                assert!(err <= bound, "{codec:?} {s} -> {back}");
            }
        }
    }

    #[test]
    fn silence_is_the_encoded_zero() {
        assert_eq!(Codec::Pcmu.silence(), 0xFF);
        assert_eq!(Codec::Pcma.silence(), 0xD5);
        assert_eq!(Codec::from_payload_type(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_payload_type(9), None);
    }
}
