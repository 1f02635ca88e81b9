//! The embedded default backend: SQLite in WAL mode through sqlx.
//!
//! `synchronous = NORMAL` in WAL mode: a committed transaction survives the process being
//! killed (what crash safety needs); only an operating-system crash or power loss may lose
//! the last few commits.

use super::*;
use crate::domain::{Address, CallStatus, Destinations, NewEvent, TryCounts};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

mod apply;
mod call_list;
mod counts;
mod dnc;
mod events;
mod import;
mod readers;
mod recordings;

/// SQLite behind the [`Store`] trait.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The dialer's hot-path writes ([`Store::apply`]) on a connection of their own, whose
    /// page cache no other connection's writes invalidate (the same pool in memory). Replaced
    /// by [`Store::reopen_writes`] after a failed commit.
    writes: Arc<RwLock<SqlitePool>>,
    /// The connections the API's polled reads run on (`None` in memory: the pool's one).
    readers: Option<Arc<readers::Readers>>,
    /// How the writer's connection is opened (`None` in memory: it is the readers' pool).
    write_options: Option<SqliteConnectOptions>,
    /// See [`SqliteLimits::abandon_lockout_ms`].
    abandon_lockout_ms: i64,
    /// The id of the last event committed, told to whoever watches the stream.
    notices: Arc<tokio::sync::watch::Sender<i64>>,
}

/// Settings of a SQLite store beyond its URL.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteLimits {
    /// Most bytes the database may hold (0: as much as the disk holds). A commit that would
    /// grow it past this fails as on a full disk, and the dialing stops until there is room:
    /// headroom kept for the rest of the machine, and how a full disk is tested.
    pub max_bytes: u64,
    /// A number that had an abandoned call (answered, no agent in time) is not dialed again
    /// for this long, ms (0: no lock-out).
    pub abandon_lockout_ms: u64,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite::memory:`)
    /// and applies the migrations.
    pub async fn open(url: &str) -> StoreResult<SqliteStore> {
        SqliteStore::open_with(url, SqliteLimits::default()).await
    }

    /// [`open`](Self::open) with limits.
    pub async fn open_with(url: &str, limits: SqliteLimits) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // 8 KiB pages for a new database (an existing one keeps its own): a commit writes
            // each page it changed to the WAL as one frame, and the dialer's writes change
            // runs of neighbouring rows, so fewer, larger frames cost fewer writes.
            .pragma("page_size", "8192")
            // Statement journals (of multi-row writes that need one) in memory, not in
            // temporary files.
            .pragma("temp_store", "memory")
            // 32 MiB of page cache per connection (the default is 2 MiB).
            .pragma("cache_size", "-32768")
            // No checkpoint in a committing connection: `checkpoints` runs them beside the
            // writes, so that a commit never waits for a checkpoint's copying and syncing.
            .pragma("wal_autocheckpoint", "0")
            // A batch of due targets (1,000 or more rows) or of claimed ids comes back without
            // the connection's thread stopping every 50 rows until the caller has taken them.
            .row_buffer_size(2048);
        let options = match limits.max_bytes {
            0 => options,
            bytes => {
                // The page size of an existing database is its own: read it first.
                let probe = SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(options.clone())
                    .await?;
                let page: i64 = sqlx::query_scalar("PRAGMA page_size")
                    .fetch_one(&probe)
                    .await?;
                probe.close().await;
                let pages = (bytes / page.max(512) as u64).max(1);
                options.pragma("max_page_count", pages.to_string())
            }
        };
        let in_memory = url.contains(":memory:");
        let pool = SqlitePoolOptions::new()
            // One connection for an in-memory database: each connection would see its own.
            .max_connections(if in_memory { 1 } else { 4 })
            // A connection is handed out as it is, without a first round trip to its thread
            // to check that it still answers: an open SQLite file has no peer to lose, and
            // the check doubled the thread hops of a one-statement read.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        let notices = Arc::new(tokio::sync::watch::Sender::new(
            events::last_id(&pool).await?,
        ));
        if in_memory {
            return Ok(SqliteStore {
                writes: Arc::new(RwLock::new(pool.clone())),
                readers: None,
                pool,
                write_options: None,
                abandon_lockout_ms: limits.abandon_lockout_ms.min(i64::MAX as u64) as i64,
                notices,
            });
        }
        tokio::spawn(checkpoints(pool.clone()));
        // The writer's page cache is smaller, 8 MiB: its hot-path writes touch few pages (the
        // newest rows, the due-targets index), and each commit walks the cache to drop
        // pages past the database's end, which took 1–4 % of the node's CPU at 32 MiB.
        let write_options = options.clone().pragma("cache_size", "-8192");
        let writes = writer_pool(&write_options).await?;
        // The readers map the database file rather than copy its pages into their cache: the
        // writer's commits make a reader drop its whole page cache at its next read, and with
        // the file mapped the pages it reads again are not each copied in by a system call.
        // Pages still in the WAL are read as before.
        let read_options = options.pragma("mmap_size", READER_MMAP_BYTES);
        Ok(SqliteStore {
            readers: Some(Arc::new(readers::Readers::new(read_options, READERS))),
            pool,
            writes: Arc::new(RwLock::new(writes)),
            write_options: Some(write_options),
            abandon_lockout_ms: limits.abandon_lockout_ms.min(i64::MAX as u64) as i64,
            notices,
        })
    }

    /// A campaign's figures counted from the rows themselves, as they were before the
    /// counters kept them: what [`Store::call_counts`] and [`Store::counted_targets`] must
    /// always agree with (a check for tests and for operators; it reads every attempt of the
    /// campaign and its targets).
    pub async fn count_from_rows(
        &self,
        campaign: Uuid,
        outdial: Uuid,
    ) -> StoreResult<(TargetCounts, CallCounts)> {
        let mut targets = self.count_targets(outdial, 0).await?;
        targets.due = 0;
        let rows = sqlx::query(
            "SELECT COALESCE(disposition, '') AS d, COUNT(*) AS n
             FROM campaigncalls INDEXED BY campaigncalls_by_disposition
             WHERE campaign_id = ? GROUP BY disposition",
        )
        .bind(campaign.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut counts = CallCounts::default();
        for r in rows {
            let n = r.get::<i64, _>("n") as u64;
            let d: String = r.get("d");
            // A number on a do-not-call list is recorded, not dialed: no attempt.
            if d != Disposition::Dnc.as_str() {
                counts.attempts += n;
            }
            if !d.is_empty() {
                counts.dispositions.insert(d, n);
            }
        }
        // The done targets this campaign's own attempts finished: reached by one of them, or
        // failed after it tried. A target another campaign over the same outdial finished is
        // not this campaign's.
        let rows = sqlx::query(
            "SELECT t.result AS result, COUNT(DISTINCT t.id) AS n
             FROM campaigncalls c INDEXED BY campaigncalls_by_campaign_target
             JOIN targets t ON t.id = c.outdial_target_id
             WHERE c.campaign_id = ? AND t.deleted = 0 AND t.status = 'done'
               AND (t.result = 'fail' OR c.result = 'success')
             GROUP BY t.result",
        )
        .bind(campaign.to_string())
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let n = r.try_get::<i64, _>("n")? as u64;
            match r.try_get::<&str, _>("result")? {
                "success" => counts.succeeded_targets = n,
                _ => counts.failed_targets = n,
            }
        }
        Ok((targets, counts))
    }

    /// Applies a batch of the dialer's writes in one transaction ([`apply::apply`]): what it
    /// did, and whether it had to be applied a second time (see [`apply::Applied::again`]).
    async fn apply_batch(&self, ops: &[WriteOp]) -> StoreResult<(apply::Applied, bool)> {
        let writes = self.writes();
        let mut tx = writes.begin().await?;
        let mut applied = apply::apply(&mut tx, ops, self.abandon_lockout_ms, None).await?;
        let mut tries = 1;
        while applied.again {
            if tries == 3 {
                // The third try counts every write from its rows, and cannot stop so.
                return Err(StoreError::Corrupt(
                    "a batch counted from its rows found them otherwise".into(),
                ));
            }
            // An end of an attempt already ended, or a write that did not find its rows as it
            // says: the batch again, with those rows read first (and without such an end).
            tx.rollback().await?;
            tx = writes.begin().await?;
            let mut reread = apply::reread(&mut tx, ops).await?;
            reread.everything = tries == 2;
            applied = apply::apply(&mut tx, ops, self.abandon_lockout_ms, Some(&reread)).await?;
            tries += 1;
        }
        if tries > 1 {
            let left_out = ops
                .iter()
                .zip(&applied.applied)
                .filter(|(op, done)| op.ended_call().is_some() && !**done)
                .count();
            if left_out > 0 {
                tracing::warn!(
                    ends = left_out,
                    "ends of attempts already ended left out: the first end of an attempt stands"
                );
            }
            tracing::debug!(
                tries,
                writes = applied.counted_from_rows,
                "a batch applied again: the writes that did not find their rows as they say counted from the rows"
            );
        }
        tx.commit().await?;
        Ok((applied, tries > 1))
    }

    /// Tells the stream's watchers that events up to `id` are committed.
    fn notify(&self, id: i64) {
        self.notices.send_if_modified(|last| {
            let newer = id > *last;
            *last = (*last).max(id);
            newer
        });
    }

    /// A connection for a read the API serves often (see [`readers`]).
    async fn read(&self) -> StoreResult<ReadConn<'_>> {
        Ok(match &self.readers {
            Some(r) => ReadConn::Own(r.read().await?),
            None => ReadConn::Pooled(self.pool.acquire().await?),
        })
    }

    fn writes(&self) -> SqlitePool {
        match self.writes.read() {
            Ok(p) => p.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// A connection lent for a read: a reader's, or the pool's one in memory.
enum ReadConn<'a> {
    Own(readers::Reader<'a>),
    Pooled(sqlx::pool::PoolConnection<sqlx::Sqlite>),
}

impl std::ops::Deref for ReadConn<'_> {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &sqlx::SqliteConnection {
        match self {
            ReadConn::Own(r) => r,
            ReadConn::Pooled(p) => p,
        }
    }
}

impl std::ops::DerefMut for ReadConn<'_> {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        match self {
            ReadConn::Own(r) => r,
            ReadConn::Pooled(p) => p,
        }
    }
}

async fn writer_pool(options: &SqliteConnectOptions) -> StoreResult<SqlitePool> {
    Ok(SqlitePoolOptions::new()
        .max_connections(1)
        // Handed out without a round trip to check it first, as the readers' (see `open`):
        // a connection that cannot write fails its batch's `BEGIN` or commit, and the
        // writer then replaces it.
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await?)
}

/// How many connections serve the API's polled reads.
const READERS: usize = 4;

/// How much of the database file each reader connection maps (`PRAGMA mmap_size`): 1 GiB of
/// address space, not of memory; what is mapped is the file's own pages in the OS cache.
const READER_MMAP_BYTES: &str = "1073741824";

/// How often the WAL is copied back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Copies the WAL back into the database every [`CHECKPOINT_EVERY`] on a connection of the
/// readers' pool (`PASSIVE`: never waits for, nor blocks, readers or the writer), until the
/// pool is closed. With automatic checkpoints off, this keeps the WAL from growing.
async fn checkpoints(pool: SqlitePool) {
    let mut every = tokio::time::interval(CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if pool.is_closed() {
            return;
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

fn page_bounds(page: &Page) -> (i64, i64) {
    let size = i64::from(page.size.clamp(1, 100));
    let before = page
        .token
        .as_deref()
        .and_then(|t| t.parse::<i64>().ok())
        .unwrap_or(i64::MAX);
    (size, before)
}

/// How many of `rows` (read `size + 1` at most) make the page, and its `next_page_token`: at
/// most `size` rows, fewer once their bytes pass `page.max_bytes` (never none); the token
/// names the last row kept when rows are left over.
fn page_cut(rows: &[SqliteRow], size: i64, page: &Page) -> (usize, String) {
    let mut kept = 0;
    let mut bytes = 0usize;
    for row in rows.iter().take(size as usize) {
        kept += 1;
        bytes = bytes.saturating_add(row_bytes(row));
        if bytes > page.max_bytes {
            break;
        }
    }
    let token = if rows.len() > kept {
        rows[kept - 1].get::<i64, _>("seq").to_string()
    } else {
        String::new()
    };
    (kept, token)
}

/// The size of a row as stored: its text values' lengths, 8 bytes for any other value, none
/// for a NULL. A value's type is looked at before it is decoded: decoding a number as text
/// fails with an error whose message is formatted, and a page of targets has eight numbers a
/// row.
fn row_bytes(row: &SqliteRow) -> usize {
    use sqlx::{Type, ValueRef};
    (0..row.len())
        .map(|i| match row.try_get_raw(i) {
            Ok(v) if v.is_null() => 0,
            Ok(v) if <&str as Type<sqlx::Sqlite>>::compatible(&v.type_info()) => {
                row.try_get::<&str, _>(i).map_or(8, str::len)
            }
            _ => 8,
        })
        .sum()
}

fn json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn uuid(row: &SqliteRow, col: &str) -> StoreResult<Uuid> {
    let s: String = row.get(col);
    Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn target_from_row(row: &SqliteRow) -> StoreResult<Target> {
    let status: String = row.get("status");
    const TRIES: [&str; 5] = [
        "try_count_0",
        "try_count_1",
        "try_count_2",
        "try_count_3",
        "try_count_4",
    ];
    let tries: [u32; 5] = TRIES.map(|c| row.get::<i64, _>(c) as u32);
    Ok(Target {
        id: uuid(row, "id")?,
        outdial_id: uuid(row, "outdial_id")?,
        name: row.get("name"),
        detail: row.get("detail"),
        data: json(row.get::<&str, _>("data"))?,
        status: TargetStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("target status {status:?}")))?,
        result: row.get("result"),
        destinations: json::<Destinations>(row.get::<&str, _>("destinations"))?,
        tries: TryCounts::from_array(tries),
        timezone: row.get("timezone"),
        zones: zones_from_text(row.get("zones")),
        tm_create: row.get("tm_create"),
        tm_update: row.get("tm_update"),
        tm_delete: row.get("tm_delete"),
    })
}

/// Zones as stored (IANA names joined by `,`); a name this build does not know is skipped.
fn zones_from_text(text: &str) -> Vec<chrono_tz::Tz> {
    text.split(',')
        .filter(|n| !n.is_empty())
        .filter_map(|n| n.parse().ok())
        .collect()
}

/// Zones as stored.
fn zones_text(zones: &[chrono_tz::Tz]) -> String {
    zones.iter().map(|z| z.name()).collect::<Vec<_>>().join(",")
}

fn campaigncall_from_row(row: &SqliteRow) -> StoreResult<Campaigncall> {
    let status: String = row.get("status");
    let disposition: Option<String> = row.get("disposition");
    let hangup_by: Option<String> = row.get("hangup_by");
    Ok(Campaigncall {
        id: uuid(row, "id")?,
        customer_id: uuid(row, "customer_id")?,
        campaign_id: uuid(row, "campaign_id")?,
        outplan_id: uuid(row, "outplan_id")?,
        outdial_id: uuid(row, "outdial_id")?,
        outdial_target_id: uuid(row, "outdial_target_id")?,
        queue_id: uuid(row, "queue_id")?,
        reference_type: row.get("reference_type"),
        reference_id: row.get("reference_id"),
        sip_call_id: row.get("sip_call_id"),
        status: CallStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("campaigncall status {status:?}")))?,
        result: row.get("result"),
        source: json::<Address>(row.get::<&str, _>("source"))?,
        caller_id: row.get("caller_id"),
        destination: json::<Address>(row.get::<&str, _>("destination"))?,
        destination_index: row.get::<i64, _>("destination_index") as u32,
        try_count: row.get::<i64, _>("try_count") as u32,
        disposition: disposition.map(|d| json(&format!("\"{d}\""))).transpose()?,
        sip_code: row.get::<Option<i64>, _>("sip_code").map(|c| c as u16),
        reason: row.get("reason"),
        hangup_by: hangup_by.map(|h| json(&format!("\"{h}\""))).transpose()?,
        setup_ms: row.get::<i64, _>("setup_ms") as u64,
        talk_ms: row.get::<i64, _>("talk_ms") as u64,
        flow_result: row
            .get::<Option<&str>, _>("flow_result")
            .map(json)
            .transpose()?,
        agent_id: row
            .get::<Option<&str>, _>("agent_id")
            .map(Uuid::parse_str)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("agent_id: {e}")))?,
        wait_ms: row.get::<Option<i64>, _>("wait_ms").map(|w| w as u64),
        amd_result: row.get("amd_result"),
        tm_create: row.get("tm_create"),
        tm_update: row.get("tm_update"),
        tm_delete: row.get("tm_delete"),
    })
}

fn hangup_str(h: Option<HangupBy>) -> Option<&'static str> {
    h.map(|h| match h {
        HangupBy::Local => "local",
        HangupBy::Remote => "remote",
    })
}

#[async_trait]
impl Commits for SqliteStore {
    async fn apply(&self, ops: &[WriteOp]) -> StoreResult<Vec<bool>> {
        let (applied, _) = self.apply_batch(ops).await?;
        if let Some(id) = applied.last_event {
            self.notify(id);
        }
        Ok(applied.applied)
    }

    async fn reopen_writes(&self) -> StoreResult<()> {
        let Some(options) = &self.write_options else {
            return Ok(());
        };
        let fresh = writer_pool(options).await?;
        let old = match self.writes.write() {
            Ok(mut w) => std::mem::replace(&mut *w, fresh),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), fresh),
        };
        // Closing the connection rolls back the transaction a failed COMMIT left open (SQLite
        // keeps it, with its write lock, after SQLITE_FULL) so that other connections can
        // write again.
        old.close().await;
        Ok(())
    }

    async fn probe_write(&self) -> StoreResult<()> {
        let writes = self.writes();
        let mut tx = writes.begin().await?;
        // Eight pages' worth: beyond the free space of the pages at hand.
        sqlx::query("INSERT INTO write_probe (id, pad) VALUES (1, zeroblob(65536))")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM write_probe")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn put_doc(
        &self,
        kind: DocKind,
        id: Uuid,
        customer: Uuid,
        status: &str,
        deleted: bool,
        body: String,
    ) -> StoreResult<()> {
        if !matches!(kind, DocKind::Campaign | DocKind::Webhook) {
            // No event and no cursor: one statement, in a transaction of its own.
            sqlx::query(
                "INSERT INTO documents (kind, id, customer_id, status, deleted, body) VALUES (?, ?, ?, ?, ?, ?)
                 ON CONFLICT (kind, id) DO UPDATE SET status = excluded.status, deleted = excluded.deleted, body = excluded.body",
            )
            .bind(kind.as_str())
            .bind(id.to_string())
            .bind(customer.to_string())
            .bind(status)
            .bind(deleted)
            .bind(body)
            .execute(&self.pool)
            .await?;
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        let event = events::doc_event(&mut tx, kind, id, deleted).await?;
        if kind == DocKind::Webhook {
            events::start_cursor(&mut tx, id).await?;
        }
        let data = event.map(|_| body.clone());
        sqlx::query(
            "INSERT INTO documents (kind, id, customer_id, status, deleted, body) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (kind, id) DO UPDATE SET status = excluded.status, deleted = excluded.deleted, body = excluded.body",
        )
        .bind(kind.as_str())
        .bind(id.to_string())
        .bind(customer.to_string())
        .bind(status)
        .bind(deleted)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        let recorded = match (event, data) {
            (Some(kind), Some(data)) => {
                let new = NewEvent {
                    customer_id: customer,
                    kind,
                    resource_id: id.to_string(),
                    data,
                };
                Some(events::insert(&mut tx, &new).await?)
            }
            _ => None,
        };
        tx.commit().await?;
        if let Some(id) = recorded {
            self.notify(id);
        }
        Ok(())
    }

    async fn get_doc(
        &self,
        kind: DocKind,
        customer: Option<Uuid>,
        id: Uuid,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT body FROM documents WHERE kind = ? AND id = ? AND deleted = 0 AND (? IS NULL OR customer_id = ?)",
        )
        .bind(kind.as_str())
        .bind(id.to_string())
        .bind(customer.map(|c| c.to_string()))
        .bind(customer.map(|c| c.to_string()))
        .fetch_optional(&mut *self.read().await?)
        .await?;
        Ok(row.map(|r| r.get("body")))
    }

    async fn list_docs(
        &self,
        kind: DocKind,
        customer: Uuid,
        page: &Page,
    ) -> StoreResult<Listed<String>> {
        let (size, before) = page_bounds(page);
        let rows = sqlx::query(
            "SELECT seq, body FROM documents WHERE kind = ? AND customer_id = ? AND deleted = 0 AND seq < ?
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(kind.as_str())
        .bind(customer.to_string())
        .bind(before)
        .bind(size + 1)
        .fetch_all(&mut *self.read().await?)
        .await?;
        let (kept, next_page_token) = page_cut(&rows, size, page);
        Ok(Listed {
            result: rows.iter().take(kept).map(|r| r.get("body")).collect(),
            next_page_token,
        })
    }

    async fn docs_with_status(&self, kind: DocKind, status: &str) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT body FROM documents WHERE kind = ? AND status = ? AND deleted = 0 ORDER BY seq",
        )
        .bind(kind.as_str())
        .bind(status)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(|r| r.get("body")).collect())
    }

    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<String>> {
        // Reads through the unique index `agents_by_username`.
        let row = sqlx::query(
            "SELECT body FROM documents WHERE kind = 'agent' AND deleted = 0 AND json_extract(body, '$.username') = ?",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| r.get("body")))
    }

    async fn insert_targets(&self, targets: Vec<NewTarget>) -> StoreResult<InsertReport> {
        let mut tx = self.pool.begin().await?;
        let report = import::insert_targets(&mut tx, targets).await?;
        // What the rows inserted add to their outdials' counts.
        let mut added: Vec<(Uuid, TargetCounts)> = Vec::new();
        for t in &report.created {
            let counts = match added.iter_mut().find(|(o, _)| *o == t.outdial_id) {
                Some((_, c)) => c,
                None => {
                    added.push((t.outdial_id, TargetCounts::default()));
                    &mut added.last_mut().expect("just pushed").1
                }
            };
            match t.status {
                TargetStatus::Idle => counts.queued += 1,
                TargetStatus::Progressing => counts.dialing += 1,
                TargetStatus::Done if t.result == "success" => counts.succeeded += 1,
                TargetStatus::Done => counts.failed += 1,
            }
        }
        for (outdial, by_status) in added {
            counts::inserted(&mut tx, outdial, by_status).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn get_target(&self, outdial: Uuid, id: Uuid) -> StoreResult<Option<Target>> {
        let row =
            sqlx::query("SELECT * FROM targets WHERE outdial_id = ? AND id = ? AND deleted = 0")
                .bind(outdial.to_string())
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(target_from_row).transpose()
    }

    async fn list_targets(
        &self,
        customer: Uuid,
        outdial: Uuid,
        page: &Page,
    ) -> StoreResult<Listed<Target>> {
        let (size, before) = page_bounds(page);
        // The outdial's owner is checked in the same statement (a constant condition, looked
        // up once), so that a page is one round trip to the reader's thread, not two.
        let rows = sqlx::query(
            "SELECT * FROM targets WHERE outdial_id = ? AND deleted = 0 AND seq < ?
               AND EXISTS (SELECT 1 FROM documents WHERE kind = 'outdial' AND id = ?
                           AND customer_id = ? AND deleted = 0)
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(outdial.to_string())
        .bind(before)
        .bind(outdial.to_string())
        .bind(customer.to_string())
        .bind(size + 1)
        .fetch_all(&mut *self.read().await?)
        .await?;
        let (kept, next_page_token) = page_cut(&rows, size, page);
        Ok(Listed {
            next_page_token,
            result: rows
                .iter()
                .take(kept)
                .map(target_from_row)
                .collect::<Result<_, _>>()?,
        })
    }

    async fn delete_target(
        &self,
        outdial: Uuid,
        id: Uuid,
        at: &str,
    ) -> StoreResult<Option<Target>> {
        let mut tx = self.pool.begin().await?;
        // First (a write: it takes the write lock) what the deletion takes off the counts.
        counts::before_delete(&mut tx, outdial, id).await?;
        let row = sqlx::query(
            "UPDATE targets SET deleted = 1, tm_delete = ?, tm_update = ? WHERE outdial_id = ? AND id = ? AND deleted = 0
             RETURNING *",
        )
        .bind(at)
        .bind(at)
        .bind(outdial.to_string())
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        row.as_ref().map(target_from_row).transpose()
    }

    async fn due_targets(
        &self,
        outdial: Uuid,
        now_ms: i64,
        after: Option<DueCursor>,
        limit: u32,
    ) -> StoreResult<(Vec<Target>, Option<DueCursor>)> {
        let after = after.unwrap_or(DueCursor {
            next_at: i64::MIN,
            seq: i64::MIN,
        });
        let rows = sqlx::query(
            // A waiting target's result is always empty: `result = ''` only lets the query
            // use `targets_due` in order.
            "SELECT * FROM targets WHERE outdial_id = ? AND deleted = 0 AND status = 'idle'
               AND result = '' AND next_at <= ? AND (next_at, seq) > (?, ?)
             ORDER BY next_at, seq LIMIT ?",
        )
        .bind(outdial.to_string())
        .bind(now_ms)
        .bind(after.next_at)
        .bind(after.seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let cursor = rows.last().map(|row| DueCursor {
            next_at: row.get("next_at"),
            seq: row.get("seq"),
        });
        let targets = rows
            .iter()
            .map(target_from_row)
            .collect::<StoreResult<_>>()?;
        Ok((targets, cursor))
    }

    async fn count_targets(&self, outdial: Uuid, now_ms: i64) -> StoreResult<TargetCounts> {
        // Every column named is in `targets_due`, grouped in its order: the count reads index
        // entries only, one pass, no sort.
        let rows = sqlx::query(
            "SELECT status, result, COUNT(*) AS n, SUM(next_at <= ?) AS due
             FROM targets INDEXED BY targets_due
             WHERE outdial_id = ? AND deleted = 0
             GROUP BY status, result",
        )
        .bind(now_ms)
        .bind(outdial.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut counts = TargetCounts::default();
        for row in rows {
            let status: &str = row.try_get("status")?;
            let result: &str = row.try_get("result")?;
            let n = row.try_get::<i64, _>("n")? as u64;
            match status {
                "idle" => {
                    counts.queued += n;
                    counts.due += row.try_get::<i64, _>("due")? as u64;
                }
                "progressing" => counts.dialing += n,
                "done" if result == "success" => counts.succeeded += n,
                "done" => counts.failed += n,
                _ => {}
            }
        }
        Ok(counts)
    }

    async fn waiting_targets(&self, outdial: Uuid, now_ms: i64) -> StoreResult<WaitingTargets> {
        let rows = sqlx::query(
            "SELECT next_at > ? AS later, wait, CASE WHEN next_at > ? THEN '' ELSE zones END AS z,
               COUNT(*) AS n
             FROM targets
             WHERE outdial_id = ? AND deleted = 0 AND status = 'idle' AND result = ''
             GROUP BY later, wait, z",
        )
        .bind(now_ms)
        .bind(now_ms)
        .bind(outdial.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut waiting = WaitingTargets::default();
        for row in rows {
            let later: bool = row.try_get("later")?;
            let wait: &str = row.try_get("wait")?;
            let n = row.try_get::<i64, _>("n")? as u64;
            match (later, wait) {
                (true, "window") => waiting.window += n,
                (true, _) => waiting.retry += n,
                (false, _) => {
                    let zones: String = row.try_get("z")?;
                    match waiting.due_by_zones.iter_mut().find(|(z, _)| *z == zones) {
                        Some((_, count)) => *count += n,
                        None => waiting.due_by_zones.push((zones, n)),
                    }
                }
            }
        }
        Ok(waiting)
    }

    async fn reset_targets(&self, outdial: Uuid, at: &str) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE targets SET status = 'idle', result = '', next_at = 0, wait = '', try_count_0 = 0,
               try_count_1 = 0, try_count_2 = 0, try_count_3 = 0, try_count_4 = 0, tm_update = ?
             WHERE outdial_id = ? AND deleted = 0 AND status = 'done'",
        )
        .bind(at)
        .bind(outdial.to_string())
        .execute(&mut *tx)
        .await?;
        counts::after_reset(&mut tx, outdial).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn open_attempts(&self) -> StoreResult<Vec<OpenAttempt>> {
        let rows = sqlx::query("SELECT * FROM campaigncalls WHERE status <> 'done' ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(OpenAttempt {
                    call: campaigncall_from_row(row)?,
                    dialog: row.get("dialog"),
                })
            })
            .collect()
    }

    async fn get_campaigncall(
        &self,
        customer: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<Campaigncall>> {
        let row = sqlx::query("SELECT * FROM campaigncalls WHERE customer_id = ? AND id = ?")
            .bind(customer.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(campaigncall_from_row).transpose()
    }

    async fn list_campaigncalls(
        &self,
        customer: Uuid,
        filter: &CallFilter,
        page: &Page,
    ) -> StoreResult<Listed<Campaigncall>> {
        call_list::list(&mut *self.read().await?, customer, filter, page).await
    }

    async fn pacing_history(
        &self,
        campaign: Uuid,
        since: &str,
        harbour_ms: u64,
        attempts: u32,
    ) -> StoreResult<PacingHistory> {
        let rows = sqlx::query(
            "SELECT substr(tm_update, 1, 16) AS minute, COUNT(*) AS answered,
                    SUM(disposition = 'abandoned'
                        OR (agent_id IS NOT NULL AND wait_ms > ?)) AS abandoned
             FROM campaigncalls INDEXED BY campaigncalls_by_campaign
             WHERE campaign_id = ? AND status = 'done' AND sip_code BETWEEN 200 AND 299
               AND disposition <> 'machine' AND tm_update >= ?
             GROUP BY minute ORDER BY minute",
        )
        .bind(harbour_ms as i64)
        .bind(campaign.to_string())
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        let mut history = PacingHistory::default();
        for r in rows {
            let minute: String = r.try_get("minute")?;
            let Ok(at) = chrono::NaiveDateTime::parse_from_str(&minute, "%Y-%m-%d %H:%M") else {
                continue;
            };
            history.minutes.push((
                at.and_utc().timestamp_millis(),
                r.try_get::<i64, _>("answered")? as u32,
                r.try_get::<i64, _>("abandoned")? as u32,
            ));
        }
        let rows = sqlx::query(
            "SELECT sip_code, setup_ms, talk_ms, agent_id, wait_ms
             FROM campaigncalls INDEXED BY campaigncalls_by_campaign
             WHERE campaign_id = ? AND status = 'done' AND sip_code IS NOT NULL
             ORDER BY seq DESC LIMIT ?",
        )
        .bind(campaign.to_string())
        .bind(i64::from(attempts))
        .fetch_all(&self.pool)
        .await?;
        for r in rows.iter().rev() {
            let code: i64 = r.try_get("sip_code")?;
            let talk = r.try_get::<i64, _>("talk_ms")?;
            let wait = r.try_get::<Option<i64>, _>("wait_ms")?.unwrap_or(0);
            let agent: Option<String> = r.try_get("agent_id")?;
            history.attempts.push(PastAttempt {
                answered: (200..300).contains(&code),
                setup_ms: r.try_get::<i64, _>("setup_ms")?.max(0) as u64,
                agent_talk_ms: agent.map(|_| talk.saturating_sub(wait).max(0) as u64),
            });
        }
        Ok(history)
    }

    async fn call_counts(&self, campaign: Uuid) -> StoreResult<CallCounts> {
        counts::calls(&mut *self.read().await?, campaign).await
    }

    async fn counted_targets(&self, outdial: Uuid) -> StoreResult<TargetCounts> {
        counts::targets(&mut *self.read().await?, outdial).await
    }

    async fn put_dnc_numbers(&self, customer: Uuid, numbers: &[DncNumber]) -> StoreResult<u64> {
        dnc::put(&self.pool, customer, numbers).await
    }

    async fn list_dnc_numbers(
        &self,
        list: Uuid,
        number: Option<&crate::domain::E164>,
        page: &Page,
    ) -> StoreResult<Listed<DncNumber>> {
        dnc::list(&self.pool, list, number, page).await
    }

    async fn delete_dnc_number(
        &self,
        list: Uuid,
        number: &crate::domain::E164,
    ) -> StoreResult<bool> {
        dnc::delete(&self.pool, list, number).await
    }

    async fn clear_dnc_list(&self, list: Uuid) -> StoreResult<u64> {
        dnc::clear(&self.pool, list).await
    }

    async fn add_queue_counts(&self, queue: Uuid, d: QueueCounts) -> StoreResult<()> {
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO queue_counts (queue_id, incoming, serviced, abandoned, wait_ms, answered_in_time)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (queue_id) DO UPDATE SET
               incoming = incoming + excluded.incoming,
               serviced = serviced + excluded.serviced,
               abandoned = abandoned + excluded.abandoned,
               wait_ms = wait_ms + excluded.wait_ms,
               answered_in_time = answered_in_time + excluded.answered_in_time",
        )
        .bind(queue.to_string())
        .bind(n(d.incoming))
        .bind(n(d.serviced))
        .bind(n(d.abandoned))
        .bind(n(d.wait_ms))
        .bind(n(d.answered_in_time))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn put_queue_bridge(&self, b: &QueueBridge) -> StoreResult<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO queue_bridges (campaigncall_id, queue_id, agent_id, wait_ms, agent_dialog)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(b.campaigncall_id.to_string())
        .bind(b.queue_id.map(|q| q.to_string()))
        .bind(b.agent_id.to_string())
        .bind(i64::try_from(b.wait_ms).unwrap_or(i64::MAX))
        .bind(b.agent_dialog.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_queue_bridge(&self, campaigncall: Uuid) -> StoreResult<()> {
        sqlx::query("DELETE FROM queue_bridges WHERE campaigncall_id = ?")
            .bind(campaigncall.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn take_queue_bridges(&self) -> StoreResult<Vec<QueueBridge>> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(
            "SELECT campaigncall_id, queue_id, agent_id, wait_ms, agent_dialog FROM queue_bridges",
        )
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM queue_bridges")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let id = |r: &SqliteRow, c: &str| {
            r.get::<Option<String>, _>(c)
                .and_then(|s| Uuid::parse_str(&s).ok())
        };
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some(QueueBridge {
                    campaigncall_id: id(r, "campaigncall_id")?,
                    queue_id: id(r, "queue_id"),
                    agent_id: id(r, "agent_id")?,
                    wait_ms: r.get::<i64, _>("wait_ms").max(0) as u64,
                    agent_dialog: r.get("agent_dialog"),
                })
            })
            .collect())
    }

    async fn queue_counts(&self, queue: Uuid) -> StoreResult<QueueCounts> {
        let row = sqlx::query(
            "SELECT incoming, serviced, abandoned, wait_ms, answered_in_time FROM queue_counts WHERE queue_id = ?",
        )
        .bind(queue.to_string())
        .fetch_optional(&mut *self.read().await?)
        .await?;
        let u = |r: &sqlx::sqlite::SqliteRow, c: &str| r.get::<i64, _>(c).max(0) as u64;
        Ok(row
            .map(|r| QueueCounts {
                incoming: u(&r, "incoming"),
                serviced: u(&r, "serviced"),
                abandoned: u(&r, "abandoned"),
                wait_ms: u(&r, "wait_ms"),
                answered_in_time: u(&r, "answered_in_time"),
            })
            .unwrap_or_default())
    }

    async fn agents_handled(&self, agents: &[Uuid]) -> StoreResult<HashMap<Uuid, AgentCounts>> {
        if agents.is_empty() {
            return Ok(HashMap::new());
        }
        let mut q = sqlx::QueryBuilder::new(
            "SELECT agent_id, handled, talk_ms FROM agent_counts WHERE agent_id IN (",
        );
        let mut ids = q.separated(", ");
        for agent in agents {
            ids.push_bind(agent.to_string());
        }
        q.push(")");
        let rows = q.build().fetch_all(&mut *self.read().await?).await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let agent = Uuid::parse_str(r.get::<&str, _>("agent_id")).ok()?;
                let counts = AgentCounts {
                    handled: r.get::<i64, _>("handled").max(0) as u64,
                    talk_ms: r.get::<i64, _>("talk_ms").max(0) as u64,
                };
                Some((agent, counts))
            })
            .collect())
    }

    async fn put_recording(&self, recording: &Recording) -> StoreResult<()> {
        recordings::put(&self.pool, recording).await
    }

    async fn get_recording(
        &self,
        customer: Option<Uuid>,
        id: Uuid,
    ) -> StoreResult<Option<Recording>> {
        recordings::get(&self.pool, customer, id).await
    }

    async fn list_recordings(
        &self,
        customer: Uuid,
        filter: &RecordingFilter,
        page: &Page,
    ) -> StoreResult<Listed<Recording>> {
        recordings::list(&self.pool, customer, filter, page).await
    }

    fn event_notices(&self) -> tokio::sync::watch::Receiver<i64> {
        self.notices.subscribe()
    }

    async fn events_after(
        &self,
        customer: Uuid,
        after: i64,
        filter: &EventFilter,
        limit: u32,
    ) -> StoreResult<Vec<Event>> {
        events::after(&self.pool, customer, after, filter, limit).await
    }

    async fn first_event_id(&self) -> StoreResult<Option<i64>> {
        events::first_id(&self.pool).await
    }

    async fn prune_events(&self, before: &str, keep_rows: u64) -> StoreResult<u64> {
        events::prune(&self.pool, before, keep_rows).await
    }

    async fn queue_deliveries(
        &self,
        webhook: &Webhook,
        limit: u32,
        now_ms: i64,
    ) -> StoreResult<u64> {
        events::queue(&self.pool, webhook, limit, now_ms).await
    }

    async fn due_deliveries(&self, now_ms: i64, limit: u32) -> StoreResult<Vec<Delivery>> {
        events::due(&self.pool, now_ms, limit).await
    }

    async fn record_attempt(&self, delivery: &Delivery) -> StoreResult<()> {
        events::record(&self.pool, delivery).await
    }

    async fn list_deliveries(&self, webhook: Uuid, page: &Page) -> StoreResult<Listed<Delivery>> {
        events::list(&self.pool, webhook, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{time, Outdial};

    #[tokio::test]
    async fn a_rows_size_counts_text_by_length_numbers_as_eight_and_null_as_nothing() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        let row =
            sqlx::query("SELECT 'abcde' AS t, 42 AS i, 1.5 AS f, NULL AS n, '' AS e, x'0102' AS b")
                .fetch_one(&store.pool)
                .await
                .expect("row");
        assert_eq!(row_bytes(&row), 5 + 8 + 8 + 8);
    }

    /// Calls stored before migration 0021: it fills their `number` and `digits` from their
    /// JSON (0022: no `digits` when the flow collected none), and the filter of digits finds
    /// them, an empty one the call whose flow collected nothing (not the one with no flow).
    #[tokio::test]
    async fn migrations_0021_0022_fill_the_number_and_digits_of_calls_stored_before() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        let all = sqlx::migrate!("./migrations/sqlite");
        let before = sqlx::migrate::Migrator {
            migrations: all
                .migrations
                .iter()
                .filter(|m| m.version <= 20)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ignore_missing: false,
            locking: true,
            no_tx: false,
        };
        let customer = Uuid::new_v4();
        let calls = [Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()];
        {
            let options = SqliteConnectOptions::from_str(&url)
                .expect("url")
                .create_if_missing(true);
            let pool = SqlitePool::connect_with(options).await.expect("connect");
            before.run(&pool).await.expect("migrations up to 0020");
            let stored = [
                (
                    r#"{"type":"tel","target":"+15550110001","target_name":"","name":"","detail":""}"#,
                    Some(r#"{"actions":[],"digits":"12","variables":{}}"#),
                ),
                (
                    r#"{"type":"sip","target":"sip:alice@example.com","target_name":"","name":"","detail":""}"#,
                    None,
                ),
                (
                    r#"{"type":"tel","target":"+15550110002","target_name":"","name":"","detail":""}"#,
                    Some(r#"{"actions":[],"digits":"","variables":{}}"#),
                ),
            ];
            for (id, (destination, flow_result)) in calls.iter().zip(stored) {
                sqlx::query(
                    "INSERT INTO campaigncalls (id, customer_id, campaign_id, outplan_id,
                       outdial_id, outdial_target_id, queue_id, reference_type, reference_id,
                       status, result, source, destination, destination_index, try_count,
                       disposition, flow_result, tm_create, tm_update, tm_delete)
                     VALUES (?, ?, ?, ?, ?, ?, ?, 'call', '', 'done', 'success', '{}', ?, 0, 1,
                       'answered', ?, ?, ?, ?)",
                )
                .bind(id.to_string())
                .bind(customer.to_string())
                .bind(Uuid::nil().to_string())
                .bind(Uuid::nil().to_string())
                .bind(Uuid::nil().to_string())
                .bind(Uuid::new_v4().to_string())
                .bind(Uuid::nil().to_string())
                .bind(destination)
                .bind(flow_result)
                .bind(time::now_string())
                .bind(time::now_string())
                .bind(time::NEVER)
                .execute(&pool)
                .await
                .expect("a call as stored before 0021");
            }
            pool.close().await;
        }
        let store = SqliteStore::open(&url).await.expect("open, migrating");
        let filled: Vec<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT number, digits FROM campaigncalls ORDER BY seq")
                .fetch_all(&store.pool)
                .await
                .expect("read");
        assert_eq!(
            filled,
            [
                (Some("+15550110001".into()), Some("12".into())),
                (None, None),
                (Some("+15550110002".into()), None),
            ]
        );
        let page = Page {
            size: 10,
            token: None,
            max_bytes: usize::MAX,
        };
        for (digits, expected) in [("12", calls[0]), ("", calls[2])] {
            let found = store
                .list_campaigncalls(
                    customer,
                    &CallFilter {
                        digits: Some(digits.into()),
                        ..Default::default()
                    },
                    &page,
                )
                .await
                .expect("list");
            let ids: Vec<Uuid> = found.result.iter().map(|c| c.id).collect();
            assert_eq!(ids, [expected], "digits {digits:?}");
        }
    }

    #[tokio::test]
    async fn a_page_of_targets_is_only_the_owners_of_a_live_outdial() {
        let (store, targets) = store_with_targets(3).await;
        let outdial = targets[0].outdial_id;
        let body = store
            .get_doc(DocKind::Outdial, None, outdial)
            .await
            .expect("get")
            .expect("outdial");
        let owner = serde_json::from_str::<Outdial>(&body)
            .expect("outdial")
            .customer_id;
        let page = Page {
            size: 10,
            token: None,
            max_bytes: usize::MAX,
        };
        let listed = store
            .list_targets(owner, outdial, &page)
            .await
            .expect("list");
        assert_eq!(listed.result.len(), 3);
        let other = store
            .list_targets(Uuid::new_v4(), outdial, &page)
            .await
            .expect("list");
        assert!(other.result.is_empty(), "another customer's outdial");
        store
            .put_doc(DocKind::Outdial, outdial, owner, "", true, body)
            .await
            .expect("delete");
        let deleted = store
            .list_targets(owner, outdial, &page)
            .await
            .expect("list");
        assert!(deleted.result.is_empty(), "a deleted outdial");
    }

    async fn store_with_target() -> (SqliteStore, Target) {
        let (store, mut targets) = store_with_targets(1).await;
        (store, targets.remove(0))
    }

    #[tokio::test]
    async fn queue_bridges_are_kept_until_ended_and_taken_once() {
        let (store, _) = store_with_targets(0).await;
        let bridge = |n: u128| QueueBridge {
            campaigncall_id: Uuid::from_u128(n),
            queue_id: Some(Uuid::from_u128(99)),
            agent_id: Uuid::from_u128(7),
            wait_ms: 1_500,
            agent_dialog: Some("{}".into()),
        };
        for n in 1..=3 {
            assert!(store.put_queue_bridge(&bridge(n)).await.is_ok());
        }
        assert!(store.delete_queue_bridge(Uuid::from_u128(2)).await.is_ok());
        let mut left = store.take_queue_bridges().await.expect("bridges");
        left.sort_by_key(|b| b.campaigncall_id);
        assert_eq!(left, vec![bridge(1), bridge(3)]);
        assert_eq!(store.take_queue_bridges().await.ok(), Some(Vec::new()));
    }

    #[tokio::test]
    async fn queue_counts_add_up_from_concurrent_writers() {
        let (store, _) = store_with_targets(0).await;
        let store = std::sync::Arc::new(store);
        let queue = Uuid::new_v4();
        assert_eq!(
            store.queue_counts(queue).await.ok(),
            Some(QueueCounts::default())
        );
        let one = QueueCounts {
            incoming: 1,
            serviced: 1,
            wait_ms: 250,
            answered_in_time: 1,
            ..QueueCounts::default()
        };
        let writers: Vec<_> = (0..20)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.add_queue_counts(queue, one).await })
            })
            .collect();
        for w in writers {
            assert!(matches!(w.await, Ok(Ok(()))));
        }
        let got = store.queue_counts(queue).await.expect("counts");
        assert_eq!(
            (
                got.incoming,
                got.serviced,
                got.abandoned,
                got.wait_ms,
                got.answered_in_time
            ),
            (20, 20, 0, 5_000, 20)
        );
    }

    #[tokio::test]
    async fn a_new_database_file_has_8_kib_pages_and_the_writer_an_8_mib_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("new.db").display());
        let store = SqliteStore::open(&url).await.expect("open");
        let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(&store.pool)
            .await
            .expect("page_size");
        assert_eq!(page_size, 8192);
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&store.writes())
            .await
            .expect("cache_size");
        assert_eq!(cache, -8192);
        let cache: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&store.pool)
            .await
            .expect("cache_size");
        assert_eq!(cache, -32768);
    }

    /// SQLite is compiled as `.cargo/config.toml` asks: without the process-wide locks around
    /// its allocations and page caches, and with its rebalancing scratch on the stack.
    #[tokio::test]
    async fn sqlite_is_compiled_without_its_global_memory_locks() {
        let store = SqliteStore::open("sqlite::memory:").await.expect("open");
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(&store.pool)
            .await
            .expect("compile_options");
        for wanted in ["DEFAULT_MEMSTATUS=0", "USE_ALLOCA", "THREADSAFE=1"] {
            assert!(options.iter().any(|o| o == wanted), "{wanted}: {options:?}");
        }
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
    }

    /// The target as the store has it now.
    pub(super) async fn stored(store: &SqliteStore, outdial: Uuid, id: Uuid) -> Target {
        store
            .get_target(outdial, id)
            .await
            .expect("get")
            .expect("target")
    }

    /// `n` idle targets of one outdial, numbered +1555011xxxx from 0001.
    pub(super) async fn store_with_targets(n: usize) -> (SqliteStore, Vec<Target>) {
        store_with_targets_at("sqlite::memory:", n).await
    }

    /// [`store_with_targets`] on the database at `url`.
    async fn store_with_targets_at(url: &str, n: usize) -> (SqliteStore, Vec<Target>) {
        let store = SqliteStore::open(url).await.expect("open");
        let now = time::now_string();
        let outdial = Outdial {
            id: Uuid::new_v4(),
            customer_id: Uuid::new_v4(),
            campaign_id: Uuid::nil(),
            name: String::new(),
            detail: String::new(),
            data: String::new(),
            tm_create: now.clone(),
            tm_update: now.clone(),
            tm_delete: time::NEVER.into(),
        };
        Docs(&store).put(&outdial).await.expect("outdial");
        let targets: Vec<Target> = (1..=n)
            .map(|i| Target {
                id: Uuid::new_v4(),
                outdial_id: outdial.id,
                name: String::new(),
                detail: String::new(),
                data: Default::default(),
                status: TargetStatus::Idle,
                result: String::new(),
                destinations: Destinations {
                    destination_0: Some(Address::tel(
                        format!("+1555011{i:04}").parse().expect("E.164"),
                    )),
                    ..Default::default()
                },
                tries: TryCounts::default(),
                timezone: String::new(),
                zones: Vec::new(),
                tm_create: now.clone(),
                tm_update: now.clone(),
                tm_delete: time::NEVER.into(),
            })
            .collect();
        let report = store
            .insert_targets(
                targets
                    .iter()
                    .map(|t| NewTarget {
                        target: t.clone(),
                        dedupe: t
                            .destinations
                            .destination_0
                            .clone()
                            .unwrap_or_default()
                            .kind
                            .target(),
                    })
                    .collect(),
            )
            .await
            .expect("insert");
        assert_eq!(report.created.len(), n);
        (store, targets)
    }

    /// Records the answer of the attempt `id` now, with `dialog` as its stored dialog.
    pub(super) async fn answer(store: &SqliteStore, id: Uuid, dialog: Option<&str>) {
        store
            .apply(&[WriteOp::Answered {
                campaigncall_id: id,
                dialog: dialog.map(Into::into),
                at: crate::domain::time::now_string(),
            }])
            .await
            .expect("answer");
    }

    pub(super) fn begin(target: &Target, try_count: u32) -> WriteOp {
        let id = Uuid::now_v7();
        WriteOp::Begin {
            call: Box::new(Campaigncall {
                id,
                customer_id: Uuid::nil(),
                campaign_id: Uuid::nil(),
                outplan_id: Uuid::nil(),
                outdial_id: target.outdial_id,
                outdial_target_id: target.id,
                queue_id: Uuid::nil(),
                reference_type: "call".into(),
                reference_id: String::new(),
                sip_call_id: Campaigncall::sip_call_id_of(id),
                status: CallStatus::Dialing,
                result: String::new(),
                source: Address::default(),
                caller_id: String::new(),
                destination: Address::tel("+15550110001".parse().expect("E.164")),
                destination_index: 0,
                try_count,
                disposition: None,
                sip_code: None,
                reason: String::new(),
                hangup_by: None,
                setup_ms: 0,
                talk_ms: 0,
                flow_result: None,
                agent_id: None,
                wait_ms: None,
                amd_result: None,
                tm_create: time::now_string(),
                tm_update: time::now_string(),
                tm_delete: time::NEVER.into(),
            }),
            slot: 0,
            dnc_lists: Arc::from(Vec::new()),
        }
    }

    fn end(begun: &WriteOp, disposition: Disposition, next: TargetNext) -> WriteOp {
        let WriteOp::Begin { call, .. } = begun else {
            unreachable!()
        };
        WriteOp::End(Box::new(AttemptEnd::closed(call, disposition, "", next)))
    }

    #[tokio::test]
    async fn figures_and_due_targets_come_from_the_index_and_agree_with_the_rows() {
        let (store, t) = store_with_targets(6).await;
        let outdial = t[0].outdial_id;
        // t0 waits for its first try; t1 is in flight; t2 succeeded; t3 failed; t4 waits
        // for its retry at 1,000; t5 is deleted.
        let begins: Vec<WriteOp> = t[1..5].iter().map(|x| begin(x, 1)).collect();
        assert!(store
            .apply(&begins)
            .await
            .expect("begins")
            .iter()
            .all(|a| *a));
        let ends = [
            end(
                &begins[1],
                Disposition::Answered,
                TargetNext::Done("success"),
            ),
            end(&begins[2], Disposition::Rejected, TargetNext::Done("fail")),
            end(&begins[3], Disposition::Busy, TargetNext::RetryAt(1000)),
        ];
        assert!(store.apply(&ends).await.expect("ends").iter().all(|a| *a));
        store
            .delete_target(outdial, t[5].id, &time::now_string())
            .await
            .expect("delete");
        let counts = store.count_targets(outdial, 100).await.expect("counts");
        assert_eq!(
            (
                counts.queued,
                counts.due,
                counts.dialing,
                counts.succeeded,
                counts.failed
            ),
            (2, 1, 1, 1, 1)
        );
        assert_eq!(
            store
                .count_targets(outdial, 1000)
                .await
                .expect("counts")
                .due,
            2
        );
        let ids = |due: Vec<Target>| due.into_iter().map(|x| x.id).collect::<Vec<_>>();
        let (now, _) = store
            .due_targets(outdial, 100, None, 10)
            .await
            .expect("due");
        assert_eq!(ids(now), [t[0].id]);
        let (later, _) = store
            .due_targets(outdial, 1000, None, 10)
            .await
            .expect("due");
        assert_eq!(ids(later), [t[0].id, t[4].id]);
        let calls = store.call_counts(Uuid::nil()).await.expect("calls");
        assert_eq!(calls.attempts, 4);
        assert_eq!(
            calls.dispositions,
            [("answered", 1), ("busy", 1), ("rejected", 1)]
                .into_iter()
                .map(|(d, n)| (d.to_string(), n))
                .collect()
        );
    }

    #[tokio::test]
    async fn a_target_is_never_begun_twice_from_a_stale_read() {
        let (store, target) = store_with_target().await;
        // Two begins from the same read of the target: only the first takes effect.
        let applied = store
            .apply(&[begin(&target, 1), begin(&target, 1)])
            .await
            .expect("apply");
        assert_eq!(applied, [true, false]);
        let stored = stored(&store, target.outdial_id, target.id).await;
        assert_eq!(stored.status, TargetStatus::Progressing);
        assert_eq!(stored.tries.try_count_0, 1);
        assert_eq!(store.open_attempts().await.expect("open").len(), 1);
    }

    #[tokio::test]
    async fn a_batch_that_fails_leaves_nothing_behind() {
        let (store, targets) = store_with_targets(2).await;
        let first = begin(&targets[0], 1);
        assert_eq!(
            store
                .apply(std::slice::from_ref(&first))
                .await
                .expect("apply"),
            [true]
        );
        // The second target's claim runs, then the insert of its attempt fails on the first
        // attempt's id: the claim is undone with the rest of the batch.
        let WriteOp::Begin { call, .. } = &first else {
            unreachable!()
        };
        let mut clash = begin(&targets[1], 1);
        if let WriteOp::Begin { call: c, .. } = &mut clash {
            c.id = call.id;
        }
        assert!(store.apply(&[clash]).await.is_err());
        let second = stored(&store, targets[1].outdial_id, targets[1].id).await;
        assert_eq!(second.status, TargetStatus::Idle);
        assert_eq!(second.tries.try_count_0, 0);
        assert_eq!(store.open_attempts().await.expect("open").len(), 1);
    }

    #[tokio::test]
    async fn due_targets_carry_on_after_the_cursor() {
        let (store, targets) = store_with_targets(5).await;
        let outdial = targets[0].outdial_id;
        let ids = |ts: &[Target]| ts.iter().map(|t| t.id).collect::<Vec<_>>();
        let (first, cursor) = store.due_targets(outdial, 0, None, 2).await.expect("due");
        assert_eq!(ids(&first), ids(&targets[..2]));
        let (rest, end) = store
            .due_targets(outdial, 0, cursor, 10)
            .await
            .expect("due");
        assert_eq!(ids(&rest), ids(&targets[2..]));
        assert!(end > cursor);
        // A target begun and ended with a retry later moves behind the others, and is due
        // only from its `next_at`.
        let op = begin(&targets[0], 1);
        let WriteOp::Begin { call, .. } = &op else {
            unreachable!()
        };
        let end_op = WriteOp::End(Box::new(AttemptEnd {
            campaigncall_id: call.id,
            campaign_id: call.campaign_id,
            target_id: targets[0].id,
            outdial_id: call.outdial_id,
            disposition: Disposition::Busy,
            sip_code: Some(486),
            reason: String::new(),
            hangup_by: None,
            setup_ms: 1,
            talk_ms: 0,
            next: TargetNext::RetryAt(100),
            at: time::now_string(),
            flow_result: None,
            served: None,
        }));
        store.apply(std::slice::from_ref(&op)).await.expect("begin");
        store.apply(&[end_op]).await.expect("end");
        let (now_due, _) = store.due_targets(outdial, 99, end, 10).await.expect("due");
        assert!(now_due.is_empty());
        let (later, _) = store.due_targets(outdial, 100, end, 10).await.expect("due");
        assert_eq!(ids(&later), [targets[0].id]);
        let (all, _) = store
            .due_targets(outdial, 100, None, 10)
            .await
            .expect("due");
        assert_eq!(all.last().map(|t| t.id), Some(targets[0].id));
        assert_eq!(all.len(), 5);
    }

    #[tokio::test]
    async fn the_call_id_is_stored_at_begin_and_the_dialog_from_answer_to_end() {
        let (store, target) = store_with_target().await;
        let op = begin(&target, 1);
        let WriteOp::Begin { call, .. } = &op else {
            unreachable!()
        };
        let dialog = r#"{"call_id":"c1","from":"<sip:a@h>;tag=1","to":"<sip:b@h>;tag=2"}"#;
        store.apply(std::slice::from_ref(&op)).await.expect("begin");
        let answered = WriteOp::Answered {
            campaigncall_id: call.id,
            dialog: Some(dialog.into()),
            at: time::now_string(),
        };
        store.apply(&[answered]).await.expect("answer");
        let open = store.open_attempts().await.expect("open");
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].call.status, CallStatus::Progressing);
        assert_eq!(open[0].call.sip_call_id, call.id.simple().to_string());
        assert_eq!(open[0].dialog.as_deref(), Some(dialog));
        let end = end(&op, Disposition::Answered, TargetNext::Done("success"));
        store.apply(&[end]).await.expect("end");
        let stored = store
            .get_campaigncall(call.customer_id, call.id)
            .await
            .expect("get")
            .expect("campaigncall");
        assert_eq!(stored.sip_call_id, call.sip_call_id);
        let left: Option<String> =
            sqlx::query_scalar("SELECT dialog FROM campaigncalls WHERE id = ?")
                .bind(call.id.to_string())
                .fetch_one(&store.pool)
                .await
                .expect("row");
        assert_eq!(left, None, "the dialog is cleared once the attempt ends");
    }

    #[tokio::test]
    async fn a_large_batch_applies_each_write_as_if_alone() {
        // 1,203 targets in one batch of each kind of write.
        let (store, targets) = store_with_targets(1203).await;
        let mut ops: Vec<WriteOp> = targets.iter().map(|t| begin(t, 1)).collect();
        // A stale read of target 7 (it has no try yet) and a second begin of target 8.
        ops[7] = begin(&targets[7], 2);
        ops.push(begin(&targets[8], 1));
        let applied = store.apply(&ops).await.expect("begins");
        assert_eq!(applied.len(), ops.len());
        assert!(!applied[7] && !applied[1203]);
        assert_eq!(applied.iter().filter(|a| **a).count(), 1202);
        assert_eq!(store.open_attempts().await.expect("open").len(), 1202);

        let mut later = Vec::new();
        for (i, op) in ops.iter().enumerate().take(1203).filter(|(i, _)| *i != 7) {
            let WriteOp::Begin { call, .. } = op else {
                unreachable!()
            };
            later.push(WriteOp::Answered {
                campaigncall_id: call.id,
                dialog: None,
                at: time::now_string(),
            });
            later.push(WriteOp::End(Box::new(AttemptEnd {
                campaigncall_id: call.id,
                campaign_id: call.campaign_id,
                target_id: call.outdial_target_id,
                outdial_id: call.outdial_id,
                disposition: if i % 2 == 0 {
                    Disposition::Answered
                } else {
                    Disposition::Busy
                },
                sip_code: Some(if i % 2 == 0 { 200 } else { 486 }),
                reason: format!("reason {i}"),
                hangup_by: Some(HangupBy::Remote),
                setup_ms: i as u64,
                talk_ms: 2,
                next: if i % 2 == 0 {
                    TargetNext::Done("success")
                } else {
                    TargetNext::RetryAt(42)
                },
                at: time::now_string(),
                flow_result: Some(serde_json::json!({"digits": format!("{i}")})),
                served: None,
            })));
        }
        let applied = store.apply(&later).await.expect("answers and ends");
        assert!(applied.iter().all(|a| *a));
        assert!(store.open_attempts().await.expect("open").is_empty());
        let counts = store
            .count_targets(targets[0].outdial_id, 100)
            .await
            .expect("counts");
        // Even indexes answered (602), odd ones busy and due again at 42 (600), target 7 idle.
        assert_eq!(
            (
                counts.succeeded,
                counts.queued,
                counts.dialing,
                counts.failed
            ),
            (602, 601, 0, 0)
        );
        let WriteOp::Begin { call, .. } = &ops[1202] else {
            unreachable!()
        };
        let stored = store
            .get_campaigncall(call.customer_id, call.id)
            .await
            .expect("get")
            .expect("campaigncall");
        assert_eq!(stored.disposition, Some(Disposition::Answered));
        assert_eq!(stored.sip_code, Some(200));
        assert_eq!(stored.reason, "reason 1202");
        assert_eq!(stored.hangup_by, Some(HangupBy::Remote));
        assert_eq!(stored.setup_ms, 1202);
        assert_eq!(
            stored.flow_result,
            Some(serde_json::json!({"digits": "1202"}))
        );
        assert_eq!(stored.status, CallStatus::Done);
    }

    #[tokio::test]
    async fn an_ended_attempt_leaves_the_target_waiting_for_its_retry() {
        let (store, target) = store_with_target().await;
        let op = begin(&target, 1);
        let WriteOp::Begin { call, .. } = &op else {
            unreachable!()
        };
        let end = AttemptEnd {
            campaigncall_id: call.id,
            campaign_id: call.campaign_id,
            target_id: target.id,
            outdial_id: target.outdial_id,
            disposition: Disposition::Busy,
            sip_code: Some(486),
            reason: "Busy Here".into(),
            hangup_by: None,
            setup_ms: 3,
            talk_ms: 0,
            next: TargetNext::RetryAt(42),
            at: time::now_string(),
            flow_result: None,
            served: None,
        };
        store.apply(std::slice::from_ref(&op)).await.expect("begin");
        store
            .apply(&[WriteOp::End(Box::new(end))])
            .await
            .expect("end");
        assert!(store
            .due_targets(target.outdial_id, 41, None, 10)
            .await
            .expect("due")
            .0
            .is_empty());
        assert_eq!(
            store
                .due_targets(target.outdial_id, 42, None, 10)
                .await
                .expect("due")
                .0
                .len(),
            1
        );
        // A stale begin (try count 0 → 1 again) is refused; the fresh one (1 → 2) is not.
        assert_eq!(
            store.apply(&[begin(&target, 1)]).await.expect("stale"),
            [false]
        );
        assert_eq!(
            store.apply(&[begin(&target, 2)]).await.expect("fresh"),
            [true]
        );
        let exhausted = WriteOp::Exhausted {
            target_id: target.id,
            outdial_id: target.outdial_id,
            at: time::now_string(),
        };
        assert_eq!(store.apply(&[exhausted]).await.expect("not idle"), [true]);
        let t = stored(&store, target.outdial_id, target.id).await;
        assert_eq!(
            t.status,
            TargetStatus::Progressing,
            "an attempt in flight is left alone"
        );
        let counts = store.call_counts(Uuid::nil()).await.expect("counts");
        assert_eq!(counts.attempts, 2);
        assert_eq!(counts.dispositions.get("busy"), Some(&1));
    }

    #[tokio::test]
    async fn a_waiting_target_with_no_try_left_is_closed_as_failed() {
        let (store, target) = store_with_target().await;
        let op = WriteOp::Exhausted {
            target_id: target.id,
            outdial_id: target.outdial_id,
            at: time::now_string(),
        };
        store.apply(&[op]).await.expect("apply");
        let t = stored(&store, target.outdial_id, target.id).await;
        assert_eq!((t.status, t.result.as_str()), (TargetStatus::Done, "fail"));
        assert_eq!(
            store
                .count_targets(target.outdial_id, 0)
                .await
                .expect("counts")
                .failed,
            1
        );
    }

    #[tokio::test]
    async fn an_end_that_gives_its_try_back_leaves_the_target_due_with_the_count_it_had() {
        let (store, targets) = store_with_targets(1).await;
        let begun = begin(&targets[0], 1);
        store
            .apply(std::slice::from_ref(&begun))
            .await
            .expect("begin");
        let next = TargetNext::Requeue { at: 5, slot: 0 };
        store
            .apply(&[end(&begun, Disposition::Failed, next)])
            .await
            .expect("end");
        let t = stored(&store, targets[0].outdial_id, targets[0].id).await;
        assert_eq!((t.status, t.tries.to_array()[0]), (TargetStatus::Idle, 0));
        // The next attempt is begun as a first try again.
        let again = store.apply(&[begin(&t, 1)]).await.expect("begin again");
        assert_eq!(again, vec![true]);
    }

    /// The database is capped at its current size, as a full disk would leave it.
    async fn fill_up(store: &SqliteStore) {
        let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
            .fetch_one(&store.pool)
            .await
            .expect("page count");
        sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
            .execute(&store.pool)
            .await
            .expect("cap");
    }

    /// Waits until the writer says the store can write again, then checks that the kept end
    /// of `target`'s call was written.
    async fn writable_again(
        health: &crate::store::health::StoreHealth,
        store: &SqliteStore,
        target: &Target,
    ) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !health.writable() {
            assert!(std::time::Instant::now() < deadline, "never writable again");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let t = stored(store, target.outdial_id, target.id).await;
        assert_eq!(
            (t.status, t.result.as_str()),
            (TargetStatus::Done, "success")
        );
    }

    #[tokio::test]
    async fn a_full_database_refuses_begins_keeps_ends_and_resumes_once_there_is_room() {
        use crate::store::writer::{WriteError, Writer};
        let (store, targets) = store_with_targets(600).await;
        let writer = Writer::start(Arc::new(store.clone())).expect("writer");
        let first = begin(&targets[0], 1);
        assert_eq!(
            writer.write(vec![first.clone()]).await.expect("room"),
            [true]
        );
        fill_up(&store).await;
        let mut failed = None;
        for chunk in targets[1..].chunks(20) {
            let ops = chunk.iter().map(|t| begin(t, 1)).collect();
            if let Err(e) = writer.write(ops).await {
                failed = Some(e);
                break;
            }
        }
        let failed = failed.expect("the capped database filled up");
        assert!(failed.to_string().contains("full"), "{failed}");
        let health = writer.health().clone();
        assert!(!health.writable());
        assert!(health.failure().expect("why").reason.contains("full"));
        // While it cannot write, attempts are not begun at all.
        let refused = writer.write(vec![begin(&targets[599], 1)]).await;
        assert!(
            matches!(refused, Err(WriteError::Unwritable(_))),
            "{refused:?}"
        );
        // The end of the call already placed is kept and written (it changes rows in place),
        // but the store stays unwritable for new attempts while it cannot grow.
        let end = end(&first, Disposition::Answered, TargetNext::Done("success"));
        let written =
            tokio::time::timeout(std::time::Duration::from_secs(5), writer.write(vec![end]))
                .await
                .expect("kept end written");
        assert_eq!(written.expect("durable"), [true]);
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        assert!(!health.writable(), "no room to grow yet");
        sqlx::query("PRAGMA max_page_count = 1000000")
            .execute(&store.pool)
            .await
            .expect("room again");
        writable_again(&health, &store, &targets[0]).await;
        let more = writer.write(vec![begin(&targets[599], 1)]).await;
        assert_eq!(more.expect("writes again"), [true]);
    }

    #[tokio::test]
    async fn a_connection_that_cannot_write_refuses_begins_keeps_ends_and_is_opened_again() {
        use crate::store::writer::Writer;
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("ro.db").display());
        let (store, targets) = store_with_targets_at(&url, 3).await;
        let writer = Writer::start(Arc::new(store.clone())).expect("writer");
        let first = begin(&targets[0], 1);
        assert_eq!(
            writer.write(vec![first.clone()]).await.expect("begin"),
            [true]
        );
        // The writer's connection turns read-only, as a database file does for a process
        // that may no longer write it once its connection is opened again.
        let options = store.write_options.clone().expect("a file's writer");
        let read_only = writer_pool(&options.read_only(true))
            .await
            .expect("read-only");
        *store.writes.write().expect("writes") = read_only;
        let ended = end(&first, Disposition::Answered, TargetNext::Done("success"));
        let (refused, kept) = tokio::join!(
            writer.write(vec![begin(&targets[1], 1)]),
            writer.write(vec![ended])
        );
        let refused = refused.expect_err("no attempt begun on a read-only connection");
        assert!(refused.to_string().contains("readonly"), "{refused}");
        // The end is kept, and written once the writer has opened its connection again.
        assert_eq!(kept.expect("the end is written"), [true]);
        writable_again(writer.health(), &store, &targets[0]).await;
        let t = stored(&store, targets[1].outdial_id, targets[1].id).await;
        assert_eq!(
            t.status,
            TargetStatus::Idle,
            "the refused begin left no trace"
        );
        let again = writer.write(vec![begin(&t, 1)]).await;
        assert_eq!(again.expect("writes again"), [true]);
    }
}
