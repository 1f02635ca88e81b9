//! Media: G.711, RFC 4733 digits, one RTP task per call leg, and prompts
//! (WAV files, HTTP downloads and espeak-ng text to speech), all as 8 kHz mono samples; the
//! relay between a bridged call's two legs, and its recording.
//!
//! Nothing here touches the store; RTP never leaves the session task that owns its socket.

pub mod amd;
pub mod dtmf;
pub mod event;
pub mod g711;
pub mod http_get;
pub mod ids;
pub mod outbound;
pub mod peer;
pub mod ports;
pub mod prompts;
pub mod recording;
pub mod relay;
pub mod resample;
pub mod session;
pub mod wav;

pub use event::MediaEvent;
pub use prompts::{load, tts, PromptError};
pub use relay::{Leg, RelayConfig, RelayEvent, RelayHandle, Side};
pub use session::{spawn, Handover, MediaHandle, SessionClosed, SessionConfig};
