//! Answering-machine detection: from the first seconds of what the callee's side says, decide
//! whether a person or a machine answered. Pure: it is fed frames of 8 kHz linear PCM with
//! the time each one starts (ms since the analysis began) and answers once it has decided.
//!
//! The rules and their defaults are those of Asterisk's `AMD()` application: a person says a
//! word or two ("hello?") and waits; a machine starts with a long silence, or talks for long,
//! or says many words. Voice is told from silence by the mean absolute amplitude of each
//! frame against `silence_threshold`, raised over a noise floor learnt from the quietest
//! recent frames, so that a noisy line does not read as one endless word.
//!
//! ```text
//! silence ≥ initial_silence before any word         → machine INITIALSILENCE
//! voice in the greeting ≥ greeting                  → machine LONGGREETING
//! more than maximum_number_of_words words           → machine MAXWORDS
//! one word ≥ maximum_word_length                    → machine MAXWORDLENGTH
//! after a word, silence ≥ after_greeting_silence    → human   HUMAN
//! total_analysis_time with none of the above        → notsure TOOLONG
//! ```

use std::collections::VecDeque;
use std::fmt;

/// The frame length the media session feeds, ms.
pub const FRAME_MS: u64 = 20;
/// Samples per ms at 8 kHz.
const SAMPLES_PER_MS: u64 = 8;
/// Frames the noise floor is the quietest of (one second).
const FLOOR_FRAMES: usize = 50;
/// Voice must be this many times louder than the noise floor.
const FLOOR_RATIO: u32 = 2;
/// The noise floor is never taken above this many times `silence_threshold`: speech from the
/// first frame on must not teach the detector that speech is the floor.
const FLOOR_CAP: u32 = 2;

/// Asterisk AMD's parameters (times in ms), with its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Silence before the first word that means a machine.
    pub initial_silence: u32,
    /// Voice in the greeting that means a machine.
    pub greeting: u32,
    /// Silence after the first word that means a person waiting for an answer.
    pub after_greeting_silence: u32,
    /// Undecided after this long: `notsure`.
    pub total_analysis_time: u32,
    /// Voice this long is a word.
    pub min_word_length: u32,
    /// Silence this long ends a word.
    pub between_words_silence: u32,
    /// More words than this is a machine.
    pub maximum_number_of_words: u32,
    /// One word this long is a machine.
    pub maximum_word_length: u32,
    /// A frame whose mean absolute amplitude is below this is silence.
    pub silence_threshold: u16,
    /// On a machine, go on listening until its greeting (and beep) is over.
    pub beep_wait: Option<BeepWait>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            initial_silence: 2500,
            greeting: 1500,
            after_greeting_silence: 800,
            total_analysis_time: 5000,
            min_word_length: 100,
            between_words_silence: 50,
            maximum_number_of_words: 2,
            maximum_word_length: 5000,
            silence_threshold: 256,
            beep_wait: None,
        }
    }
}

/// Waiting for the end of a machine's greeting: `after_greeting_silence` of silence, at most
/// `timeout` ms after the machine was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BeepWait {
    /// Give up waiting after this long, ms.
    pub timeout: u32,
}

/// Who answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// A person.
    Human,
    /// An answering machine or voicemail.
    Machine,
    /// Could not tell within `total_analysis_time`.
    NotSure,
}

impl Verdict {
    /// The flow variable's value: `human`, `machine`, `notsure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Human => "human",
            Verdict::Machine => "machine",
            Verdict::NotSure => "notsure",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why: Asterisk's `AMDCAUSE`, the measured value then the limit it reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// `INITIALSILENCE-<silence>-<initial_silence>`.
    InitialSilence {
        /// Silence heard, ms.
        silence: u32,
        /// The limit.
        limit: u32,
    },
    /// `LONGGREETING-<voice>-<greeting>`.
    LongGreeting {
        /// Voice heard, ms.
        voice: u32,
        /// The limit.
        limit: u32,
    },
    /// `MAXWORDS-<words>-<maximum_number_of_words>`.
    MaxWords {
        /// Words heard.
        words: u32,
        /// The limit.
        limit: u32,
    },
    /// `MAXWORDLENGTH-<word>-<maximum_word_length>`.
    MaxWordLength {
        /// The word's length, ms.
        word: u32,
        /// The limit.
        limit: u32,
    },
    /// `HUMAN-<silence>-<after_greeting_silence>`.
    Human {
        /// Silence after the greeting, ms.
        silence: u32,
        /// The limit.
        limit: u32,
    },
    /// `TOOLONG-<total>`.
    TooLong {
        /// Time analysed, ms.
        total: u32,
    },
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::InitialSilence { silence, limit } => {
                write!(f, "INITIALSILENCE-{silence}-{limit}")
            }
            Cause::LongGreeting { voice, limit } => write!(f, "LONGGREETING-{voice}-{limit}"),
            Cause::MaxWords { words, limit } => write!(f, "MAXWORDS-{words}-{limit}"),
            Cause::MaxWordLength { word, limit } => write!(f, "MAXWORDLENGTH-{word}-{limit}"),
            Cause::Human { silence, limit } => write!(f, "HUMAN-{silence}-{limit}"),
            Cause::TooLong { total } => write!(f, "TOOLONG-{total}"),
        }
    }
}

/// What the detector decided, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// Who answered.
    pub verdict: Verdict,
    /// Why.
    pub cause: Cause,
    /// When it was decided, ms since the analysis began.
    pub decided_at: u64,
    /// With [`BeepWait`] on a machine: when the silence after its greeting was complete
    /// (`None`: the wait timed out, or there was none).
    pub greeting_over_at: Option<u64>,
}

/// Tells voice from silence, one frame at a time.
#[derive(Debug, Clone)]
struct Vad {
    threshold: u32,
    /// Mean absolute amplitude of the latest frames.
    recent: VecDeque<u32>,
}

impl Vad {
    fn new(threshold: u16) -> Vad {
        Vad {
            threshold: u32::from(threshold),
            recent: VecDeque::with_capacity(FLOOR_FRAMES + 1),
        }
    }

    /// Whether a frame of this mean absolute amplitude is voice; learns from it.
    fn is_voice(&mut self, level: u32) -> bool {
        let floor = self
            .recent
            .iter()
            .copied()
            .min()
            .unwrap_or(0)
            .min(self.threshold * FLOOR_CAP);
        self.recent.push_back(level);
        if self.recent.len() > FLOOR_FRAMES {
            self.recent.pop_front();
        }
        level >= self.threshold.max(floor * FLOOR_RATIO)
    }
}

/// Mean absolute amplitude.
fn level(samples: &[i16]) -> u32 {
    if samples.is_empty() {
        return 0;
    }
    let sum: u64 = samples.iter().map(|&s| u64::from(s.unsigned_abs())).sum();
    (sum / samples.len() as u64) as u32
}

/// One analysis of one call's incoming audio.
#[derive(Debug, Clone)]
pub struct Detector {
    settings: Settings,
    vad: Vad,
    /// Audio time accounted for, ms.
    position: u64,
    /// The current run of silence, ms.
    silence: u32,
    /// The current run of voice (gaps shorter than `between_words_silence` included), ms.
    consecutive_voice: u32,
    /// All voice, ms.
    voice: u32,
    words: u32,
    in_word: bool,
    in_initial_silence: bool,
    in_greeting: bool,
    /// A machine found, waiting for its greeting to end.
    machine: Option<Detection>,
    done: bool,
}

impl Detector {
    /// A new analysis; time 0 is its start.
    pub fn new(settings: Settings) -> Detector {
        Detector {
            vad: Vad::new(settings.silence_threshold),
            settings,
            position: 0,
            silence: 0,
            consecutive_voice: 0,
            voice: 0,
            words: 0,
            in_word: false,
            in_initial_silence: true,
            in_greeting: false,
            machine: None,
            done: false,
        }
    }

    /// Whether the result has been given.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Feeds one frame of audio starting at `at` ms (a gap since the last frame counts as
    /// silence; a frame that overlaps the last one is taken as following it). Answers the
    /// result once, when it is decided.
    pub fn feed(&mut self, at: u64, samples: &[i16]) -> Option<Detection> {
        if let Some(d) = self.advance(at) {
            return Some(d);
        }
        if self.done || samples.is_empty() {
            return None;
        }
        let ms = (samples.len() as u64).div_ceil(SAMPLES_PER_MS);
        let voice = self.vad.is_voice(level(samples));
        self.frame(ms, voice)
    }

    /// Time up to `now` ms without audio counts as silence.
    pub fn advance(&mut self, now: u64) -> Option<Detection> {
        while !self.done && self.position < now {
            let ms = (now - self.position).min(FRAME_MS);
            self.vad.is_voice(0);
            if let Some(d) = self.frame(ms, false) {
                return Some(d);
            }
        }
        None
    }

    /// Accounts one frame of `ms`.
    fn frame(&mut self, ms: u64, voice: bool) -> Option<Detection> {
        self.position += ms;
        let ms = ms as u32;
        if let Some(machine) = self.machine {
            return self.beep_frame(machine, ms, voice);
        }
        let s = self.settings;
        if self.position >= u64::from(s.total_analysis_time) {
            return self.decide(
                Verdict::NotSure,
                Cause::TooLong {
                    total: self.position as u32,
                },
            );
        }
        if voice {
            self.silence = 0;
            self.consecutive_voice += ms;
            self.voice += ms;
            if self.consecutive_voice >= s.min_word_length && !self.in_word {
                self.words += 1;
                self.in_word = true;
            }
            if self.words > s.maximum_number_of_words {
                return self.decide(
                    Verdict::Machine,
                    Cause::MaxWords {
                        words: self.words,
                        limit: s.maximum_number_of_words,
                    },
                );
            }
            if self.consecutive_voice >= s.maximum_word_length {
                return self.decide(
                    Verdict::Machine,
                    Cause::MaxWordLength {
                        word: self.consecutive_voice,
                        limit: s.maximum_word_length,
                    },
                );
            }
            if self.in_greeting && self.voice >= s.greeting {
                return self.decide(
                    Verdict::Machine,
                    Cause::LongGreeting {
                        voice: self.voice,
                        limit: s.greeting,
                    },
                );
            }
            if self.consecutive_voice >= s.min_word_length {
                self.in_initial_silence = false;
                self.in_greeting = true;
            }
        } else {
            self.silence += ms;
            if self.silence >= s.between_words_silence {
                self.in_word = false;
                self.consecutive_voice = 0;
            }
            if self.in_initial_silence && self.silence >= s.initial_silence {
                return self.decide(
                    Verdict::Machine,
                    Cause::InitialSilence {
                        silence: self.silence,
                        limit: s.initial_silence,
                    },
                );
            }
            if self.in_greeting && self.silence >= s.after_greeting_silence {
                return self.decide(
                    Verdict::Human,
                    Cause::Human {
                        silence: self.silence,
                        limit: s.after_greeting_silence,
                    },
                );
            }
        }
        None
    }

    fn decide(&mut self, verdict: Verdict, cause: Cause) -> Option<Detection> {
        let detection = Detection {
            verdict,
            cause,
            decided_at: self.position,
            greeting_over_at: None,
        };
        if verdict == Verdict::Machine && self.settings.beep_wait.is_some() {
            self.machine = Some(detection);
            // A greeting that was silence is over already.
            if matches!(cause, Cause::InitialSilence { .. }) {
                return self.finish(Detection {
                    greeting_over_at: Some(self.position),
                    ..detection
                });
            }
            return None;
        }
        self.finish(detection)
    }

    /// A frame while waiting for a machine's greeting (and beep) to end.
    fn beep_frame(&mut self, machine: Detection, ms: u32, voice: bool) -> Option<Detection> {
        self.silence = if voice { 0 } else { self.silence + ms };
        if self.silence >= self.settings.after_greeting_silence {
            return self.finish(Detection {
                greeting_over_at: Some(self.position),
                ..machine
            });
        }
        let timeout = self.settings.beep_wait.map_or(0, |b| u64::from(b.timeout));
        if self.position >= machine.decided_at + timeout {
            return self.finish(machine);
        }
        None
    }

    fn finish(&mut self, detection: Detection) -> Option<Detection> {
        self.done = true;
        Some(detection)
    }
}

#[cfg(test)]
#[path = "amd_tests.rs"]
mod tests;
