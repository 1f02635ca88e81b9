//! G.711 µ-law ⇄ A-law, one 256-entry table per direction (built once from the codec's
//! decode tables and encoders, so a transcoded byte is what decoding and encoding gives).

use crate::media::g711::{Codec, ALAW_TO_LINEAR, ULAW_TO_LINEAR};
use std::sync::LazyLock;

static ULAW_TO_ALAW: LazyLock<[u8; 256]> =
    LazyLock::new(|| std::array::from_fn(|b| Codec::Pcma.encode(ULAW_TO_LINEAR[b])));
static ALAW_TO_ULAW: LazyLock<[u8; 256]> =
    LazyLock::new(|| std::array::from_fn(|b| Codec::Pcmu.encode(ALAW_TO_LINEAR[b])));

/// Copies `input` (encoded with `from`) into `out` encoded with `to`: a plain copy for the
/// same codec. `out` must be at least as long as `input`.
pub fn transcode(from: Codec, to: Codec, input: &[u8], out: &mut [u8]) {
    let out = &mut out[..input.len()];
    match (from, to) {
        (Codec::Pcmu, Codec::Pcma) => map(&ULAW_TO_ALAW, input, out),
        (Codec::Pcma, Codec::Pcmu) => map(&ALAW_TO_ULAW, input, out),
        _ => out.copy_from_slice(input),
    }
}

fn map(table: &[u8; 256], input: &[u8], out: &mut [u8]) {
    for (o, &i) in out.iter_mut().zip(input) {
        *o = table[i as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_direction_keeps_the_sample_within_a_step() {
        for b in 0..=255u8 {
            let mut a = [0u8];
            transcode(Codec::Pcmu, Codec::Pcma, &[b], &mut a);
            let (before, after) = (
                Codec::Pcmu.decode(b) as i32,
                Codec::Pcma.decode(a[0]) as i32,
            );
            // A-law's step is at most 1/16 of the segment, µ-law's similar: within 1/8.
            assert!(
                (before - after).abs() <= before.abs() / 8 + 16,
                "µ {b:#04x}: {before} → A {after}"
            );
            let mut u = [0u8];
            transcode(Codec::Pcma, Codec::Pcmu, &[b], &mut u);
            let (before, after) = (
                Codec::Pcma.decode(b) as i32,
                Codec::Pcmu.decode(u[0]) as i32,
            );
            assert!(
                (before - after).abs() <= before.abs() / 8 + 16,
                "A {b:#04x}: {before} → µ {after}"
            );
        }
    }

    #[test]
    fn silence_stays_silence_and_the_same_codec_is_copied() {
        let mut out = [0u8; 2];
        transcode(Codec::Pcmu, Codec::Pcma, &[0xFF, 0xFF], &mut out);
        assert_eq!(out, [0xD5, 0xD5]);
        transcode(Codec::Pcma, Codec::Pcmu, &[0xD5, 0xD5], &mut out);
        // A-law has no zero: its quietest step (±8) is µ-law's second.
        assert!(
            out.iter().all(|&b| Codec::Pcmu.decode(b).abs() <= 8),
            "{out:?}"
        );
        transcode(Codec::Pcma, Codec::Pcma, &[1, 2], &mut out);
        assert_eq!(out, [1, 2]);
    }
}
