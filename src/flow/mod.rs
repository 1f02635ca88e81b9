//! Flows: the actions a campaign runs on each answered call (or with no call, for `flow`
//! campaigns). Pure: no IO, no clock.
//!
//! ```text
//! validate.rs     checks a list of actions before it is stored
//! variables.rs    the variables of a run and their ${name} / {{name}} substitution
//! ```

pub mod validate;
pub mod variables;

pub use validate::{parse_actions, validate_actions, ActionError, ACTION_TYPES};
pub use variables::Variables;
