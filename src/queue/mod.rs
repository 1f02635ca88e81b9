//! Queues: who waits (pure), which agent is offered a call (pure), and the live board the API
//! reads.
//!
//! ```text
//! strategy.rs  routing methods over a snapshot of agents; an agent's ring method
//! waiting.rs   the waiting list: FIFO, wait timeout, figures and service level
//! live.rs      QueueBoard: the calls waiting and being served now, per queue
//! actor.rs     QueueActor: one queue at work (waiting calls, offers to agents, bridges) and
//!              the registry that starts them on first use
//! ```

pub mod actor;
pub mod live;
pub mod strategy;
pub mod waiting;

pub use actor::{
    CalleeMedia, Join, Leave, QueueActor, QueueError, QueueNews, QueueParts, QueueRegistry,
};
pub use live::{LiveQueues, QueueBoard, QueueLive};
pub use strategy::{choose, ring_steps, Candidate, Router};
pub use waiting::{queue_stats, QueueFigures, QueueStats, WaitingList};
