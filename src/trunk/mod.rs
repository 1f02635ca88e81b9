//! Trunks: where calls leave ringmaster. A [`gate::TrunkGate`] is a trunk as every campaign
//! dialing through it shares it (limits, health); [`health`] judges whether it takes calls.

pub mod gate;
pub mod health;

pub use gate::{SetupSlot, TrunkGate};
pub use health::{Observation, TrunkHealth, TrunkState};
