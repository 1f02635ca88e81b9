//! `[campaign]` and `[dialing]`: the clock campaigns read their windows on, and what keeps
//! power and predictive dialing within the abandon rules.

use serde::Deserialize;

/// `[campaign]`: how campaigns run.
#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignSettings {
    /// Seconds added to the clock that call windows and `scheduled_at` / `end_at` are read on
    /// (0 in production). A test and rehearsal facility: with `-36000`, windows behave as ten
    /// hours earlier. SIP timers and the stored `tm_*` times keep the real clock.
    pub clock_offset_s: i64,
}

/// `[dialing]`: what keeps power and predictive dialing within the abandon rules.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DialingSettings {
    /// In predictive mode and power mode over 100 %, a callee answered with no agent this
    /// long after the answer hears the safe-harbour message and is hung up (disposition
    /// `abandoned`).
    pub safe_harbour_ms: u64,
    /// The safe-harbour message, spoken (text to speech) unless `safe_harbour_audio` is set.
    pub safe_harbour_text: String,
    /// The safe-harbour message as a WAV file under `[media] prompts_dir` or an http(s) URL
    /// (as `play` takes), instead of the text.
    pub safe_harbour_audio: Option<String>,
    /// A number whose call was abandoned at the safe harbour is not dialed again for this
    /// long (by the same customer).
    pub abandon_lockout_hours: u64,
    /// The rolling window over which predictive pacing holds the abandon rate under the cap
    /// (30 days by default; read back from the stored attempts when a campaign starts).
    pub abandon_window_minutes: u64,
    /// The reserve predictive pacing starts from, in standard deviations of the shortfall of
    /// agents (higher: fewer abandoned calls, more agent idle time); its abandon-rate
    /// controller moves it from there.
    pub predictive_safety: f64,
}

impl Default for DialingSettings {
    fn default() -> Self {
        DialingSettings {
            safe_harbour_ms: 2000,
            safe_harbour_text:
                "Sorry, all our agents are busy. We will call you again later. Goodbye.".into(),
            safe_harbour_audio: None,
            abandon_lockout_hours: 72,
            abandon_window_minutes: 30 * 24 * 60,
            predictive_safety: super::predictive::DEFAULT_SAFETY,
        }
    }
}
