//! The dialer's hot-path writes on SQLite, a batch at a time: each kind of write becomes one
//! statement per 256 rows of the batch, its rows bound as parameters of a `VALUES` list named
//! by a common table expression (`WITH v(id, at) AS (VALUES (?, ?), …) UPDATE … FROM v …`).
//! The list is padded with rows of NULLs (parameters left unbound, which SQLite reads as
//! NULL) to one of a few fixed lengths, so each statement's text is one of a handful, prepared
//! once per connection and kept; a NULL row matches no row and inserts none.
//!
//! Every statement is `OR FAIL`: a failing statement keeps the rows it already changed, which
//! spares SQLite a statement journal (a copy of each page before a multi-row statement changes
//! it, kept to undo that statement alone); nothing of it survives anyway, since a failing batch
//! rolls back its whole transaction.
//!
//! Within a batch the writes are applied by kind — begins, exhausted targets, answers, ends —
//! which keeps their meaning: a write never depends on a later one of an earlier kind (an
//! attempt's answer and end are only sent once its begin is committed, and a target is begun
//! again only once the end of its last attempt is committed and read back).

use super::{hangup_str, to_json};
use crate::domain::{Campaigncall, Disposition};
use crate::fast::FastSet;
use crate::store::{target_status_after, try_given_back, StoreError, StoreResult, WriteOp};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::sync::OnceLock;
use uuid::Uuid;

/// The lengths a statement's `VALUES` list is padded to; a longer batch takes several
/// statements of the longest.
const LENGTHS: [usize; 5] = [1, 4, 16, 64, 256];

/// One kind of write: `WITH v(<columns>) AS (VALUES …) <body>`.
struct Bulk {
    columns: &'static str,
    body: &'static str,
    /// The statement's text for each of `LENGTHS`, built on first use.
    texts: OnceLock<Vec<String>>,
}

impl Bulk {
    const fn new(columns: &'static str, body: &'static str) -> Bulk {
        Bulk {
            columns,
            body,
            texts: OnceLock::new(),
        }
    }

    fn width(&self) -> usize {
        self.columns.split(',').count()
    }

    /// The text for a list of `LENGTHS[i]` rows.
    fn text(&self, i: usize) -> &str {
        let texts = self.texts.get_or_init(|| {
            let row = format!("({})", vec!["?"; self.width()].join(", "));
            LENGTHS
                .iter()
                .map(|&n| {
                    format!(
                        "WITH v({}) AS (VALUES {}) {}",
                        self.columns,
                        vec![row.as_str(); n].join(", "),
                        self.body
                    )
                })
                .collect()
        });
        &texts[i]
    }
}

/// One bound value.
enum Cell {
    Text(String),
    Int(i64),
    Null,
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<Uuid> for Cell {
    fn from(id: Uuid) -> Cell {
        Cell::Text(id.to_string())
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Cell {
        Cell::Int(n)
    }
}

impl From<u64> for Cell {
    fn from(n: u64) -> Cell {
        Cell::Int(n.min(i64::MAX as u64) as i64)
    }
}

impl From<u32> for Cell {
    fn from(n: u32) -> Cell {
        Cell::Int(i64::from(n))
    }
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Null, Into::into)
    }
}

/// The rows of one kind of write, flattened.
struct Rows<'a> {
    bulk: &'a Bulk,
    cells: Vec<Cell>,
}

impl<'a> Rows<'a> {
    fn new(bulk: &'a Bulk) -> Rows<'a> {
        Rows {
            bulk,
            cells: Vec::new(),
        }
    }

    fn push<const N: usize>(&mut self, row: [Cell; N]) {
        debug_assert_eq!(N, self.bulk.width());
        self.cells.extend(row);
    }

    fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Runs the statement over every row; what it returned (`RETURNING`), all statements
    /// together.
    async fn run(self, conn: &mut SqliteConnection) -> StoreResult<Vec<SqliteRow>> {
        let width = self.bulk.width();
        let longest = LENGTHS[LENGTHS.len() - 1];
        let mut returned = Vec::new();
        let mut cells = self.cells.into_iter().peekable();
        while cells.peek().is_some() {
            let chunk: Vec<Cell> = cells.by_ref().take(longest * width).collect();
            let rows = chunk.len() / width;
            let i = LENGTHS
                .iter()
                .position(|&n| n >= rows)
                .unwrap_or(LENGTHS.len() - 1);
            let mut query = sqlx::query(self.bulk.text(i));
            for cell in chunk {
                query = match cell {
                    Cell::Text(s) => query.bind(s),
                    Cell::Int(n) => query.bind(n),
                    Cell::Null => query.bind(None::<String>),
                };
            }
            // The padding rows are left unbound: the statement's bindings are cleared before
            // each run, and SQLite reads an unbound parameter as NULL.
            returned.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(returned)
    }
}

/// Moves each target from `idle` with the try count its dialer read to `progressing` with one
/// more try on the slot dialed (a compare-and-set); returns the targets that moved.
static CLAIM: Bulk = Bulk::new(
    "id, slot, expected, at",
    "UPDATE OR FAIL targets SET status = 'progressing',
       try_count_0 = try_count_0 + (v.slot = 0), try_count_1 = try_count_1 + (v.slot = 1),
       try_count_2 = try_count_2 + (v.slot = 2), try_count_3 = try_count_3 + (v.slot = 3),
       try_count_4 = try_count_4 + (v.slot = 4), tm_update = v.at
     FROM v
     WHERE targets.id = v.id AND targets.status = 'idle' AND targets.deleted = 0
       AND CASE v.slot WHEN 0 THEN targets.try_count_0 WHEN 1 THEN targets.try_count_1
             WHEN 2 THEN targets.try_count_2 WHEN 3 THEN targets.try_count_3
             ELSE targets.try_count_4 END = v.expected
     RETURNING targets.id",
);

static INSERT_CALLS: Bulk = Bulk::new(
    "id, customer_id, campaign_id, outplan_id, outdial_id, outdial_target_id, queue_id,
     reference_type, reference_id, sip_call_id, status, result, source, destination,
     destination_index, try_count, tm_create, tm_update, tm_delete",
    "INSERT OR FAIL INTO campaigncalls (id, customer_id, campaign_id, outplan_id, outdial_id,
       outdial_target_id, queue_id, reference_type, reference_id, sip_call_id, status, result,
       source, destination, destination_index, try_count, tm_create, tm_update, tm_delete)
     SELECT * FROM v WHERE v.id IS NOT NULL",
);

static EXHAUST: Bulk = Bulk::new(
    "id, at",
    "UPDATE OR FAIL targets SET status = 'done', result = 'fail', tm_update = v.at
     FROM v WHERE targets.id = v.id AND targets.status = 'idle'",
);

/// The answer, with the dialog that a restart needs to end the call.
static ANSWER: Bulk = Bulk::new(
    "id, dialog, at",
    "UPDATE OR FAIL campaigncalls SET status = 'progressing', dialog = v.dialog, tm_update = v.at
     FROM v WHERE campaigncalls.id = v.id AND campaigncalls.status = 'dialing'",
);

static END_CALLS: Bulk = Bulk::new(
    "id, result, disposition, sip_code, reason, hangup_by, setup_ms, talk_ms, flow_result, at,
     queue_id, agent_id, wait_ms",
    "UPDATE OR FAIL campaigncalls SET status = 'done', result = v.result,
       disposition = v.disposition, sip_code = v.sip_code, reason = v.reason,
       hangup_by = v.hangup_by, setup_ms = v.setup_ms, talk_ms = v.talk_ms,
       flow_result = v.flow_result, dialog = NULL, tm_update = v.at,
       queue_id = COALESCE(v.queue_id, campaigncalls.queue_id), agent_id = v.agent_id,
       wait_ms = v.wait_ms
     FROM v WHERE campaigncalls.id = v.id",
);

/// `refund` is the slot whose try the attempt gives back, -1 for none.
static END_TARGETS: Bulk = Bulk::new(
    "id, status, result, next_at, refund, at",
    "UPDATE OR FAIL targets SET status = v.status, result = v.result, next_at = v.next_at,
       try_count_0 = try_count_0 - (v.refund = 0), try_count_1 = try_count_1 - (v.refund = 1),
       try_count_2 = try_count_2 - (v.refund = 2), try_count_3 = try_count_3 - (v.refund = 3),
       try_count_4 = try_count_4 - (v.refund = 4), tm_update = v.at
     FROM v WHERE targets.id = v.id",
);

/// Applies `ops` on `conn` (inside the caller's transaction); whether each took effect.
pub(super) async fn apply(conn: &mut SqliteConnection, ops: &[WriteOp]) -> StoreResult<Vec<bool>> {
    let mut applied = vec![true; ops.len()];
    let mut begins: Vec<(usize, &Campaigncall)> = Vec::new();
    let mut claims = Rows::new(&CLAIM);
    let mut exhausted = Rows::new(&EXHAUST);
    let mut answered = Rows::new(&ANSWER);
    let mut ends = Rows::new(&END_CALLS);
    let mut end_targets = Rows::new(&END_TARGETS);
    let mut begun_targets = FastSet::default();
    // An answer whose end is in the same batch needs no write of its own.
    let ending: FastSet<Uuid> = ops.iter().filter_map(WriteOp::ended_call).collect();
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Begin { call, slot } => {
                // A second begin of one target in one batch comes from a stale read: refused,
                // as it would be one statement later.
                if !begun_targets.insert(call.outdial_target_id) {
                    applied[i] = false;
                    continue;
                }
                claims.push([
                    call.outdial_target_id.into(),
                    ((*slot).min(4) as u32).into(),
                    (i64::from(call.try_count) - 1).into(),
                    call.tm_create.as_str().into(),
                ]);
                begins.push((i, call.as_ref()));
            }
            WriteOp::Exhausted { target_id, at } => {
                exhausted.push([(*target_id).into(), at.as_str().into()])
            }
            WriteOp::Answered {
                campaigncall_id,
                dialog,
                at,
            } => {
                if !ending.contains(campaigncall_id) {
                    answered.push([
                        (*campaigncall_id).into(),
                        dialog.as_deref().into(),
                        at.as_str().into(),
                    ]);
                }
            }
            WriteOp::End(end) => {
                let result = if end.disposition == Disposition::Answered {
                    "success"
                } else {
                    "fail"
                };
                ends.push([
                    end.campaigncall_id.into(),
                    result.into(),
                    end.disposition.as_str().into(),
                    end.sip_code.map(u32::from).into(),
                    end.reason.as_str().into(),
                    hangup_str(end.hangup_by).into(),
                    end.setup_ms.into(),
                    end.talk_ms.into(),
                    end.flow_result.as_ref().map(|v| v.to_string()).into(),
                    end.at.as_str().into(),
                    end.served.and_then(|s| s.queue_id).into(),
                    end.served.and_then(|s| s.agent_id).into(),
                    end.served.and_then(|s| s.wait_ms).into(),
                ]);
                let (status, result, next_at) = target_status_after(end.next);
                let refund = try_given_back(end.next).map_or(-1, |slot| slot.min(4) as i64);
                end_targets.push([
                    end.target_id.into(),
                    status.as_str().into(),
                    result.into(),
                    next_at.into(),
                    refund.into(),
                    end.at.as_str().into(),
                ]);
            }
        }
    }
    if !claims.is_empty() {
        let claimed = claimed_targets(claims.run(conn).await?)?;
        let mut created = Rows::new(&INSERT_CALLS);
        for (i, call) in begins {
            if claimed.contains(&call.outdial_target_id) {
                created.push(campaigncall_row(call)?);
            } else {
                applied[i] = false;
            }
        }
        created.run(conn).await?;
    }
    for rows in [exhausted, answered, ends, end_targets] {
        rows.run(conn).await?;
    }
    Ok(applied)
}

fn claimed_targets(rows: Vec<SqliteRow>) -> StoreResult<FastSet<Uuid>> {
    let mut claimed = FastSet::with_capacity_and_hasher(rows.len(), Default::default());
    for row in rows {
        let id: &str = row.try_get(0)?;
        let id = Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("id: {e}")))?;
        claimed.insert(id);
    }
    Ok(claimed)
}

fn campaigncall_row(c: &Campaigncall) -> StoreResult<[Cell; 19]> {
    Ok([
        c.id.into(),
        c.customer_id.into(),
        c.campaign_id.into(),
        c.outplan_id.into(),
        c.outdial_id.into(),
        c.outdial_target_id.into(),
        c.queue_id.into(),
        c.reference_type.as_str().into(),
        c.reference_id.as_str().into(),
        c.sip_call_id.as_str().into(),
        c.status.as_str().into(),
        c.result.as_str().into(),
        to_json(&c.source)?.into(),
        to_json(&c.destination)?.into(),
        c.destination_index.into(),
        c.try_count.into(),
        c.tm_create.as_str().into(),
        c.tm_update.as_str().into(),
        c.tm_delete.as_str().into(),
    ])
}
