//! WAV (RIFF/WAVE) reading: PCM 8- and 16-bit, µ-law and A-law, any rate and channel count,
//! converted to 8 kHz mono.

use crate::media::g711::Codec;
use crate::media::resample::resample;

/// The sample rate everything is converted to.
pub const RATE: u32 = 8000;

/// Why a WAV file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    /// Not a RIFF/WAVE file.
    #[error("not a WAV file")]
    NotWav,
    /// A chunk is cut short or a field is out of range.
    #[error("malformed WAV: {0}")]
    Malformed(&'static str),
    /// A sample format we do not read (float, ADPCM, 24-bit, ...).
    #[error("unsupported WAV format {format} with {bits} bits per sample")]
    Unsupported {
        /// The format tag.
        format: u16,
        /// Bits per sample.
        bits: u16,
    },
}

/// Sample encodings we read.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    Pcm8,
    Pcm16,
    G711(Codec),
}

/// Reads a WAV file into 8 kHz mono samples.
pub fn decode(bytes: &[u8]) -> Result<Vec<i16>, WavError> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err(WavError::NotWav);
    }
    let mut rest = &bytes[12..];
    let mut format: Option<(Encoding, u16, u32)> = None;
    while rest.len() >= 8 {
        let id = &rest[0..4];
        let size = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let body_start = 8;
        // Streamed WAVs (espeak-ng --stdout) give a huge size: take what is there.
        let body = &rest[body_start..body_start + size.min(rest.len() - body_start)];
        match id {
            b"fmt " => format = Some(parse_format(body)?),
            b"data" => {
                let (encoding, channels, rate) =
                    format.ok_or(WavError::Malformed("data before fmt"))?;
                let mono = to_mono(body, encoding, channels);
                return Ok(resample(&mono, rate, RATE));
            }
            _ => {}
        }
        let advance = body_start.saturating_add(size).saturating_add(size % 2);
        if advance >= rest.len() {
            break;
        }
        rest = &rest[advance..];
    }
    Err(WavError::Malformed("no data chunk"))
}

/// `fmt ` chunk → (encoding, channels, rate).
fn parse_format(body: &[u8]) -> Result<(Encoding, u16, u32), WavError> {
    if body.len() < 16 {
        return Err(WavError::Malformed("short fmt chunk"));
    }
    let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
    let mut tag = u16_at(0);
    let channels = u16_at(2);
    let rate = u32::from_le_bytes([body[4], body[5], body[6], body[7]]);
    let bits = u16_at(14);
    if tag == 0xFFFE && body.len() >= 26 {
        // WAVE_FORMAT_EXTENSIBLE: the real tag is the sub-format GUID's first two bytes.
        tag = u16_at(24);
    }
    if channels == 0 || !(1000..=192_000).contains(&rate) {
        return Err(WavError::Malformed("channels or rate"));
    }
    let encoding = match (tag, bits) {
        (1, 8) => Encoding::Pcm8,
        (1, 16) => Encoding::Pcm16,
        (6, 8) => Encoding::G711(Codec::Pcma),
        (7, 8) => Encoding::G711(Codec::Pcmu),
        (format, bits) => return Err(WavError::Unsupported { format, bits }),
    };
    Ok((encoding, channels, rate))
}

/// Decodes the data chunk and averages the channels.
fn to_mono(data: &[u8], encoding: Encoding, channels: u16) -> Vec<i16> {
    let width = match encoding {
        Encoding::Pcm16 => 2,
        _ => 1,
    };
    let frame = width * channels as usize;
    data.chunks_exact(frame)
        .map(|f| {
            let sum: i32 = f
                .chunks_exact(width)
                .map(|s| match encoding {
                    Encoding::Pcm16 => i16::from_le_bytes([s[0], s[1]]) as i32,
                    Encoding::Pcm8 => (s[0] as i32 - 128) << 8,
                    Encoding::G711(codec) => codec.decode(s[0]) as i32,
                })
                .sum();
            (sum / channels as i32) as i16
        })
        .collect()
}

/// Writes 16-bit PCM mono WAV bytes (for tests and tools).
pub fn encode_pcm16(samples: &[i16], rate: u32) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples.len() * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

#[cfg(test)]
#[path = "wav_tests.rs"]
mod tests;
