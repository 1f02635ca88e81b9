//! What a media session tells its call: the far end's digits, prompts ended, digits sent, a
//! silent far end, a machine detected. The session task and its outbound stream both emit
//! them.

use crate::media::amd;

/// What the session tells the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The far end pressed a digit (RFC 4733).
    Digit(char),
    /// A prompt ended: played out, or stopped (by `stop_playback`, a new `play`, or a digit
    /// during an interruptible prompt).
    PlayFinished {
        /// The id given to `play`.
        id: u64,
        /// Whether it was cut short.
        interrupted: bool,
    },
    /// Every digit given to `send_digits` has been sent.
    DigitsSent,
    /// Nothing arrived from the far end for `rtp_timeout` (reported once per silence).
    RtpTimeout,
    /// Answering-machine detection asked for by `detect_machine` has decided.
    MachineDetected {
        /// The id given to `detect_machine`.
        id: u64,
        /// What it found.
        detection: amd::Detection,
    },
}
