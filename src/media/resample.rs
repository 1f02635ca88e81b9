//! Sample-rate conversion to 8 kHz: a windowed-sinc (Blackman) low-pass interpolator, so
//! 22,050 Hz speech does not alias into the telephone band.

/// Taps each side of the interpolation point.
const HALF_TAPS: i64 = 16;

/// Converts mono `input` at `from_hz` to `to_hz`.
pub fn resample(input: &[i16], from_hz: u32, to_hz: u32) -> Vec<i16> {
    if from_hz == to_hz || input.is_empty() || from_hz == 0 || to_hz == 0 {
        return input.to_vec();
    }
    let ratio = from_hz as f64 / to_hz as f64;
    let out_len = ((input.len() as f64) / ratio).floor() as usize;
    // Cut off just below the lower Nyquist frequency, in cycles per input sample.
    let cutoff = 0.5 * 0.95 * (to_hz.min(from_hz) as f64) / (from_hz as f64);
    let half = (HALF_TAPS as f64 * ratio.max(1.0)).ceil() as i64;
    let mut out = Vec::with_capacity(out_len);
    for n in 0..out_len {
        let x = n as f64 * ratio;
        let centre = x.floor() as i64;
        let mut acc = 0.0;
        let mut weight = 0.0;
        for k in (centre - half + 1)..=(centre + half) {
            if k < 0 || k as usize >= input.len() {
                continue;
            }
            let t = x - k as f64;
            let w = sinc(2.0 * cutoff * t) * blackman(t, half as f64);
            acc += w * input[k as usize] as f64;
            weight += w;
        }
        let value = if weight.abs() > 1e-9 {
            acc / weight
        } else {
            0.0
        };
        out.push(value.round().clamp(i16::MIN as f64, i16::MAX as f64) as i16);
    }
    out
}

fn sinc(x: f64) -> f64 {
    if x.abs() < 1e-12 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

/// Blackman window over `[-half, half]`.
fn blackman(t: f64, half: f64) -> f64 {
    if t.abs() >= half {
        return 0.0;
    }
    let p = std::f64::consts::PI * (t + half) / half; // 0..2π across the window
    0.42 - 0.5 * p.cos() + 0.08 * (2.0 * p).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(hz: f64, rate: u32, secs: f64) -> Vec<i16> {
        let n = (rate as f64 * secs) as usize;
        (0..n)
            .map(|i| {
                (10000.0 * (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin()) as i16
            })
            .collect()
    }

    fn rms(s: &[i16]) -> f64 {
        (s.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
    }

    #[test]
    fn length_follows_the_rate_ratio() {
        assert_eq!(resample(&vec![0; 22050], 22050, 8000).len(), 8000);
        assert_eq!(resample(&vec![0; 16000], 16000, 8000).len(), 8000);
        assert_eq!(resample(&vec![0; 4000], 4000, 8000).len(), 8000);
        assert_eq!(resample(&[1, 2, 3], 8000, 8000), [1, 2, 3]);
    }

    #[test]
    fn a_tone_in_band_keeps_its_level() {
        let out = resample(&tone(1000.0, 22050, 0.5), 22050, 8000);
        let level = rms(&out[100..out.len() - 100]);
        assert!((level - 7071.0).abs() < 300.0, "{level}");
    }

    #[test]
    fn a_tone_above_the_new_nyquist_is_filtered_not_aliased() {
        let out = resample(&tone(6000.0, 22050, 0.5), 22050, 8000);
        let level = rms(&out[100..out.len() - 100]);
        assert!(level < 400.0, "{level}");
    }

    #[test]
    fn upsampling_keeps_a_tone() {
        let out = resample(&tone(500.0, 4000, 0.5), 4000, 8000);
        let level = rms(&out[100..out.len() - 100]);
        assert!((level - 7071.0).abs() < 300.0, "{level}");
    }
}
