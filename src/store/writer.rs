//! Group commit: every hot-path write of every campaign goes through one writer task, which
//! applies whatever has queued up in one transaction and then acknowledges each write. A
//! caller learns that its write is durable only from that acknowledgement.

use super::{Store, StoreError, WriteOp};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Most writes applied in one transaction.
const MAX_BATCH: usize = 2048;

type Ack = oneshot::Sender<Result<(), Arc<StoreError>>>;

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
    /// Starts the writer task on the current tokio runtime.
    pub fn start(store: Arc<dyn Store>) -> Writer {
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(run(store, rx));
        Writer { tx }
    }

    /// Queues `ops` (applied together, in order) and waits until they are committed.
    pub async fn write(&self, ops: Vec<WriteOp>) -> Result<(), WriteError> {
        if ops.is_empty() {
            return Ok(());
        }
        let (ack, done) = oneshot::channel();
        self.tx
            .send((ops, ack))
            .await
            .map_err(|_| WriteError::Stopped)?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Store(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<(Vec<WriteOp>, Ack)>) {
    let mut ops = Vec::new();
    let mut acks = Vec::new();
    while let Some((first, ack)) = rx.recv().await {
        ops.extend(first);
        acks.push(ack);
        while ops.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok((more, ack)) => {
                    ops.extend(more);
                    acks.push(ack);
                }
                Err(_) => break,
            }
        }
        let result = store.apply(&ops).await.map_err(Arc::new);
        if let Err(e) = &result {
            tracing::error!(error = %e, writes = ops.len(), "a batch of dialer writes failed");
        }
        for ack in acks.drain(..) {
            let _ = ack.send(result.clone());
        }
        ops.clear();
    }
}
