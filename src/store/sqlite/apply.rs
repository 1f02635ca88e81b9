//! The dialer's hot-path writes on SQLite, a batch at a time: each kind of write becomes one
//! statement for the whole batch, its rows passed as one JSON array read with `json_each`
//! (`UPDATE … FROM (SELECT … FROM json_each(?))`, `INSERT … SELECT … FROM json_each(?)`). A
//! batch of thousands of writes costs a handful of statements, and since their text never
//! changes they are prepared once per connection and kept.
//!
//! Within a batch the writes are applied by kind — begins, exhausted targets, answers, ends —
//! which keeps their meaning: a write never depends on a later one of an earlier kind (an
//! attempt's answer and end are only sent once its begin is committed, and a target is begun
//! again only once the end of its last attempt is committed and read back).

use super::{hangup_str, to_json};
use crate::domain::{Campaigncall, Disposition};
use crate::store::{target_status_after, StoreError, StoreResult, WriteOp};
use serde_json::{json, Value};
use sqlx::{Row, SqliteConnection};
use std::collections::HashSet;
use uuid::Uuid;

/// Moves each target from `idle` with the try count its dialer read to `progressing` with one
/// more try on the slot dialed (a compare-and-set); returns the targets that moved.
/// Rows: `[target id, slot, try count read, at]`.
const CLAIM: &str = "UPDATE targets SET status = 'progressing',
       try_count_0 = try_count_0 + (v.slot = 0), try_count_1 = try_count_1 + (v.slot = 1),
       try_count_2 = try_count_2 + (v.slot = 2), try_count_3 = try_count_3 + (v.slot = 3),
       try_count_4 = try_count_4 + (v.slot = 4), tm_update = v.at
     FROM (SELECT value->>0 AS id, value->>1 AS slot, value->>2 AS expected, value->>3 AS at
           FROM json_each(?)) AS v
     WHERE targets.id = v.id AND targets.status = 'idle' AND targets.deleted = 0
       AND CASE v.slot WHEN 0 THEN targets.try_count_0 WHEN 1 THEN targets.try_count_1
             WHEN 2 THEN targets.try_count_2 WHEN 3 THEN targets.try_count_3
             ELSE targets.try_count_4 END = v.expected
     RETURNING targets.id";

/// Rows: the campaigncall's 18 columns in this order.
const INSERT_CALLS: &str = "INSERT INTO campaigncalls (id, customer_id, campaign_id, outplan_id,
       outdial_id, outdial_target_id, queue_id, reference_type, reference_id, status, result,
       source, destination, destination_index, try_count, tm_create, tm_update, tm_delete)
     SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5, value->>6,
       value->>7, value->>8, value->>9, value->>10, value->>11, value->>12, value->>13,
       value->>14, value->>15, value->>16, value->>17
     FROM json_each(?)";

/// Rows: `[target id, at]`.
const EXHAUST: &str = "UPDATE targets SET status = 'done', result = 'fail', tm_update = v.at
     FROM (SELECT value->>0 AS id, value->>1 AS at FROM json_each(?)) AS v
     WHERE targets.id = v.id AND targets.status = 'idle'";

/// Rows: `[campaigncall id, at]`.
const ANSWER: &str = "UPDATE campaigncalls SET status = 'progressing', tm_update = v.at
     FROM (SELECT value->>0 AS id, value->>1 AS at FROM json_each(?)) AS v
     WHERE campaigncalls.id = v.id AND campaigncalls.status = 'dialing'";

/// Rows: `[campaigncall id, result, disposition, sip_code, reason, hangup_by, setup_ms,
/// talk_ms, flow_result, at]`.
const END_CALLS: &str = "UPDATE campaigncalls SET status = 'done', result = v.result,
       disposition = v.disposition, sip_code = v.sip_code, reason = v.reason,
       hangup_by = v.hangup_by, setup_ms = v.setup_ms, talk_ms = v.talk_ms,
       flow_result = v.flow_result, tm_update = v.at
     FROM (SELECT value->>0 AS id, value->>1 AS result, value->>2 AS disposition,
             value->>3 AS sip_code, value->>4 AS reason, value->>5 AS hangup_by,
             value->>6 AS setup_ms, value->>7 AS talk_ms, value->>8 AS flow_result,
             value->>9 AS at
           FROM json_each(?)) AS v
     WHERE campaigncalls.id = v.id";

/// Rows: `[target id, status, result, next_at, at]`.
const END_TARGETS: &str = "UPDATE targets SET status = v.status, result = v.result,
       next_at = v.next_at, tm_update = v.at
     FROM (SELECT value->>0 AS id, value->>1 AS status, value->>2 AS result,
             value->>3 AS next_at, value->>4 AS at
           FROM json_each(?)) AS v
     WHERE targets.id = v.id";

/// Runs `sql` over `rows` (nothing when there are none).
async fn execute(conn: &mut SqliteConnection, sql: &str, rows: Vec<Value>) -> StoreResult<()> {
    if !rows.is_empty() {
        sqlx::query(sql)
            .bind(Value::Array(rows).to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Applies `ops` on `conn` (inside the caller's transaction); whether each took effect.
pub(super) async fn apply(conn: &mut SqliteConnection, ops: &[WriteOp]) -> StoreResult<Vec<bool>> {
    let mut applied = vec![true; ops.len()];
    let mut begins: Vec<(usize, &Campaigncall)> = Vec::new();
    let mut claims = Vec::new();
    let mut exhausted = Vec::new();
    let mut answered = Vec::new();
    let mut ends = Vec::new();
    let mut end_targets = Vec::new();
    let mut begun_targets = HashSet::new();
    // An answer whose end is in the same batch needs no write of its own.
    let ending: HashSet<Uuid> = ops
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
                if !begun_targets.insert(call.outdial_target_id) {
                    applied[i] = false;
                    continue;
                }
                claims.push(json!([
                    call.outdial_target_id,
                    (*slot).min(4),
                    i64::from(call.try_count) - 1,
                    call.tm_create
                ]));
                begins.push((i, call.as_ref()));
            }
            WriteOp::Exhausted { target_id, at } => exhausted.push(json!([target_id, at])),
            WriteOp::Answered {
                campaigncall_id,
                at,
            } => {
                if !ending.contains(campaigncall_id) {
                    answered.push(json!([campaigncall_id, at]));
                }
            }
            WriteOp::End(end) => {
                let result = if end.disposition == Disposition::Answered {
                    "success"
                } else {
                    "fail"
                };
                ends.push(json!([
                    end.campaigncall_id,
                    result,
                    end.disposition.as_str(),
                    end.sip_code,
                    end.reason,
                    hangup_str(end.hangup_by),
                    end.setup_ms,
                    end.talk_ms,
                    end.flow_result.as_ref().map(Value::to_string),
                    end.at
                ]));
                let (status, result, next_at) = target_status_after(end.next);
                end_targets.push(json!([
                    end.target_id,
                    status.as_str(),
                    result,
                    next_at,
                    end.at
                ]));
            }
        }
    }
    if !claims.is_empty() {
        let claimed = claim_targets(conn, claims).await?;
        let mut created = Vec::with_capacity(begins.len());
        for (i, call) in begins {
            if claimed.contains(&call.outdial_target_id) {
                created.push(campaigncall_row(call)?);
            } else {
                applied[i] = false;
            }
        }
        execute(conn, INSERT_CALLS, created).await?;
    }
    execute(conn, EXHAUST, exhausted).await?;
    execute(conn, ANSWER, answered).await?;
    execute(conn, END_CALLS, ends).await?;
    execute(conn, END_TARGETS, end_targets).await?;
    Ok(applied)
}

async fn claim_targets(
    conn: &mut SqliteConnection,
    rows: Vec<Value>,
) -> StoreResult<HashSet<Uuid>> {
    let rows = sqlx::query(CLAIM)
        .bind(Value::Array(rows).to_string())
        .fetch_all(&mut *conn)
        .await?;
    let mut claimed = HashSet::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get(0)?;
        let id = Uuid::parse_str(&id).map_err(|e| StoreError::Corrupt(format!("id: {e}")))?;
        claimed.insert(id);
    }
    Ok(claimed)
}

fn campaigncall_row(c: &Campaigncall) -> StoreResult<Value> {
    Ok(json!([
        c.id,
        c.customer_id,
        c.campaign_id,
        c.outplan_id,
        c.outdial_id,
        c.outdial_target_id,
        c.queue_id,
        c.reference_type,
        c.reference_id,
        c.status.as_str(),
        c.result,
        to_json(&c.source)?,
        to_json(&c.destination)?,
        c.destination_index,
        c.try_count,
        c.tm_create,
        c.tm_update,
        c.tm_delete
    ]))
}
