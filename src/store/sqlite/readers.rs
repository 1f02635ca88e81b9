//! The connections the API's polled reads run on (a page of targets, of campaigncalls or of
//! documents, a document, a campaign's counters), held apart from sqlx's pool.
//!
//! Each sqlx SQLite connection runs its statements on a thread of its own, and the pool asks
//! that thread whether it still answers when it hands a connection out and again when it takes
//! it back: three round trips between threads for a one-statement read, each a wake-up that
//! waits for a core on a busy machine. A connection here is handed out and taken back as it
//! is: one round trip per statement. An open SQLite file has no peer to lose; what could end
//! a connection is its thread stopping, so a connection idle for [`CHECK_AFTER`] is asked
//! once before it is handed out again, and one that does not answer is replaced.

use super::super::StoreResult;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection};
use std::ops::{Deref, DerefMut};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a connection may go unchecked before it is asked whether it still answers.
const CHECK_AFTER: Duration = Duration::from_secs(1);

/// At most `size` reader connections, opened on first need.
pub(super) struct Readers {
    options: SqliteConnectOptions,
    free: Semaphore,
    idle: Mutex<Vec<Idle>>,
}

struct Idle {
    conn: SqliteConnection,
    checked: Instant,
}

/// A connection lent for one read; it goes back when dropped.
pub(super) struct Reader<'a> {
    conn: Option<SqliteConnection>,
    checked: Instant,
    readers: &'a Readers,
    _permit: SemaphorePermit<'a>,
}

impl Readers {
    /// Up to `size` connections opened with `options`.
    pub(super) fn new(options: SqliteConnectOptions, size: usize) -> Readers {
        Readers {
            options,
            free: Semaphore::new(size),
            idle: Mutex::new(Vec::with_capacity(size)),
        }
    }

    /// A connection, once one is free: an idle one, or a new one while fewer than `size`
    /// are open.
    pub(super) async fn read(&self) -> StoreResult<Reader<'_>> {
        let permit = self
            .free
            .acquire()
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = match self.idle.lock() {
            Ok(mut idle) => idle.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        };
        let (conn, checked) = match idle {
            Some(i) if i.checked.elapsed() < CHECK_AFTER => (i.conn, i.checked),
            Some(mut i) => match i.conn.ping().await {
                Ok(()) => (i.conn, Instant::now()),
                Err(e) => {
                    tracing::warn!(error = %e, "a reader connection stopped answering: replaced");
                    let _ = i.conn.close_hard().await;
                    (self.options.connect().await?, Instant::now())
                }
            },
            None => (self.options.connect().await?, Instant::now()),
        };
        Ok(Reader {
            conn: Some(conn),
            checked,
            readers: self,
            _permit: permit,
        })
    }
}

impl Deref for Reader<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.conn
            .as_ref()
            .expect("a reader holds its connection until dropped")
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.conn
            .as_mut()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A read dropped half-way (its client went away) leaves its statement to the
        // connection's thread, which finishes or resets it before the next command it is
        // sent: the connection is fit to lend again at once.
        let idle = Idle {
            conn,
            checked: self.checked,
        };
        match self.readers.idle.lock() {
            Ok(mut v) => v.push(idle),
            Err(poisoned) => poisoned.into_inner().push(idle),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{DocKind, Store};
    use super::super::SqliteStore;
    use super::*;
    use futures::TryStreamExt;
    use uuid::Uuid;

    async fn file_store(dir: &tempfile::TempDir) -> SqliteStore {
        let url = format!("sqlite://{}", dir.path().join("reads.db").display());
        SqliteStore::open(&url).await.expect("open")
    }

    #[tokio::test]
    async fn a_read_sees_every_write_committed_before_it_and_maps_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = file_store(&dir).await;
        let (id, customer) = (Uuid::from_u128(1), Uuid::from_u128(2));
        for n in 0..20 {
            let body = format!("{{\"n\":{n}}}");
            store
                .put_doc(DocKind::Queue, id, customer, "", false, body.clone())
                .await
                .expect("put");
            let read = store.get_doc(DocKind::Queue, Some(customer), id).await;
            assert_eq!(read.expect("get"), Some(body), "write {n}");
        }
        let mut reader = store.read().await.expect("reader");
        let mapped: i64 = sqlx::query_scalar("PRAGMA mmap_size")
            .fetch_one(&mut *reader)
            .await
            .expect("mmap_size");
        assert_eq!(mapped.to_string(), super::super::READER_MMAP_BYTES);
    }

    #[tokio::test]
    async fn no_more_connections_are_lent_than_the_bound_and_each_is_lent_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _store = file_store(&dir).await;
        let options = SqliteConnectOptions::new().filename(dir.path().join("reads.db"));
        let readers = Readers::new(options, 1);
        let first = readers.read().await.expect("first");
        let waiting = tokio::time::timeout(Duration::from_millis(50), readers.read()).await;
        assert!(waiting.is_err(), "a second connection beyond the bound");
        drop(first);
        let again = readers.read().await.expect("lent again");
        drop(again);
        assert_eq!(
            readers.idle.lock().expect("idle").len(),
            1,
            "reused, not reopened"
        );
    }

    #[tokio::test]
    async fn a_read_dropped_half_way_leaves_its_connection_fit_to_lend() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _store = file_store(&dir).await;
        let options = SqliteConnectOptions::new().filename(dir.path().join("reads.db"));
        let readers = Readers::new(options, 1);
        {
            let mut reader = readers.read().await.expect("reader");
            let mut rows = sqlx::query_scalar::<_, i64>(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
                 SELECT i FROM n",
            )
            .fetch(&mut *reader);
            assert_eq!(rows.try_next().await.expect("row"), Some(1));
        }
        let mut reader = readers.read().await.expect("lent again");
        let two: i64 = sqlx::query_scalar("SELECT 2")
            .fetch_one(&mut *reader)
            .await
            .expect("next read");
        assert_eq!(two, 2);
    }

    #[tokio::test]
    async fn a_connection_idle_past_the_check_is_asked_before_it_is_lent() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _store = file_store(&dir).await;
        let options = SqliteConnectOptions::new().filename(dir.path().join("reads.db"));
        let readers = Readers::new(options, 1);
        let first = readers.read().await.expect("first");
        let opened = first.checked;
        drop(first);
        if let Ok(mut idle) = readers.idle.lock() {
            idle[0].checked = opened - CHECK_AFTER;
        }
        let again = readers.read().await.expect("checked and lent");
        assert!(again.checked > opened - CHECK_AFTER, "checked again");
    }
}
