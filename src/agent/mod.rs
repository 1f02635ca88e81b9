//! Agents: the state machine of one agent (pure), the live board the API reads, and the
//! password hashes a registrar checks.
//!
//! ```text
//! state.rs     offline / available / ringing / busy / wrap_up / away, on a given clock
//! live.rs      AgentBoard: what the node knows of each agent now (state, contacts)
//! password.rs  a password → HA1 hashes for MD5 and SHA-256 digest
//! directory.rs the task that gives the registrar each agent's credential and turns the
//!              registrar's bindings, the agent's own status and the queues' calls to it into
//!              its state on the board
//! leg.rs       where an agent is rung (its contacts, then its addresses) and the INVITE to each
//! ```

pub mod directory;
pub mod leg;
pub mod live;
pub mod password;
pub mod state;

pub use directory::{AgentChanges, AgentDirectory, NoAgentChanges};
pub use live::{AgentBoard, AgentLive, Contact, LiveAgents};
pub use state::{AgentFigures, AgentInput, AgentMachine, AgentRules, AgentState, Transition};
