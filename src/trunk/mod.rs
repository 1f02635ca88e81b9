//! Trunks: where calls leave ringmaster. A [`Trunk`] is one configured and resolved (what a
//! call needs to dial through it); a [`gate::TrunkGate`] is a trunk as every campaign dialing
//! through it shares it (limits, health); [`health`] judges whether it takes calls, from
//! what its calls and the [`keepalive`] probes show.

pub mod bucket;
pub mod config;
pub mod gate;
pub mod health;
pub mod keepalive;

pub use bucket::TokenBucket;
pub use config::{Trunk, TrunkConfig, TrunkError};
pub use gate::{SetupSlot, TrunkGate};
pub use health::{Observation, TrunkHealth, TrunkState};
