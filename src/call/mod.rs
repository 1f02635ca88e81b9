//! Placing one call through a trunk and reporting its outcome.
