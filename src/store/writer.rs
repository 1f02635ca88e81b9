//! Group commit: every hot-path write of every campaign goes through one writer task, which
//! applies whatever has queued up in one transaction, at most one commit every
//! [`MIN_COMMIT_GAP`], and then acknowledges each write. A
//! caller learns that its write is durable only from that acknowledgement.

use super::{Store, StoreError, WriteOp};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Least time between the starts of two commits. Every commit writes each page it changed to
/// the WAL, and the dialer's writes keep changing the same few pages (the newest rows, the
/// ends of the indexes): fewer, larger commits write them fewer times. A write waits at most
/// this long more before it is durable (an attempt's Begin, before its INVITE).
const MIN_COMMIT_GAP: std::time::Duration = std::time::Duration::from_millis(20);

/// Most writes applied in one transaction.
const MAX_BATCH: usize = 2048;

type Ack = oneshot::Sender<Result<Vec<bool>, Arc<StoreError>>>;

/// A handle to the writer task.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<(Vec<WriteOp>, Ack)>,
}

/// Why a write was not made durable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The database refused the batch.
    #[error("{0}")]
    Store(Arc<StoreError>),
    /// The writer has stopped.
    #[error("the store writer has stopped")]
    Stopped,
}

impl Writer {
    /// Starts the writer on a thread of its own, so that building and binding thousands of
    /// statements a second never competes with the actors for their thread.
    pub fn start(store: Arc<dyn Store>) -> std::io::Result<Writer> {
        let (tx, rx) = mpsc::channel(4096);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || runtime.block_on(run(store, rx)))?;
        Ok(Writer { tx })
    }

    /// Queues `ops` (applied together, in order) and waits until they are committed; returns
    /// whether each took effect (see [`Store::apply`]).
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<Vec<bool>, WriteError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let (ack, done) = oneshot::channel();
        self.tx
            .send((ops, ack))
            .await
            .map_err(|_| WriteError::Stopped)?;
        match done.await {
            Ok(Ok(applied)) => Ok(applied),
            Ok(Err(e)) => Err(WriteError::Store(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(Vec<WriteOp>, Ack)>) {
    let mut ops = Vec::new();
    // Each caller's ack and how many of the batch's writes are its.
    let mut acks: Vec<(Ack, usize)> = Vec::new();
    let mut last_commit = tokio::time::Instant::now();
    while let Some((first, ack)) = rx.recv().await {
        acks.push((ack, first.len()));
        ops.extend(first);
        tokio::time::sleep_until(last_commit + MIN_COMMIT_GAP).await;
        last_commit = tokio::time::Instant::now();
        while ops.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((more, ack)) => {
                    acks.push((ack, more.len()));
                    ops.extend(more);
                }
                Err(_) => break,
            }
        }
        let result = store.apply(&ops).await.map_err(Arc::new);
        if let Err(e) = &result {
            tracing::error!(error = %e, writes = ops.len(), "a batch of dialer writes failed");
        }
        let mut offset = 0;
        for (ack, n) in acks.drain(..) {
            let mine = match &result {
                Ok(applied) => Ok(applied
                    .get(offset..offset + n)
                    .map(<[bool]>::to_vec)
                    .unwrap_or_default()),
                Err(e) => Err(e.clone()),
            };
            offset += n;
            let _ = ack.send(mine);
        }
        ops.clear();
    }
}
