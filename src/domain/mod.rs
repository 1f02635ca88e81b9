//! Plain types shared by every layer. This module depends on nothing else in the crate.

mod disposition;

pub use disposition::{Disposition, HangupBy};
