//! The dialer's hot-path writes on SQLite, a batch at a time: each kind of write becomes one
//! multi-row statement per chunk (`UPDATE … FROM (VALUES …)`, `INSERT … VALUES …`), so a batch
//! of thousands of writes costs a handful of statements instead of one or two per write.
//!
//! Within a batch the writes are applied by kind — begins, exhausted targets, answers, ends —
//! which keeps their meaning: a write never depends on a later one of an earlier kind (an
//! attempt's answer and end are only sent once its begin is committed, and a target is begun
//! again only once the end of its last attempt is committed and read back).

use super::{hangup_str, to_json};
use crate::domain::{Campaigncall, Disposition};
use crate::store::{target_status_after, StoreError, StoreResult, WriteOp};
use sqlx::{Row, SqliteConnection};
use std::collections::HashMap;
use uuid::Uuid;

/// Rows per statement; SQLite allows 32,766 bound values, the widest row here binds 18.
const CHUNK: usize = 500;

/// `(?, ?), (?, ?)` for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(", "));
    vec![row; rows].join(", ")
}

/// Applies `ops` on `conn` (inside the caller's transaction); whether each took effect.
pub(super) async fn apply(conn: &mut SqliteConnection, ops: &[WriteOp]) -> StoreResult<Vec<bool>> {
    let mut applied = vec![true; ops.len()];
    let mut begins: Vec<(usize, &Campaigncall, usize)> = Vec::new();
    let mut exhausted = Vec::new();
    let mut answered = Vec::new();
    let mut ends = Vec::new();
    let mut begun_targets = HashMap::new();
    // An answer whose end is in the same batch needs no write of its own.
    let ending: std::collections::HashSet<Uuid> = ops
        .iter()
        .filter_map(|op| match op {
            WriteOp::End(end) => Some(end.campaigncall_id),
            _ => None,
        })
        .collect();
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Begin { call, slot } => {
                // A second begin of one target in one batch comes from a stale read: refused,
                // as it would be one statement later.
                if begun_targets.insert(call.outdial_target_id, i).is_some() {
                    applied[i] = false;
                } else {
                    begins.push((i, call.as_ref(), (*slot).min(4)));
                }
            }
            WriteOp::Exhausted { target_id, at } => exhausted.push((*target_id, at)),
            WriteOp::Answered {
                campaigncall_id,
                at,
            } => {
                if !ending.contains(campaigncall_id) {
                    answered.push((*campaigncall_id, at));
                }
            }
            WriteOp::End(end) => ends.push(end.as_ref()),
        }
    }
    for chunk in begins.chunks(CHUNK) {
        let claimed = claim_targets(conn, chunk).await?;
        let mut created = Vec::with_capacity(chunk.len());
        for (i, call, _) in chunk {
            if claimed.contains_key(&call.outdial_target_id) {
                created.push(*call);
            } else {
                applied[*i] = false;
            }
        }
        insert_campaigncalls(conn, &created).await?;
    }
    for chunk in exhausted.chunks(CHUNK) {
        let sql = format!(
            "UPDATE targets SET status = 'done', result = 'fail', tm_update = v.column2
             FROM (VALUES {}) AS v WHERE targets.id = v.column1 AND targets.status = 'idle'",
            placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for (target, at) in chunk {
            q = q.bind(target.to_string()).bind(at.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in answered.chunks(CHUNK) {
        let sql = format!(
            "UPDATE campaigncalls SET status = 'progressing', tm_update = v.column2
             FROM (VALUES {}) AS v WHERE campaigncalls.id = v.column1 AND campaigncalls.status = 'dialing'",
            placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for (call, at) in chunk {
            q = q.bind(call.to_string()).bind(at.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    for chunk in ends.chunks(CHUNK) {
        let sql = format!(
            "UPDATE campaigncalls SET status = 'done', result = v.column2, disposition = v.column3,
               sip_code = v.column4, reason = v.column5, hangup_by = v.column6, setup_ms = v.column7,
               talk_ms = v.column8, flow_result = v.column9, tm_update = v.column10
             FROM (VALUES {}) AS v WHERE campaigncalls.id = v.column1",
            placeholders(chunk.len(), 10)
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for end in chunk {
            let result = if end.disposition == Disposition::Answered {
                "success"
            } else {
                "fail"
            };
            q = q
                .bind(end.campaigncall_id.to_string())
                .bind(result)
                .bind(end.disposition.as_str())
                .bind(end.sip_code.map(i64::from))
                .bind(end.reason.as_str())
                .bind(hangup_str(end.hangup_by))
                .bind(end.setup_ms as i64)
                .bind(end.talk_ms as i64)
                .bind(end.flow_result.as_ref().map(|v| v.to_string()))
                .bind(end.at.as_str());
        }
        q.execute(&mut *conn).await?;
        let sql = format!(
            "UPDATE targets SET status = v.column2, result = v.column3, next_at = v.column4,
               tm_update = v.column5
             FROM (VALUES {}) AS v WHERE targets.id = v.column1",
            placeholders(chunk.len(), 5)
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for end in chunk {
            let (status, result, next_at) = target_status_after(end.next);
            q = q
                .bind(end.target_id.to_string())
                .bind(status.as_str())
                .bind(result)
                .bind(next_at)
                .bind(end.at.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(applied)
}

/// Moves each target from `idle` with the try count its dialer read to `progressing` with one
/// more try on the slot dialed (a compare-and-set); the targets that moved.
async fn claim_targets(
    conn: &mut SqliteConnection,
    begins: &[(usize, &Campaigncall, usize)],
) -> StoreResult<HashMap<Uuid, ()>> {
    let sql = format!(
        "UPDATE targets SET status = 'progressing',
           try_count_0 = try_count_0 + (v.column2 = 0), try_count_1 = try_count_1 + (v.column2 = 1),
           try_count_2 = try_count_2 + (v.column2 = 2), try_count_3 = try_count_3 + (v.column2 = 3),
           try_count_4 = try_count_4 + (v.column2 = 4), tm_update = v.column4
         FROM (VALUES {}) AS v
         WHERE targets.id = v.column1 AND targets.status = 'idle' AND targets.deleted = 0
           AND CASE v.column2 WHEN 0 THEN targets.try_count_0 WHEN 1 THEN targets.try_count_1
                 WHEN 2 THEN targets.try_count_2 WHEN 3 THEN targets.try_count_3
                 ELSE targets.try_count_4 END = v.column3
         RETURNING targets.id",
        placeholders(begins.len(), 4)
    );
    let mut q = sqlx::query(&sql).persistent(false);
    for (_, call, slot) in begins {
        q = q
            .bind(call.outdial_target_id.to_string())
            .bind(*slot as i64)
            .bind(i64::from(call.try_count) - 1)
            .bind(call.tm_create.as_str());
    }
    let rows = q.fetch_all(&mut *conn).await?;
    let mut claimed = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(0)?;
        let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("id: {e}")))?;
        claimed.insert(id, ());
    }
    Ok(claimed)
}

async fn insert_campaigncalls(
    conn: &mut SqliteConnection,
    calls: &[&Campaigncall],
) -> StoreResult<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO campaigncalls (id, customer_id, campaign_id, outplan_id, outdial_id, outdial_target_id,
           queue_id, reference_type, reference_id, status, result, source, destination, destination_index,
           try_count, tm_create, tm_update, tm_delete)
         VALUES {}",
        placeholders(calls.len(), 18)
    );
    let mut q = sqlx::query(&sql).persistent(false);
    for c in calls {
        q = q
            .bind(c.id.to_string())
            .bind(c.customer_id.to_string())
            .bind(c.campaign_id.to_string())
            .bind(c.outplan_id.to_string())
            .bind(c.outdial_id.to_string())
            .bind(c.outdial_target_id.to_string())
            .bind(c.queue_id.to_string())
            .bind(c.reference_type.as_str())
            .bind(c.reference_id.as_str())
            .bind(c.status.as_str())
            .bind(c.result.as_str())
            .bind(to_json(&c.source)?)
            .bind(to_json(&c.destination)?)
            .bind(i64::from(c.destination_index))
            .bind(i64::from(c.try_count))
            .bind(c.tm_create.as_str())
            .bind(c.tm_update.as_str())
            .bind(c.tm_delete.as_str());
    }
    q.execute(&mut *conn).await?;
    Ok(())
}
