//! Flows: the actions a campaign runs on each answered call (or with no call, for `flow`
//! campaigns). Pure: no IO, no clock.
//!
//! ```text
//! validate.rs     checks a list of actions before it is stored
//! variables.rs    the variables of a run and their ${name} / {{name}} substitution
//! command.rs      Command (what the call should do) and Input (how it ended)
//! interpreter.rs  Runner: runs the actions, emitting Commands, resumed with Inputs
//! outcome.rs      FlowOutcome: what a run did, stored as a campaigncall's flow_result
//! ```

pub mod command;
pub mod interpreter;
pub mod outcome;
pub mod validate;
pub mod variables;

pub use command::{Command, Input};
pub use interpreter::{RecordingAsked, Runner};
pub use outcome::{amd_result, collected_digits, opted_out, ActionRun, FlowOutcome, RunResult};
pub use validate::{parse_actions, validate_actions, ActionError, ACTION_TYPES};
pub use variables::{CallContext, Variables};
