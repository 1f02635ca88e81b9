//! Recordings on SQLite: the `recordings` table (metadata; the files are on disk).

use super::{page_bounds, page_cut};
use crate::domain::time::NEVER;
use crate::domain::{Recording, RecordingFilter, RecordingStatus};
use crate::store::{Listed, Page, StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

/// Inserts `r`, or stores its new state over the row of the same id (its `seq`, hence its
/// place in lists, stays). A row saying `recording` never replaces one: the start of a
/// recording written late cannot undo its end.
pub(super) async fn put(pool: &SqlitePool, r: &Recording) -> StoreResult<()> {
    let opt = |id: Uuid| (!id.is_nil()).then(|| id.to_string());
    sqlx::query(
        "INSERT INTO recordings (id, customer_id, campaign_id, campaigncall_id, queue_id,
            agent_id, format, status, reason, path, channels, duration_ms, size, tm_start,
            tm_end, tm_create, tm_update, tm_delete)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, reason = excluded.reason,
            duration_ms = excluded.duration_ms, size = excluded.size,
            tm_end = excluded.tm_end, tm_update = excluded.tm_update,
            tm_delete = excluded.tm_delete
         WHERE excluded.status <> 'recording'",
    )
    .bind(r.id.to_string())
    .bind(r.customer_id.to_string())
    .bind(opt(r.campaign_id))
    .bind(opt(r.campaigncall_id))
    .bind(opt(r.queue_id))
    .bind(opt(r.agent_id))
    .bind(&r.format)
    .bind(r.status.as_str())
    .bind(&r.reason)
    .bind(&r.path)
    .bind(i64::from(r.channels))
    .bind(r.duration_ms as i64)
    .bind(r.size as i64)
    .bind(&r.tm_start)
    .bind(&r.tm_end)
    .bind(&r.tm_create)
    .bind(&r.tm_update)
    .bind(&r.tm_delete)
    .execute(pool)
    .await?;
    Ok(())
}

/// A live recording of `customer` (any customer when `None`).
pub(super) async fn get(
    pool: &SqlitePool,
    customer: Option<Uuid>,
    id: Uuid,
) -> StoreResult<Option<Recording>> {
    let customer = customer.map(|c| c.to_string());
    let row = sqlx::query(
        "SELECT * FROM recordings WHERE id = ? AND (? IS NULL OR customer_id = ?)
           AND tm_delete = ?",
    )
    .bind(id.to_string())
    .bind(&customer)
    .bind(&customer)
    .bind(NEVER)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// A page of a customer's live recordings that pass `filter`, newest first.
pub(super) async fn list(
    pool: &SqlitePool,
    customer: Uuid,
    filter: &RecordingFilter,
    page: &Page,
) -> StoreResult<Listed<Recording>> {
    let (size, before) = page_bounds(page);
    let campaign = filter.campaign.map(|c| c.to_string());
    let call = filter.campaigncall.map(|c| c.to_string());
    let rows = sqlx::query(
        "SELECT * FROM recordings WHERE customer_id = ? AND tm_delete = ?
           AND (? IS NULL OR campaign_id = ?) AND (? IS NULL OR campaigncall_id = ?)
           AND seq < ?
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(customer.to_string())
    .bind(NEVER)
    .bind(&campaign)
    .bind(&campaign)
    .bind(&call)
    .bind(&call)
    .bind(before)
    .bind(size + 1)
    .fetch_all(pool)
    .await?;
    let (kept, next_page_token) = page_cut(&rows, size, page);
    Ok(Listed {
        next_page_token,
        result: rows
            .iter()
            .take(kept)
            .map(from_row)
            .collect::<Result<_, _>>()?,
    })
}

fn uuid_or_nil(row: &SqliteRow, column: &str) -> StoreResult<Uuid> {
    match row.try_get::<Option<String>, _>(column)? {
        None => Ok(Uuid::nil()),
        Some(s) => Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("{column}: {e}"))),
    }
}

fn from_row(row: &SqliteRow) -> StoreResult<Recording> {
    let status: String = row.try_get("status")?;
    Ok(Recording {
        id: uuid_or_nil(row, "id")?,
        customer_id: uuid_or_nil(row, "customer_id")?,
        campaign_id: uuid_or_nil(row, "campaign_id")?,
        campaigncall_id: uuid_or_nil(row, "campaigncall_id")?,
        queue_id: uuid_or_nil(row, "queue_id")?,
        agent_id: uuid_or_nil(row, "agent_id")?,
        format: row.try_get("format")?,
        status: RecordingStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("recording status {status:?}")))?,
        reason: row.try_get("reason")?,
        channels: row.try_get::<i64, _>("channels")?.clamp(0, 16) as u16,
        duration_ms: row.try_get::<i64, _>("duration_ms")?.max(0) as u64,
        size: row.try_get::<i64, _>("size")?.max(0) as u64,
        tm_start: row.try_get("tm_start")?,
        tm_end: row.try_get("tm_end")?,
        tm_create: row.try_get("tm_create")?,
        tm_update: row.try_get("tm_update")?,
        tm_delete: row.try_get("tm_delete")?,
        path: row.try_get("path")?,
    })
}
