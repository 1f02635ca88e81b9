//! The detector on synthetic audio with exact timings: silence, tones as words, noise.

use super::*;

/// A stretch of synthetic audio.
#[derive(Clone, Copy)]
enum Sound {
    /// Digital silence.
    Silence(u64),
    /// A 440 Hz tone (a word), amplitude 3000.
    Voice(u64),
    /// Uniform noise of amplitude ±1000 (mean absolute amplitude about 500).
    Noise(u64),
    /// A tone of amplitude 6000 over that noise.
    VoiceOverNoise(u64),
    /// No packets at all for this long.
    Nothing(u64),
}

/// A small deterministic noise source (xorshift).
struct Xorshift(u32);

impl Xorshift {
    fn next(&mut self, amplitude: i32) -> i32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        (self.0 % (2 * amplitude as u32 + 1)) as i32 - amplitude
    }
}

fn tone(n: u64, amplitude: f64) -> i32 {
    (amplitude * (2.0 * std::f64::consts::PI * 440.0 * n as f64 / 8000.0).sin()) as i32
}

/// Feeds `script` as 20 ms frames (then silence up to `until`); the detection and the frames
/// fed before it.
fn run(settings: Settings, script: &[Sound], until: u64) -> Option<Detection> {
    let mut detector = Detector::new(settings);
    let mut noise = Xorshift(2463534242);
    let mut at = 0u64;
    let mut n = 0u64;
    for sound in script {
        let (ms, kind) = match *sound {
            Sound::Silence(ms) => (ms, 0),
            Sound::Voice(ms) => (ms, 1),
            Sound::Noise(ms) => (ms, 2),
            Sound::VoiceOverNoise(ms) => (ms, 3),
            Sound::Nothing(ms) => {
                at += ms;
                n += ms * 8;
                continue;
            }
        };
        for _ in 0..ms / FRAME_MS {
            let frame: Vec<i16> = (0..160)
                .map(|i| {
                    let s = match kind {
                        0 => 0,
                        1 => tone(n + i, 3000.0),
                        2 => noise.next(1000),
                        _ => tone(n + i, 6000.0) + noise.next(1000),
                    };
                    s.clamp(-32768, 32767) as i16
                })
                .collect();
            if let Some(d) = detector.feed(at, &frame) {
                return Some(d);
            }
            at += FRAME_MS;
            n += 160;
        }
    }
    detector.advance(until)
}

fn detect(script: &[Sound]) -> Option<Detection> {
    run(Settings::default(), script, 10_000)
}

fn said(d: Option<Detection>) -> (Verdict, String, u64) {
    let d = d.expect("a detection");
    (d.verdict, d.cause.to_string(), d.decided_at)
}

use Sound::*;

#[test]
fn the_defaults_are_asterisks() {
    let s = Settings::default();
    assert_eq!(
        (
            s.initial_silence,
            s.greeting,
            s.after_greeting_silence,
            s.total_analysis_time,
            s.min_word_length,
            s.between_words_silence,
            s.maximum_number_of_words,
            s.silence_threshold
        ),
        (2500, 1500, 800, 5000, 100, 50, 2, 256)
    );
}

#[test]
fn silence_from_the_start_is_a_machine_at_initial_silence() {
    assert_eq!(
        said(detect(&[Silence(3000)])),
        (Verdict::Machine, "INITIALSILENCE-2500-2500".into(), 2500)
    );
}

#[test]
fn a_hello_then_silence_is_a_human_after_greeting_silence() {
    assert_eq!(
        said(detect(&[Silence(500), Voice(400), Silence(2000)])),
        (Verdict::Human, "HUMAN-800-800".into(), 1700)
    );
}

#[test]
fn two_words_are_still_a_human() {
    // "yes, hello?"
    assert_eq!(
        said(detect(&[
            Silence(300),
            Voice(200),
            Silence(200),
            Voice(400),
            Silence(2000)
        ])),
        (Verdict::Human, "HUMAN-800-800".into(), 1900)
    );
}

#[test]
fn a_third_word_is_a_machine_once_it_is_a_word() {
    assert_eq!(
        said(detect(&[
            Silence(300),
            Voice(300),
            Silence(200),
            Voice(300),
            Silence(200),
            Voice(300),
            Silence(2000)
        ])),
        // The third word counts when it has lasted min_word_length.
        (Verdict::Machine, "MAXWORDS-3-2".into(), 1400)
    );
}

#[test]
fn a_long_greeting_is_a_machine_when_its_voice_reaches_greeting() {
    assert_eq!(
        said(detect(&[Silence(200), Voice(3000)])),
        (Verdict::Machine, "LONGGREETING-1500-1500".into(), 1700)
    );
}

#[test]
fn gaps_shorter_than_between_words_silence_do_not_split_a_word() {
    // One word with two 40 ms gaps: still one word, then a person's silence.
    assert_eq!(
        said(detect(&[
            Silence(200),
            Voice(200),
            Silence(40),
            Voice(200),
            Silence(40),
            Voice(200),
            Silence(1000)
        ])),
        (Verdict::Human, "HUMAN-800-800".into(), 1680)
    );
}

#[test]
fn blips_shorter_than_a_word_end_undecided_at_total_analysis_time() {
    let blips: Vec<Sound> = (0..60).flat_map(|_| [Voice(60), Silence(60)]).collect();
    assert_eq!(
        said(detect(&blips)),
        (Verdict::NotSure, "TOOLONG-5000".into(), 5000)
    );
}

#[test]
fn a_noisy_line_is_learnt_as_silence() {
    // Background noise from the first frame, a hello over it, noise again: a person.
    assert_eq!(
        said(detect(&[Noise(600), VoiceOverNoise(400), Noise(2000)])),
        (Verdict::Human, "HUMAN-800-800".into(), 1800)
    );
}

#[test]
fn speech_from_the_first_frame_is_heard() {
    assert_eq!(
        said(detect(&[Voice(3000)])),
        (Verdict::Machine, "LONGGREETING-1500-1500".into(), 1500)
    );
}

#[test]
fn time_without_packets_counts_as_silence() {
    assert_eq!(
        said(run(
            Settings::default(),
            &[Silence(500), Voice(400), Nothing(300), Silence(100)],
            5000
        )),
        (Verdict::Human, "HUMAN-800-800".into(), 1700)
    );
    assert_eq!(
        said(run(Settings::default(), &[], 2600)),
        (Verdict::Machine, "INITIALSILENCE-2500-2500".into(), 2500)
    );
}

#[test]
fn the_settings_change_the_rules() {
    let script = [
        Silence(300),
        Voice(300),
        Silence(200),
        Voice(300),
        Silence(200),
        Voice(300),
        Silence(2000),
    ];
    let settings = Settings {
        maximum_number_of_words: 3,
        ..Settings::default()
    };
    assert_eq!(
        said(run(settings, &script, 10_000)),
        (Verdict::Human, "HUMAN-800-800".into(), 2400)
    );
    let settings = Settings {
        initial_silence: 1000,
        ..Settings::default()
    };
    assert_eq!(
        said(run(settings, &[Silence(2000)], 10_000)),
        (Verdict::Machine, "INITIALSILENCE-1000-1000".into(), 1000)
    );
}

#[test]
fn a_machine_with_beep_wait_answers_once_its_greeting_and_beep_are_over() {
    let settings = Settings {
        beep_wait: Some(BeepWait { timeout: 20_000 }),
        ..Settings::default()
    };
    // Three words, talk on to 3 s, a pause, a beep, silence.
    let script = [
        Silence(300),
        Voice(300),
        Silence(200),
        Voice(300),
        Silence(200),
        Voice(1700),
        Silence(400),
        Voice(500),
        Silence(2000),
    ];
    let d = run(settings, &script, 10_000).expect("a detection");
    assert_eq!(
        (d.verdict, d.cause.to_string(), d.decided_at),
        (Verdict::Machine, "MAXWORDS-3-2".into(), 1400)
    );
    assert_eq!(d.greeting_over_at, Some(3900 + 800));
}

#[test]
fn beep_wait_gives_up_at_its_timeout() {
    let settings = Settings {
        beep_wait: Some(BeepWait { timeout: 2000 }),
        ..Settings::default()
    };
    let d = run(settings, &[Silence(200), Voice(8000)], 10_000).expect("a detection");
    assert_eq!(d.decided_at, 1700);
    assert_eq!(d.greeting_over_at, None);
    let d = run(settings, &[Silence(3000)], 10_000).expect("a detection");
    assert_eq!(
        (d.cause.to_string(), d.greeting_over_at),
        ("INITIALSILENCE-2500-2500".into(), Some(2500))
    );
}

#[test]
fn the_result_is_given_once() {
    let mut detector = Detector::new(Settings::default());
    assert!(detector.advance(2500).is_some());
    assert!(detector.is_done());
    assert_eq!(detector.advance(5000), None);
    assert_eq!(detector.feed(5000, &[3000; 160]), None);
}
