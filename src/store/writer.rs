//! Group commit: every hot-path write of every campaign goes through one writer task, which
//! applies whatever has queued up in one transaction, at most one commit every
//! [`MIN_COMMIT_GAP`], and then acknowledges each write. A caller learns that its write is
//! durable only from that acknowledgement.
//!
//! When a commit fails (a full disk, the configured size cap, an I/O error) the store is
//! marked unwritable in [`StoreHealth`] at once, so that no campaign places another call, and
//! the writer reopens its connection. From then on:
//! - a write that begins attempts is refused at once (its calls are not placed);
//! - every other write (answers, ends: what calls in progress report) is kept, in order, and
//!   acknowledged only once it is committed: nothing of a call already placed is dropped;
//! - the writer tries again after a pause that doubles up to [`MAX_RETRY_GAP`]: the kept
//!   writes (acknowledged once committed), then a write that needs the database to grow;
//!   when that succeeds the store is writable again, and the campaigns resume.

use super::health::StoreHealth;
use super::{Commits, StoreError, WriteOp};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Least time between the starts of two commits. Every commit writes each page it changed to
/// the WAL, and the dialer's writes keep changing the same few pages (the newest rows, the
/// ends of the indexes): fewer, larger commits write them fewer times. A write waits at most
/// this long more before it is durable (an attempt's Begin, before its INVITE).
const MIN_COMMIT_GAP: Duration = Duration::from_millis(20);

/// Most writes applied in one transaction.
const MAX_BATCH: usize = 2048;

/// The first pause before trying again after a failed commit.
const FIRST_RETRY_GAP: Duration = Duration::from_millis(500);

/// The longest pause between two tries while the store cannot write.
const MAX_RETRY_GAP: Duration = Duration::from_secs(5);

type Ack = oneshot::Sender<Result<Vec<bool>, WriteError>>;

/// One caller's writes and where to acknowledge them.
struct Request {
    ops: Vec<WriteOp>,
    ack: Ack,
}

impl Request {
    /// Whether it begins attempts: such a write is refused, not kept, when the store fails.
    fn begins(&self) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op, WriteOp::Begin { .. }))
    }
}

/// A handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<Request>,
    health: Arc<StoreHealth>,
}

/// Why a write was not made durable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The database refused the batch.
    #[error("{0}")]
    Store(Arc<StoreError>),
    /// The store cannot write (a commit failed and none has succeeded since): attempts are
    /// not begun.
    #[error("the store cannot write: {0}")]
    Unwritable(String),
    /// The writer has stopped.
    #[error("the store writer has stopped")]
    Stopped,
}

impl Writer {
    /// Starts the writer on a thread of its own, so that building and binding thousands of
    /// statements a second never competes with the actors for their thread.
    pub fn start(store: Arc<dyn Commits>) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(4096);
        let health = Arc::new(StoreHealth::default());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let task = Task {
            store,
            health: health.clone(),
            kept: Vec::new(),
        };
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || runtime.block_on(task.run(rx)))?;
        Ok(Writer { tx, health })
    }

    /// Whether the store can write, shared with the campaigns and the API.
    pub fn health(&self) -> &Arc<StoreHealth> {
        &self.health
    }

    /// Queues `ops` (applied together, in order) and waits until they are committed; returns
    /// whether each took effect (see [`Commits::apply`]).
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<bool>, WriteError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let (ack, done) = oneshot::channel();
        self.tx
            .send(Request { ops, ack })
            .await
            .map_err(|_| WriteError::Stopped)?;
        done.await.unwrap_or(Err(WriteError::Stopped))
    }
}

impl crate::domain::EventSink for Writer {
    /// Queued without waiting for the commit; an event that finds the queue full (thousands
    /// of writes behind) is dropped with a warning rather than holding up its caller.
    fn record(&self, event: crate::domain::NewEvent) {
        let (ack, _) = oneshot::channel();
        let request = Request {
            ops: vec![WriteOp::Event(Box::new(event))],
            ack,
        };
        if let Err(e) = self.tx.try_send(request) {
            tracing::warn!(error = %e, "an event was not recorded: the store writer is behind");
        }
    }
}

struct Task {
    store: Arc<dyn Commits>,
    health: Arc<StoreHealth>,
    /// Writes of calls in progress that a failed commit left unwritten, in order.
    kept: Vec<Request>,
}

impl Task {
    async fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut last_commit = tokio::time::Instant::now();
        loop {
            if !self.health.writable() {
                if !self.recover(&mut rx).await {
                    return;
                }
                continue;
            }
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut batch = vec![first];
            tokio::time::sleep_until(last_commit + MIN_COMMIT_GAP).await;
            last_commit = tokio::time::Instant::now();
            let mut n = batch[0].ops.len();
            while n < MAX_BATCH {
                match rx.try_recv() {
                    Ok(more) => {
                        n += more.ops.len();
                        batch.push(more);
                    }
                    Err(_) => break,
                }
            }
            self.commit(batch).await;
        }
    }

    /// Applies `batch` in one transaction and acknowledges it; on failure, marks the store
    /// unwritable, refuses its begins and keeps the rest.
    async fn commit(&mut self, mut batch: Vec<Request>) {
        let started = std::time::Instant::now();
        let (result, n) = apply_requests(self.store.as_ref(), &mut batch).await;
        match result {
            Ok(applied) => {
                crate::metrics::global().store_commit(started.elapsed());
                acknowledge(batch, &applied)
            }
            Err(e) => {
                let e = Arc::new(e);
                tracing::error!(error = %e, writes = n, "a commit failed: no call is placed until the store can write again");
                self.health.failed(&e.to_string());
                self.reopen().await;
                for r in batch {
                    if r.begins() {
                        let _ = r.ack.send(Err(WriteError::Store(e.clone())));
                    } else {
                        self.kept.push(r);
                    }
                }
            }
        }
    }

    /// While the store cannot write: refuses begins at once, keeps other writes, and tries
    /// again after a growing pause. Returns `false` once nobody can send any more writes and
    /// none is kept.
    async fn recover(&mut self, rx: &mut mpsc::Receiver<Request>) -> bool {
        let mut gap = FIRST_RETRY_GAP;
        let mut open = true;
        while !self.health.writable() {
            let retry = tokio::time::sleep(gap);
            tokio::pin!(retry);
            loop {
                tokio::select! {
                    _ = &mut retry => break,
                    request = rx.recv(), if open => match request {
                        Some(r) => self.hold(r),
                        None => open = false,
                    },
                }
            }
            if self.try_again().await {
                tracing::info!("the store can write again: dialing resumes");
                self.health.recovered();
            } else {
                gap = (gap * 2).min(MAX_RETRY_GAP);
                self.reopen().await;
            }
            if !open && self.kept.is_empty() {
                return false;
            }
        }
        true
    }

    fn hold(&mut self, r: Request) {
        if r.begins() {
            let reason = self.health.failure().map(|f| f.reason).unwrap_or_default();
            let _ = r.ack.send(Err(WriteError::Unwritable(reason)));
        } else {
            self.kept.push(r);
        }
    }

    /// Commits the kept writes, then a write that needs the database to grow: whether both
    /// worked (the kept ones may fit where a new attempt would not).
    async fn try_again(&mut self) -> bool {
        if !self.kept.is_empty() {
            let mut kept = std::mem::take(&mut self.kept);
            let (result, n) = apply_requests(self.store.as_ref(), &mut kept).await;
            match result {
                Ok(applied) => {
                    tracing::info!(writes = n, "kept writes committed");
                    acknowledge(kept, &applied);
                }
                Err(e) => {
                    tracing::warn!(error = %e, writes = n, "the store still cannot write");
                    self.health.failed(&e.to_string());
                    self.kept = kept;
                    return false;
                }
            }
        }
        match self.store.probe_write().await {
            Ok(()) => true,
            Err(e) => {
                self.health.failed(&e.to_string());
                false
            }
        }
    }

    async fn reopen(&self) {
        if let Err(e) = self.store.reopen_writes().await {
            tracing::warn!(error = %e, "cannot reopen the store's connection");
        }
    }
}

/// Applies the writes of `batch` in one transaction, each request keeping its own: what the
/// store answered, and how many writes there were.
async fn apply_requests(
    store: &dyn Commits,
    batch: &mut [Request],
) -> (Result<Vec<bool>, StoreError>, usize) {
    let taken = take_ops(batch);
    let n = taken.0.len();
    let result = store.apply(&taken.0).await;
    give_back(batch, taken);
    (result, n)
}

/// The writes of `batch`, in order, moved out of its requests (not copied: a batch holds
/// thousands, each with a call's record), and how many each request had; [`give_back`] returns
/// them.
fn take_ops(batch: &mut [Request]) -> (Vec<WriteOp>, Vec<usize>) {
    let lens: Vec<usize> = batch.iter().map(|r| r.ops.len()).collect();
    let mut ops = Vec::with_capacity(lens.iter().sum());
    for r in batch.iter_mut() {
        ops.append(&mut r.ops);
    }
    (ops, lens)
}

/// Returns to each request of `batch` the writes [`take_ops`] took from it.
fn give_back(batch: &mut [Request], (ops, lens): (Vec<WriteOp>, Vec<usize>)) {
    let mut ops = ops.into_iter();
    for (r, n) in batch.iter_mut().zip(lens) {
        r.ops.extend(ops.by_ref().take(n));
    }
}

/// Sends each request its share of `applied`.
fn acknowledge(batch: Vec<Request>, applied: &[bool]) {
    let mut offset = 0;
    for r in batch {
        let n = r.ops.len();
        let mine = applied
            .get(offset..offset + n)
            .map(<[bool]>::to_vec)
            .unwrap_or_default();
        offset += n;
        let _ = r.ack.send(Ok(mine));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exhausted(n: u128) -> WriteOp {
        WriteOp::Exhausted {
            target_id: uuid::Uuid::from_u128(n),
            outdial_id: uuid::Uuid::nil(),
            at: String::new(),
        }
    }

    fn ids(ops: &[WriteOp]) -> Vec<u128> {
        ops.iter()
            .map(|op| match op {
                WriteOp::Exhausted { target_id, .. } => target_id.as_u128(),
                _ => unreachable!("an exhausted target"),
            })
            .collect()
    }

    #[test]
    fn a_batchs_writes_are_taken_in_order_and_given_back_to_their_requests() {
        let mut batch: Vec<Request> = [vec![1, 2], vec![], vec![3]]
            .into_iter()
            .map(|ids| Request {
                ops: ids.into_iter().map(exhausted).collect(),
                ack: oneshot::channel().0,
            })
            .collect();
        let taken = take_ops(&mut batch);
        assert_eq!(ids(&taken.0), [1, 2, 3]);
        assert!(batch.iter().all(|r| r.ops.is_empty()));
        give_back(&mut batch, taken);
        let back: Vec<Vec<u128>> = batch.iter().map(|r| ids(&r.ops)).collect();
        assert_eq!(back, [vec![1, 2], vec![], vec![3]]);
    }
}
