//! Agents: the state machine of one agent (pure), the live board the API reads, and the
//! password hashes a registrar checks.
//!
//! ```text
//! state.rs     offline / available / ringing / busy / wrap_up / away, on a given clock
//! live.rs      AgentBoard: what the node knows of each agent now (state, contacts)
//! password.rs  a password → HA1 hashes for MD5 and SHA-256 digest
//! ```

pub mod live;
pub mod password;
pub mod state;

pub use live::{AgentBoard, AgentLive, Contact, LiveAgents};
pub use state::{AgentFigures, AgentInput, AgentMachine, AgentRules, AgentState, Transition};
