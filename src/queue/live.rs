//! The calls each queue holds right now, written by the queues' actors and read by the API
//! for `wait_queuecall_ids` and `service_queuecall_ids`. Readers get copies, never a lock.

use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// A queue's calls now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueLive {
    /// Calls waiting for an agent, in order.
    pub waiting: Vec<Uuid>,
    /// Calls an agent is serving.
    pub serving: Vec<Uuid>,
}

/// Read access to the live queues.
pub trait LiveQueues: Send + Sync {
    /// What `queue` holds now (nothing when unknown).
    fn live(&self, queue: Uuid) -> QueueLive;
}

/// The live queues of one node, kept in memory.
#[derive(Debug, Default)]
pub struct QueueBoard {
    queues: Mutex<HashMap<Uuid, QueueLive>>,
}

impl QueueBoard {
    /// Records what `queue` holds now.
    pub fn set(&self, queue: Uuid, live: QueueLive) {
        if let Ok(mut queues) = self.queues.lock() {
            queues.insert(queue, live);
        }
    }

    /// Forgets `queue`.
    pub fn remove(&self, queue: Uuid) {
        if let Ok(mut queues) = self.queues.lock() {
            queues.remove(&queue);
        }
    }
}

impl LiveQueues for QueueBoard {
    fn live(&self, queue: Uuid) -> QueueLive {
        self.queues
            .lock()
            .ok()
            .and_then(|queues| queues.get(&queue).cloned())
            .unwrap_or_default()
    }
}
