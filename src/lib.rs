//! ringmaster: an outbound call-campaign dialer that speaks SIP itself.
//!
//! # Layout
//!
//! ```text
//! domain/      plain types shared by every layer (Address, Disposition, ...); depends on nothing else
//! sip/         sans-IO SIP core: message model, transactions, dialogs, digest auth (client and
//!              server), registrar, endpoint
//! sip/transport/  the only IO in the SIP layer: one thin tokio driver per socket (UDP, TCP)
//! call/        `ringmaster call`, a leg's SIP facts judged into a disposition (pure), and the
//!              CallActor: one dial attempt, its media session and its flow
//! trunk/       trunks: configuration and resolution, the limits campaigns share, health (pure),
//!              keep-alives
//! flow/        the actions a campaign runs: validation and the interpreter (pure)
//! sdp/         SDP offers, answers and re-offers (pure); both sip/ and media/ use it
//! media/       G.711, RFC 4733 digits, one RTP task per call leg, prompts, the callee ⇄
//!              agent relay and its recordings
//! store/       durable state behind the Store trait (SQLite)
//! campaign/    running campaigns: engine, CampaignActor, pacing, predictive, dial modes and
//!              retry (pure), the dial-mode simulator, stats
//! queue/       agent queues: waiting list and routing strategies (pure), live board, the
//!              QueueActor that offers waiting calls to agents and bridges them
//! agent/       agents: state machine (pure), live board, password hashes, the directory
//!              task, the leg to an agent's phone
//! events/      events once recorded: pruning, and webhook deliveries (signed, retried)
//! api/         the REST control API under /v1.0 (actix-web), over Store and Control
//! cli/         the client commands (`ringmaster campaign list`, ...) over the REST API
//! metrics/     Prometheus metrics: lock-free counters and histograms, the text exposition
//! health.rs    what stops the dialing (store cannot write, trunk down) and `GET /health`
//! node.rs      one node: store, SIP thread, engine and API started together
//! demo/        `ringmaster demo`: a simulated trunk, a sample campaign, and a service desk
//!              whose simulated agents register and take a queue's calls
//! config.rs    settings: config/*.toml with RINGMASTER_* environment overrides
//! ```
//!
//! # The run-loop contract
//!
//! Protocol logic never reads a clock, sleeps or touches a socket. Every state machine takes
//! `(now, input)` and is drained through three calls:
//!
//! * `poll_transmit()` — bytes to put on the wire, and where;
//! * `poll_timeout()` — the next instant at which it wants `handle_timeout(now)`;
//! * `poll_event()` — what happened, for the layer above.
//!
//! A driver (see [`sip::transport`]) receives from its socket, feeds the core, drains all three
//! and sleeps until the earliest deadline. Tests drive the same cores on a simulated clock.

/// mimalloc for every binary linking the crate: the dialer allocates many small short-lived
/// buffers per call on several threads, where glibc's allocator spent ~15 % of the CPU. With
/// its `override` feature it also serves the C code's `malloc` (SQLite's), another ~5 %.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long memory freed stays with the process before mimalloc gives it back to the system
/// ([`keep_freed_memory`]).
pub const FREED_MEMORY_KEPT_MS: i64 = 10_000;

/// Has mimalloc keep the memory freed for [`FREED_MEMORY_KEPT_MS`] before giving it back to
/// the system (its `purge_delay`; 1 s by default). Memory given back is zero-filled by the
/// kernel when it is used again, page by page; the dialer's batches free and use again the
/// same memory every few seconds. While that memory came back as transparent huge pages,
/// those faults were about 5 % of the node's CPU; with them off ([`no_huge_pages`]) the delay
/// saves about a tenth of the node's page faults, within the noise of its CPU
/// (docs/performance.md). Memory unused for that long is still given back. Returns the delay
/// now in force.
pub fn keep_freed_memory() -> i64 {
    use std::ffi::{c_int, c_long};
    // `mi_option_purge_delay` in mimalloc's `mi_option_t` (the same in its v2 and v3).
    const PURGE_DELAY: c_int = 15;
    extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
        fn mi_option_get(option: c_int) -> c_long;
    }
    // SAFETY: both take and return plain integers; mimalloc's options may be set at any time.
    unsafe {
        mi_option_set(PURGE_DELAY, FREED_MEMORY_KEPT_MS as c_long);
        mi_option_get(PURGE_DELAY) as i64
    }
}

/// Has the kernel back the process's memory with 4 KiB pages only, never transparent huge
/// pages (`PR_SET_THP_DISABLE`, whatever the system's setting; the build already keeps
/// mimalloc from asking for them, its `no_thp` feature). A huge page is zero-filled whole, 2 MiB
/// at its first touch, where mimalloc had used a few KiB of it: with them the node's peak RSS
/// in the media campaign of docs/performance.md was ~40 % higher and the zeroing ~5 % of its
/// CPU. Returns whether the process now has them disabled.
pub fn no_huge_pages() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `prctl` with these options takes and returns plain integers and touches no
        // memory of the caller.
        unsafe {
            if libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 {
                return true;
            }
            libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

pub mod agent;
pub mod api;
pub mod call;
pub mod campaign;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod events;
pub mod fast;
pub mod flow;
pub mod health;
pub mod media;
pub mod metrics;
pub mod node;
pub mod queue;
pub mod sdp;
pub mod sip;
pub mod store;
pub mod trunk;

#[cfg(test)]
mod allocator_tests {
    #[test]
    fn freed_memory_is_kept_for_the_delay_set() {
        assert_eq!(super::keep_freed_memory(), super::FREED_MEMORY_KEPT_MS);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn huge_pages_are_disabled_for_the_process() {
        assert!(super::no_huge_pages());
        // SAFETY: as in `no_huge_pages`.
        assert_eq!(
            unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) },
            1
        );
        // Asking again is a no-op that still says so.
        assert!(super::no_huge_pages());
    }
}
