//! The calls each queue holds right now, written by the queues' actors and read by the API
//! for `wait_queuecall_ids`, `service_queuecall_ids` and the queue's stats; and the queues'
//! documents as last stored, so that a join does not read the store (the API tells the board
//! of every queue it stores). Readers get copies, never a lock.

use crate::domain::event::{EventType, NewEvent, Sink};
use crate::domain::Queue;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use uuid::Uuid;

/// A queue's calls now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueLive {
    /// Calls waiting for an agent, in order.
    pub waiting: Vec<Uuid>,
    /// Calls an agent is serving.
    pub serving: Vec<Uuid>,
    /// When the longest-waiting call joined.
    pub oldest_join: Option<Instant>,
}

/// Read access to the live queues.
pub trait LiveQueues: Send + Sync {
    /// What `queue` holds now (nothing when unknown).
    fn live(&self, queue: Uuid) -> QueueLive;
    /// The API stored `queue` (created, changed or deleted): joins from now on follow it.
    fn stored(&self, _queue: &Queue) {}
    /// How many calls wait in each queue holding any (for the metrics).
    fn waiting_counts(&self) -> Vec<(Uuid, usize)> {
        Vec::new()
    }
}

/// The live queues of one node, kept in memory.
#[derive(Debug, Default)]
pub struct QueueBoard {
    queues: Mutex<HashMap<Uuid, QueueLive>>,
    /// Queue documents as last read or stored (`None`: deleted or not there).
    docs: Mutex<HashMap<Uuid, Option<Queue>>>,
    /// Told of each change of a queue's calls (`queue_updated`).
    pub events: Sink,
}

impl QueueBoard {
    /// The document of `queue` as last stored: `None` when it was never read (read the store),
    /// `Some(None)` when it was deleted.
    pub fn cached(&self, queue: Uuid) -> Option<Option<Queue>> {
        self.docs.lock().ok()?.get(&queue).cloned()
    }

    /// Remembers the document of `queue` as read from the store (`None`: not there).
    pub fn cache(&self, queue: Uuid, doc: Option<Queue>) {
        if let Ok(mut docs) = self.docs.lock() {
            docs.insert(queue, doc);
        }
    }

    /// Records what `queue`, of `customer`, holds now; a change is an event.
    pub fn set_of(&self, customer: Uuid, queue: Uuid, live: QueueLive) {
        let changed = self
            .queues
            .lock()
            .map(|queues| queues.get(&queue).cloned().unwrap_or_default() != live)
            .unwrap_or(false);
        if changed {
            self.events.record(|| NewEvent {
                customer_id: customer,
                kind: EventType::QueueUpdated,
                resource_id: queue.to_string(),
                data: serde_json::json!({
                    "id": queue,
                    "customer_id": customer,
                    "wait_queuecall_ids": live.waiting,
                    "service_queuecall_ids": live.serving,
                })
                .to_string(),
            });
        }
        self.set(queue, live);
    }

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

    fn waiting_counts(&self) -> Vec<(Uuid, usize)> {
        self.queues
            .lock()
            .map(|queues| {
                queues
                    .iter()
                    .map(|(id, live)| (*id, live.waiting.len()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn stored(&self, queue: &Queue) {
        use crate::store::Document;
        let doc = (!queue.deleted()).then(|| queue.clone());
        self.cache(queue.id, doc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::event::Recorded;

    #[test]
    fn a_change_of_a_queue_s_calls_is_a_queue_updated_event_of_its_customer() {
        let board = QueueBoard::default();
        let seen = std::sync::Arc::new(Recorded::default());
        board.events.set(seen.clone());
        let (customer, queue, call) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        board.set_of(customer, queue, QueueLive::default());
        let waiting = QueueLive {
            waiting: vec![call],
            ..QueueLive::default()
        };
        board.set_of(customer, queue, waiting.clone());
        board.set_of(customer, queue, waiting);
        assert_eq!(seen.types(), [EventType::QueueUpdated]);
        let event = seen.0.lock().expect("events")[0].clone();
        assert_eq!(event.customer_id, customer);
        let data: serde_json::Value = serde_json::from_str(&event.data).expect("JSON");
        assert_eq!(data["wait_queuecall_ids"][0], call.to_string());
        assert_eq!(board.live(queue).waiting, [call]);
    }
}
