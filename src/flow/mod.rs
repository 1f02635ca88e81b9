//! Flows: the actions a campaign runs on each answered call (or with no call, for `flow`
//! campaigns). Pure: no IO, no clock.

pub mod validate;

pub use validate::{parse_actions, validate_actions, ActionError, ACTION_TYPES};
