use super::*;

/// A WAV with an arbitrary fmt chunk, extra chunks before data, and a data size field.
fn wav(fmt: &[u8], extra: &[(&[u8; 4], &[u8])], data: &[u8], data_size: u32) -> Vec<u8> {
    let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    out.extend_from_slice(fmt);
    for (id, body) in extra {
        out.extend_from_slice(*id);
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        if body.len() % 2 == 1 {
            out.push(0);
        }
    }
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_size.to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let block = channels * bits / 8;
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * block as u32).to_le_bytes());
    f.extend_from_slice(&block.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

fn le16(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

#[test]
fn pcm16_at_8khz_mono_is_read_as_is() {
    let samples = [0i16, 100, -100, 32767, -32768];
    assert_eq!(decode(&encode_pcm16(&samples, 8000)).unwrap(), samples);
}

#[test]
fn pcm8_is_unsigned_and_scaled() {
    let w = wav(&fmt(1, 1, 8000, 8), &[], &[128, 255, 0], 3);
    assert_eq!(decode(&w).unwrap(), [0, 127 << 8, -128 << 8]);
}

#[test]
fn stereo_is_averaged_to_mono() {
    let w = wav(
        &fmt(1, 2, 8000, 16),
        &[],
        &le16(&[1000, 3000, -200, -400]),
        8,
    );
    assert_eq!(decode(&w).unwrap(), [2000, -300]);
}

#[test]
fn g711_formats_are_decoded() {
    let w = wav(&fmt(7, 1, 8000, 8), &[], &[0xFF, 0x00], 2);
    assert_eq!(decode(&w).unwrap(), [0, -32124]);
    let w = wav(&fmt(6, 1, 8000, 8), &[], &[0xD5, 0x2A], 2);
    assert_eq!(decode(&w).unwrap(), [8, -32256]);
}

#[test]
fn other_rates_are_resampled_to_8khz() {
    let w = wav(&fmt(1, 1, 16000, 16), &[], &le16(&vec![0i16; 16000]), 32000);
    assert_eq!(decode(&w).unwrap().len(), 8000);
    let w = wav(&fmt(1, 1, 22050, 16), &[], &le16(&vec![0i16; 22050]), 44100);
    assert_eq!(decode(&w).unwrap().len(), 8000);
}

#[test]
fn extensible_format_and_odd_extra_chunks_are_handled() {
    let mut f = fmt(0xFFFE, 1, 8000, 16);
    f.extend_from_slice(&22u16.to_le_bytes()); // cbSize
    f.extend_from_slice(&16u16.to_le_bytes()); // valid bits
    f.extend_from_slice(&4u32.to_le_bytes()); // channel mask
    f.extend_from_slice(&1u16.to_le_bytes()); // sub-format: PCM
    f.extend_from_slice(&[0; 14]);
    let w = wav(&f, &[(b"LIST", b"odd")], &le16(&[5, 6]), 4);
    assert_eq!(decode(&w).unwrap(), [5, 6]);
}

#[test]
fn a_streamed_data_size_takes_what_is_there() {
    let w = wav(&fmt(1, 1, 8000, 16), &[], &le16(&[1, 2, 3]), u32::MAX);
    assert_eq!(decode(&w).unwrap(), [1, 2, 3]);
}

#[test]
fn unsupported_and_broken_files_are_errors() {
    let float = wav(&fmt(3, 1, 8000, 32), &[], &[0; 8], 8);
    assert_eq!(
        decode(&float).unwrap_err(),
        WavError::Unsupported {
            format: 3,
            bits: 32
        }
    );
    assert_eq!(decode(b"").unwrap_err(), WavError::NotWav);
    assert_eq!(
        decode(b"RIFF\0\0\0\0AVI LIST").unwrap_err(),
        WavError::NotWav
    );
    assert!(decode(b"RIFF\0\0\0\0WAVE").is_err());
    assert!(decode(b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0").is_err());
    let zero_rate = wav(&fmt(1, 1, 0, 16), &[], &[0; 4], 4);
    assert!(decode(&zero_rate).is_err());
    // Every truncation of a valid file is an error or a shorter read, never a panic.
    let good = encode_pcm16(&[1, 2, 3, 4], 8000);
    for n in 0..good.len() {
        let _ = decode(&good[..n]);
    }
}
