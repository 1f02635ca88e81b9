//! What the API bounds, so that no request can make the server hold more than a known amount
//! of memory: body sizes, string and `data` sizes, imports running at once, page sizes in bytes.
//! A CSV import is bounded in rows and bytes rather than held whole: it is stored as it arrives.

use super::error::ApiError;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Most bytes of a short string field (names, details, trunk names).
pub const MAX_TEXT: usize = 1024;
/// Most bytes of any other string in a body (the text of a `talk` action, an address).
pub const MAX_LONG_TEXT: usize = 4096;
/// Most bytes of a target's or an outdial's `data`, serialised as JSON.
pub const MAX_DATA: usize = 16 * 1024;

/// The configurable bounds (`[api]` in the configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiLimits {
    /// Largest JSON body of an ordinary request (413 above).
    pub json_body_bytes: usize,
    /// Largest body of a JSON target import (413 above).
    pub import_body_bytes: usize,
    /// Most rows of one CSV target import, read and stored as they arrive (400 past it).
    pub import_csv_rows: usize,
    /// Largest body of one CSV target import, raw or multipart (413 above).
    pub import_csv_bytes: usize,
    /// Target imports handled at once; one more is answered 503 with `Retry-After`.
    pub concurrent_imports: usize,
    /// A list page stops early, with a `next_page_token`, once its items pass this many bytes.
    pub page_bytes: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            json_body_bytes: 1024 * 1024,
            import_body_bytes: 16 * 1024 * 1024,
            import_csv_rows: 1_000_000,
            import_csv_bytes: 1024 * 1024 * 1024,
            concurrent_imports: 2,
            page_bytes: 1024 * 1024,
        }
    }
}

/// The permits of imports running at once.
#[derive(Debug, Clone)]
pub struct ImportSlots(Arc<Semaphore>);

impl ImportSlots {
    /// `n` imports at once (at least one).
    pub fn new(n: usize) -> ImportSlots {
        ImportSlots(Arc::new(Semaphore::new(n.max(1))))
    }

    /// A permit held for the length of one import, or 503 when all are taken.
    pub fn try_take(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0.clone().try_acquire_owned().map_err(|_| {
            ApiError::Busy("targets: too many imports at once; retry in a moment".into())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_beyond_the_bound_are_refused_until_one_ends() {
        let slots = ImportSlots::new(1);
        let first = slots.try_take().expect("a free slot");
        let busy = slots.try_take().map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            busy,
            Err("targets: too many imports at once; retry in a moment".into())
        );
        drop(first);
        assert!(slots.try_take().is_ok());
    }
}
