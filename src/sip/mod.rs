//! The SIP layer. Everything here except [`transport`] is sans-IO: no socket, no clock, no
//! store, no actor. Drivers feed it bytes and instants and drain what it wants sent.

pub mod auth;
pub mod build;
pub mod dialog;
pub mod digest_server;
pub mod endpoint;
pub mod framing;
pub mod message;
mod parse;
pub mod registrar;
pub mod transaction;
pub mod transport;
pub mod uri;
