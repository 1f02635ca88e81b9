//! What happens to events once they are recorded (see `domain::event` for what they are and
//! `store` for how each is written with its change): old ones are pruned, and each active
//! webhook's are queued in its outbox and POSTed, signed, until accepted or out of tries.
//!
//! ```text
//! settings.rs   [events] and [webhooks] settings
//! signature.rs  X-Ringmaster-Signature: t=<unix>,v1=<hex HMAC-SHA256> (pure)
//! backoff.rs    when a failed delivery is tried again (pure)
//! delivery.rs   the delivery worker: outbox → POST → delivery log
//! retention.rs  pruning old events and finished deliveries
//! ```

pub mod backoff;
pub mod delivery;
pub mod retention;
pub mod settings;
pub mod signature;

pub use settings::{EventSettings, WebhookSettings};
