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
//! A begin whose number is on a do-not-call list that applies is claimed like any other and
//! then, in the same transaction, given its try back and closed (see [`DNC_HITS`]): the
//! lookup runs while the transaction holds the write lock, so a number whose add committed
//! before is always seen.
//!
//! Within a batch the writes are applied by kind — begins, opt-outs, exhausted targets,
//! deferred targets, answers, ends — each with the events it makes — and then the batch's own
//! events, which keeps their meaning: a write never depends on a later one of an earlier kind
//! (an attempt's answer and end are only sent once its begin is committed, and a target is
//! begun again only once the end of its last attempt is committed and read back).
//!
//! The event of a campaigncall created or changed is written by SQLite itself, from the row
//! (`INSERT INTO event_rows … SELECT … FROM campaigncalls`): a small row naming the call and
//! the point of the attempt (`phase`: created, answered, ended), whose `data` the `events`
//! view renders from the call's row when it is read (migration 0020). Nothing is read back
//! into the process or serialised on the hot path, and no copy of the call is written. A call
//! whose row at that point cannot be told from its later row (a begin that is not a fresh
//! `dialing` attempt) has its event's `data` written in full instead (see [`call_json!`]).

use super::counts::{BatchCounts, KnownMove, Standing};
use super::{hangup_str, to_json};
use crate::domain::{
    dnclist, AddressKind, CallStatus, Campaigncall, Disposition, Dnclist, TargetStatus,
};
use crate::fast::{FastMap, FastSet};
use crate::store::{target_status_after, try_given_back, StoreError, StoreResult, WriteOp};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqliteConnection};
use std::sync::OnceLock;
use uuid::Uuid;

/// The lengths a statement's `VALUES` list is padded to; a longer batch takes several
/// statements of the longest.
const LENGTHS: [usize; 5] = [1, 4, 16, 64, 256];

/// One kind of write: `WITH v(<columns>) AS (VALUES …) <body>`.
pub(super) struct Bulk {
    columns: &'static str,
    body: &'static str,
    /// The statement's text for each of `LENGTHS`, built on first use.
    texts: OnceLock<Vec<String>>,
}

impl Bulk {
    pub(super) const fn new(columns: &'static str, body: &'static str) -> Bulk {
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
#[derive(Clone)]
pub(super) enum Cell {
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
pub(super) struct Rows<'a> {
    bulk: &'a Bulk,
    cells: Vec<Cell>,
}

impl<'a> Rows<'a> {
    pub(super) fn new(bulk: &'a Bulk) -> Rows<'a> {
        Rows {
            bulk,
            cells: Vec::new(),
        }
    }

    pub(super) fn push<const N: usize>(&mut self, row: [Cell; N]) {
        debug_assert_eq!(N, self.bulk.width());
        self.cells.extend(row);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The statements that write every row: one per [`LENGTHS`]' longest, the last one
    /// padded.
    fn queries(self) -> Vec<Query<'a, Sqlite, SqliteArguments<'a>>> {
        let width = self.bulk.width();
        let longest = LENGTHS[LENGTHS.len() - 1];
        let mut queries = Vec::new();
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
            queries.push(query);
        }
        queries
    }

    /// Runs the statement over every row; what it returned (`RETURNING`), all statements
    /// together.
    pub(super) async fn run(self, conn: &mut SqliteConnection) -> StoreResult<Vec<SqliteRow>> {
        let mut returned = Vec::new();
        for query in self.queries() {
            returned.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(returned)
    }

    /// Runs the statement over every row for its effect alone (no `RETURNING`): the rows it
    /// changed, and the rowid of the last row it inserted if it inserted any.
    pub(super) async fn execute(
        self,
        conn: &mut SqliteConnection,
    ) -> StoreResult<(u64, Option<i64>)> {
        let (mut changed, mut last) = (0, None);
        for query in self.queries() {
            let done = query.execute(&mut *conn).await?;
            changed += done.rows_affected();
            if done.rows_affected() > 0 {
                last = last.max(Some(done.last_insert_rowid()));
            }
        }
        Ok((changed, last))
    }
}

/// The claim of each begun target: moves it from `idle` with the try count its dialer read to
/// `progressing` with one more try on the slot dialed (a compare-and-set).
macro_rules! claim {
    ($returning:literal) => {
        concat!(
            "UPDATE OR FAIL targets SET status = 'progressing',
               try_count_0 = try_count_0 + (v.slot = 0), try_count_1 = try_count_1 + (v.slot = 1),
               try_count_2 = try_count_2 + (v.slot = 2), try_count_3 = try_count_3 + (v.slot = 3),
               try_count_4 = try_count_4 + (v.slot = 4), tm_update = v.at
             FROM v
             WHERE targets.id = v.id AND targets.status = 'idle' AND targets.deleted = 0
               AND CASE v.slot WHEN 0 THEN targets.try_count_0 WHEN 1 THEN targets.try_count_1
                     WHEN 2 THEN targets.try_count_2 WHEN 3 THEN targets.try_count_3
                     ELSE targets.try_count_4 END = v.expected",
            $returning
        )
    };
}

/// [`claim!`] on a batch's first try: how many targets moved is all it needs, since each
/// begin of a batch names a target of its own (a second one is refused before); when every
/// target moved, every begin is claimed, and when one did not, the batch stops and is
/// applied again ([`Applied::again`]) with [`CLAIM_RETURNING`]. Returning no rows spares
/// SQLite the rows' collecting and the writer their reading, for the common case.
static CLAIM: Bulk = Bulk::new("id, slot, expected, at", claim!(""));

/// [`claim!`] returning the targets that moved (a batch applied again).
static CLAIM_RETURNING: Bulk = Bulk::new("id, slot, expected, at", claim!(" RETURNING targets.id"));

static INSERT_CALLS: Bulk = Bulk::new(
    "id, customer_id, campaign_id, outplan_id, outdial_id, outdial_target_id, queue_id,
     reference_type, reference_id, sip_call_id, status, result, source, destination,
     destination_index, try_count, tm_create, tm_update, tm_delete, caller_id, number",
    "INSERT OR FAIL INTO campaigncalls (id, customer_id, campaign_id, outplan_id, outdial_id,
       outdial_target_id, queue_id, reference_type, reference_id, sip_call_id, status, result,
       source, destination, destination_index, try_count, tm_create, tm_update, tm_delete,
       caller_id, number)
     SELECT * FROM v WHERE v.id IS NOT NULL",
);

/// Of the begins just claimed, those whose number is on one of the lists that apply to it
/// (`lists`: the list ids joined, each 36 characters) and has not expired at `now` (unix ms):
/// one probe of the index on `number` per begin.
static DNC_HITS: Bulk = Bulk::new(
    "id, number, lists, now",
    "SELECT v.id FROM v WHERE v.id IS NOT NULL AND EXISTS (
       SELECT 1 FROM dnc_numbers d INDEXED BY dnc_numbers_by_number
       WHERE d.number = v.number AND instr(v.lists, d.list_id) > 0
         AND (d.expire_at IS NULL OR d.expire_at > v.now))",
);

/// Of the begins just claimed, those whose number had a call of the same customer abandoned at
/// the safe harbour (`reason`) that ended after `since` (the lock-out's start): each one's
/// last such call. One probe of the partial index of abandoned calls per begin.
static LOCKOUT_HITS: Bulk = Bulk::new(
    "id, customer_id, number, since, reason",
    "SELECT v.id, max(c.tm_update) FROM v JOIN campaigncalls c INDEXED BY campaigncalls_abandoned
       ON c.customer_id = v.customer_id AND c.number = v.number
       AND c.disposition = 'abandoned' AND c.tm_update > v.since AND c.reason = v.reason
     WHERE v.id IS NOT NULL GROUP BY v.id",
);

/// A number the callee asked to be taken off: onto the customer's default list for good.
static OPT_OUT: Bulk = Bulk::new(
    "list_id, customer_id, number, at",
    "INSERT INTO dnc_numbers (list_id, customer_id, number, source, expire_at, tm_create)
     SELECT list_id, customer_id, number, 'opt_out', NULL, at FROM v WHERE v.list_id IS NOT NULL
     ON CONFLICT (list_id, number) DO UPDATE SET source = 'opt_out', expire_at = NULL",
);

/// The customer's default list, made on its first opt-out (kept as it is if it exists).
static DEFAULT_LIST: Bulk = Bulk::new(
    "id, customer_id, body",
    "INSERT INTO documents (kind, id, customer_id, status, deleted, body)
     SELECT 'dnclist', id, customer_id, '', 0, body FROM v WHERE v.id IS NOT NULL
     ON CONFLICT (kind, id) DO NOTHING",
);

/// Closes each waiting target `fail`, if it is still idle; with `outdial` (NULL: any), only
/// if it is live and of that outdial too, as the counters take it (see [`apply`]).
static EXHAUST: Bulk = Bulk::new(
    "id, at, outdial",
    "UPDATE OR FAIL targets SET status = 'done', result = 'fail', tm_update = v.at
     FROM v WHERE targets.id = v.id AND targets.status = 'idle'
       AND (v.outdial IS NULL OR (targets.deleted = 0 AND targets.outdial_id = v.outdial))",
);

/// The answer, with the dialog that a restart needs to end the call.
static ANSWER: Bulk = Bulk::new(
    "id, dialog, at",
    "UPDATE OR FAIL campaigncalls SET status = 'progressing', dialog = v.dialog, tm_update = v.at
     FROM v WHERE campaigncalls.id = v.id AND campaigncalls.status = 'dialing'",
);

/// Ends each attempt not ended yet: the first end recorded of an attempt is its end (a final
/// disposition is final), and a second one changes nothing. With `campaign` (NULL: any),
/// only an attempt of that campaign, as the counters take it (see [`apply`]). A queue the end
/// names that is not the call's own keeps the one it had in `queue_id_before`, for its earlier
/// events (the `events` view).
static END_CALLS: Bulk = Bulk::new(
    "id, result, disposition, sip_code, reason, hangup_by, setup_ms, talk_ms, flow_result, at,
     queue_id, agent_id, wait_ms, amd_result, campaign, digits",
    "UPDATE OR FAIL campaigncalls SET status = 'done', result = v.result,
       disposition = v.disposition, sip_code = v.sip_code, reason = v.reason,
       hangup_by = v.hangup_by, setup_ms = v.setup_ms, talk_ms = v.talk_ms,
       flow_result = v.flow_result, dialog = NULL, tm_update = v.at,
       queue_id = COALESCE(v.queue_id, campaigncalls.queue_id), agent_id = v.agent_id,
       wait_ms = v.wait_ms, amd_result = v.amd_result, digits = v.digits,
       queue_id_before = CASE WHEN v.queue_id <> campaigncalls.queue_id
                         THEN campaigncalls.queue_id END
     FROM v WHERE campaigncalls.id = v.id AND campaigncalls.status <> 'done'
       AND (v.campaign IS NULL OR campaigncalls.campaign_id = v.campaign)",
);

/// Adds each attempt an agent took to the agent's counts (calls handled, time talked), just
/// before the attempts are ended: an attempt already ended counts nothing again.
static AGENT_HANDLED: Bulk = Bulk::new(
    "id, agent_id, talk_ms",
    "INSERT OR FAIL INTO agent_counts (agent_id, handled, talk_ms)
     SELECT v.agent_id, COUNT(*), SUM(v.talk_ms) FROM v JOIN campaigncalls c ON c.id = v.id
     WHERE v.agent_id IS NOT NULL AND c.status <> 'done'
     GROUP BY v.agent_id
     ON CONFLICT (agent_id) DO UPDATE SET handled = handled + excluded.handled,
       talk_ms = talk_ms + excluded.talk_ms",
);

/// Events, in the order of the rows.
static EVENTS: Bulk = Bulk::new(
    "customer_id, type, resource_id, data, at",
    "INSERT OR FAIL INTO event_rows (customer_id, type, resource_id, data, tm_create)
     SELECT * FROM v WHERE v.customer_id IS NOT NULL",
);

/// A campaigncall's API representation (what [`Campaigncall`] serialises to, its fields in
/// the same order) as SQLite builds it from its row `c`, with its `status` and `tm_update`
/// given as SQL expressions: the `data` of an event written in full, when the `events` view
/// could not render it from the call's later row. A unit test holds it to the serialised
/// struct, as another holds the view's rendering.
macro_rules! call_json {
    ($status:literal, $tm_update:literal) => {
        concat!(
            "json_object('id', c.id, 'customer_id', c.customer_id, 'campaign_id', c.campaign_id,
               'outplan_id', c.outplan_id, 'outdial_id', c.outdial_id,
               'outdial_target_id', c.outdial_target_id, 'queue_id', c.queue_id,
               'reference_type', c.reference_type, 'reference_id', c.reference_id,
               'sip_call_id', c.sip_call_id, 'status', ",
            $status,
            ", 'result', c.result,
               'source', json(c.source), 'caller_id', c.caller_id,
               'destination', json(c.destination), 'destination_index', c.destination_index,
               'try_count', c.try_count, 'disposition', c.disposition, 'sip_code', c.sip_code,
               'reason', c.reason, 'hangup_by', c.hangup_by, 'setup_ms', c.setup_ms,
               'talk_ms', c.talk_ms, 'flow_result', json(c.flow_result),
               'agent_id', c.agent_id, 'wait_ms', c.wait_ms, 'amd_result', c.amd_result,
               'tm_create', c.tm_create, 'tm_update', ",
            $tm_update,
            ", 'tm_delete', c.tm_delete)"
        )
    };
}

/// Whether the view can render a call's created event from its row `c` as just inserted:
/// a fresh attempt (`dialing`, no result, changed when created), as the dialer begins every
/// one. The view shows such a call at its begin as `dialing`, with no result and `tm_update`
/// its `tm_create`.
macro_rules! created_renders {
    () => {
        "(c.status = 'dialing' AND c.result = '' AND c.tm_update = c.tm_create)"
    };
}

/// `campaigncall_created` of each call just inserted: the rows whose `seq` is in `?1 ..= ?2`,
/// in order, each a fresh attempt (see [`created_renders`]; the statement writes an event of
/// no other, and the caller checks it wrote one per call). The calls one batch inserts have
/// consecutive `seq`s (the column is `AUTOINCREMENT`, and the batch's transaction is the only
/// writer), so they are read by one range of the table itself rather than one probe of the
/// index of ids each. It calls no SQL function, so that SQLite keeps no statement journal for
/// it (see the module's documentation).
const CREATED_EVENTS: &str = concat!(
    "INSERT OR FAIL INTO event_rows (customer_id, type, resource_id, data, phase, tm_create)
     SELECT c.customer_id, 'campaigncall_created', c.id, '', 'created', c.tm_create
     FROM campaigncalls c WHERE c.seq BETWEEN ?1 AND ?2 AND ",
    created_renders!(),
    " ORDER BY c.seq"
);

/// [`CREATED_EVENTS`] for a batch that inserts a call that is not a fresh attempt: that
/// call's event holds its `data` in full.
const CREATED_EVENTS_IN_FULL: &str = concat!(
    "INSERT OR FAIL INTO event_rows (customer_id, type, resource_id, data, phase, tm_create)
     SELECT c.customer_id, 'campaigncall_created', c.id, CASE WHEN ",
    created_renders!(),
    " THEN '' ELSE ",
    call_json!("c.status", "c.tm_update"),
    " END, CASE WHEN ",
    created_renders!(),
    " THEN 'created' END, c.tm_create
     FROM campaigncalls c WHERE c.seq BETWEEN ?1 AND ?2 ORDER BY c.seq"
);

/// `campaigncall_updated` of each answer, as [`ANSWER`] is about to store it: run before it,
/// on the calls it will change (those still `dialing`) that have no result yet (as every
/// begin the dialer writes). The view shows such a call as it is then, `progressing` and
/// changed at the answer (the event's `tm_create`), from the call's later row.
static ANSWER_EVENTS: Bulk = Bulk::new(
    "id, at",
    "INSERT OR FAIL INTO event_rows (customer_id, type, resource_id, data, phase, tm_create)
     SELECT c.customer_id, 'campaigncall_updated', c.id, '', 'answered', v.at
     FROM v CROSS JOIN campaigncalls c
     WHERE c.id = v.id AND c.status = 'dialing' AND c.result = ''",
);

/// [`ANSWER_EVENTS`] of the calls it leaves out, those with a result: their events hold
/// their `data` in full. It writes nothing for the dialer's own answers, so that the SQL
/// function it calls costs no statement journal (one is opened on a page's first change),
/// and it is not run when [`ANSWER_EVENTS`] took every answer of the batch.
static ANSWER_EVENTS_IN_FULL: Bulk = Bulk::new(
    "id, at",
    concat!(
        "INSERT OR FAIL INTO event_rows (customer_id, type, resource_id, data, phase, tm_create)
         SELECT c.customer_id, 'campaigncall_updated', c.id, ",
        call_json!("'progressing'", "v.at"),
        ", NULL, v.at
         FROM v CROSS JOIN campaigncalls c
         WHERE c.id = v.id AND c.status = 'dialing' AND c.result <> ''"
    ),
);

/// `campaigncall_updated` of each call just ended: the view shows the call's row, which
/// nothing changes after its end.
static END_EVENTS: Bulk = Bulk::new(
    "id",
    "INSERT OR FAIL INTO event_rows (customer_id, type, resource_id, data, phase, tm_create)
     SELECT c.customer_id, 'campaigncall_updated', c.id, '', 'ended', c.tm_update
     FROM v CROSS JOIN campaigncalls c WHERE c.id = v.id",
);

/// Of the batch's ends (the attempt `id` of `campaign`, its target `target` of `outdial`),
/// those that do not find their rows as they say: `ended` (1) the attempts already ended,
/// and (0) those whose attempt is missing or of another campaign, or whose target is missing,
/// deleted, of another outdial or not in progress. Read only when the batch, applied, found
/// such rows.
static REREAD_ENDS: Bulk = Bulk::new(
    "id, campaign, target, outdial",
    "SELECT v.id, c.status IS 'done' AS ended FROM v
       LEFT JOIN campaigncalls c ON c.id = v.id LEFT JOIN targets t ON t.id = v.target
     WHERE v.id IS NOT NULL AND (c.status IS 'done' OR c.campaign_id IS NOT v.campaign
       OR t.deleted IS NOT 0 OR t.outdial_id IS NOT v.outdial
       OR t.status IS NOT 'progressing')",
);

/// Of the batch's exhausted targets (`id` of `outdial`), those missing, deleted, of another
/// outdial or not waiting; read with [`REREAD_ENDS`].
static REREAD_EXHAUSTED: Bulk = Bulk::new(
    "id, outdial",
    "SELECT v.id FROM v LEFT JOIN targets t ON t.id = v.id
     WHERE v.id IS NOT NULL AND (t.deleted IS NOT 0 OR t.outdial_id IS NOT v.outdial
       OR t.status IS NOT 'idle')",
);

/// `refund` is the slot whose try the attempt gives back, -1 for none. With `outdial` (NULL:
/// any), only a live target of that outdial still in progress, as the counters take it (see
/// [`apply`]).
static END_TARGETS: Bulk = Bulk::new(
    "id, status, result, next_at, refund, at, outdial",
    "UPDATE OR FAIL targets SET status = v.status, result = v.result, next_at = v.next_at,
       try_count_0 = try_count_0 - (v.refund = 0), try_count_1 = try_count_1 - (v.refund = 1),
       try_count_2 = try_count_2 - (v.refund = 2), try_count_3 = try_count_3 - (v.refund = 3),
       try_count_4 = try_count_4 - (v.refund = 4), wait = '', tm_update = v.at
     FROM v WHERE targets.id = v.id
       AND (v.outdial IS NULL OR (targets.status = 'progressing' AND targets.deleted = 0
         AND targets.outdial_id = v.outdial))",
);

/// A waiting target whose call window is closed waits for its next opening, with no try
/// used (only if it is still waiting as the dialer read it).
static DEFER: Bulk = Bulk::new(
    "id, next_at, at",
    "UPDATE OR FAIL targets SET next_at = v.next_at, wait = 'window', tm_update = v.at
     FROM v WHERE targets.id = v.id AND targets.status = 'idle' AND targets.deleted = 0",
);

/// What a batch did.
pub(super) struct Applied {
    /// Whether each write took effect.
    pub applied: Vec<bool>,
    /// The id of the last event it recorded, if it recorded any.
    pub last_event: Option<i64>,
    /// Some of its writes did not find their rows as they say (an end of an attempt already
    /// ended, before the batch or by an earlier end in it; a target deleted while its attempt
    /// ran; a begin of a target no longer as its dialer read it): what it wrote is to be
    /// rolled back, and the batch applied again with those rows read first ([`reread`]) and
    /// each begin's claim read back ([`CLAIM_RETURNING`]).
    pub again: bool,
    /// How many of its writes the counters counted from rows read for them (none in the
    /// common case: see [`super::counts::BatchCounts::read`]).
    pub counted_from_rows: usize,
}

/// What the rows of a batch that [`apply`] applied again hold, read first.
#[derive(Debug, Default)]
pub(super) struct Reread {
    /// The attempts already ended: their ends are left out.
    pub ended_before: FastSet<Uuid>,
    /// The other attempts whose end does not find its rows as it says: counted from the rows.
    pub unsettled_ends: FastSet<Uuid>,
    /// The exhausted targets that are not as their write says: counted from the rows.
    pub unsettled_exhausted: FastSet<Uuid>,
    /// Every write is counted from the rows (a batch applied again that still found rows
    /// otherwise than they were read: nothing in the dialer makes one).
    pub everything: bool,
}

impl Reread {
    /// Whether an end of `call` is counted as it says.
    fn end_known(&self, call: &Uuid) -> bool {
        !self.everything && !self.unsettled_ends.contains(call)
    }

    /// Whether an exhausted `target` is counted as its write says.
    fn exhausted_known(&self, target: &Uuid) -> bool {
        !self.everything && !self.unsettled_exhausted.contains(target)
    }
}

/// Reads, on `conn`, the rows of the ends and exhausted targets among `ops` that are not as
/// those writes say: only for a batch that [`apply`] found to hold such writes, to apply it
/// again ([`Applied::again`]).
pub(super) async fn reread(conn: &mut SqliteConnection, ops: &[WriteOp]) -> StoreResult<Reread> {
    let mut ends = Rows::new(&REREAD_ENDS);
    let mut exhausted = Rows::new(&REREAD_EXHAUSTED);
    for op in ops {
        match op {
            WriteOp::End(end) => ends.push([
                end.campaigncall_id.into(),
                end.campaign_id.into(),
                end.target_id.into(),
                end.outdial_id.into(),
            ]),
            WriteOp::Exhausted {
                target_id,
                outdial_id,
                ..
            } => exhausted.push([(*target_id).into(), (*outdial_id).into()]),
            _ => {}
        }
    }
    let mut reread = Reread::default();
    for row in ends.run(conn).await? {
        let id = id_of(&row)?;
        if row.try_get::<bool, _>(1)? {
            reread.ended_before.insert(id);
        } else {
            reread.unsettled_ends.insert(id);
        }
    }
    reread.unsettled_exhausted = claimed_targets(exhausted.run(conn).await?)?;
    Ok(reread)
}

/// Applies `ops` on `conn` (inside the caller's transaction): each campaigncall it creates
/// or changes is recorded as an event too (see [`CREATED_EVENTS`]), in the same transaction.
/// `lockout_ms` (0: none): a begin whose number had an abandoned call that recent is not
/// dialed; its target waits, its try given back, until the lock-out is over.
///
/// A begin is dialed only if its claim moved its target ([`CLAIM`]); on the first try the
/// claims are only counted, and a batch in which one did not move stops and is applied again
/// with each claim read back ([`Applied::again`]).
///
/// The first end recorded of an attempt is its end. `again`: `None` on the first try, which
/// costs nothing more per end; if it finds an end of an attempt already ended, it stops and
/// says so ([`Applied::again`]), and the caller rolls back and applies the batch again with
/// what [`reread`] read: the ends of attempts ended before it, and each end of an attempt
/// after its first in the batch, are then left out (not applied) — no event, no target moved,
/// nothing counted.
///
/// The counters are fed from what the writes say (see [`super::counts`]): an end's campaign
/// and target's outdial, its target in progress; an exhausted target's outdial, the target
/// waiting. The statements that end the attempts and move the targets check it (a target is
/// moved only if it is live, of that outdial and where its writes say); when one changes
/// fewer rows than it was given, it stops in the same way, and the next try counts the writes
/// that [`reread`] found otherwise from their rows, read just before each change, and applies
/// them as the statements did before they were checked (a third try, which nothing in the
/// dialer causes, counts every write so: [`Reread::everything`]). So does it for a target that
/// two writes of the batch touch.
pub(super) async fn apply(
    conn: &mut SqliteConnection,
    ops: &[WriteOp],
    lockout_ms: i64,
    again: Option<&Reread>,
) -> StoreResult<Applied> {
    let ended_before = again.map(|a| &a.ended_before);
    let mut events = Rows::new(&EVENTS);
    let mut applied = vec![true; ops.len()];
    let mut begins: Vec<(usize, usize, &Campaigncall)> = Vec::new();
    // On a first try the claims only count (see [`CLAIM`]).
    let mut claims = Rows::new(if again.is_none() {
        &CLAIM
    } else {
        &CLAIM_RETURNING
    });
    let mut claims_n = 0u64;
    let mut exhausted = Rows::new(&EXHAUST);
    // The writes the counters take as they say, and how many: checked by the statements.
    let mut exhausted_known = Rows::new(&EXHAUST);
    let mut exhausted_known_n = 0u64;
    let mut deferred = Rows::new(&DEFER);
    let mut dnc = Rows::new(&DNC_HITS);
    let mut lockouts = Rows::new(&LOCKOUT_HITS);
    let lockout_since = (lockout_ms > 0).then(|| {
        let since = chrono::Utc::now() - chrono::Duration::milliseconds(lockout_ms);
        crate::domain::time::format(since)
    });
    let mut opt_outs = Rows::new(&OPT_OUT);
    let mut default_lists = Rows::new(&DEFAULT_LIST);
    let mut opted_customers = FastSet::default();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut answered = Rows::new(&ANSWER);
    let mut answer_events = Rows::new(&ANSWER_EVENTS);
    // The answers stored (one per call), for ANSWER_EVENTS_IN_FULL if it is needed.
    let mut answers: Vec<(Uuid, &str)> = Vec::new();
    let mut ends = Rows::new(&END_CALLS);
    // The rows in `ends`: as many attempts as END_CALLS is to end.
    let mut ending_n = 0u64;
    // With `ended_before`, the attempts ended so far (the first end of each is kept).
    let mut ended_now = FastSet::default();
    let mut handled = Rows::new(&AGENT_HANDLED);
    let mut end_events = Rows::new(&END_EVENTS);
    // Each call's answer and end is recorded (and made an event) once.
    let mut changed_calls = FastSet::default();
    let mut end_targets = Rows::new(&END_TARGETS);
    let mut end_targets_known = Rows::new(&END_TARGETS);
    let mut end_targets_known_n = 0u64;
    let mut begun_targets = FastSet::default();
    let mut counts = BatchCounts::new();
    // An answer whose end is in the same batch needs no write of its own.
    let ending: FastSet<Uuid> = ops.iter().filter_map(WriteOp::ended_call).collect();
    let shared = shared_targets(ops, ended_before);
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Begin {
                call,
                slot,
                dnc_lists,
            } => {
                // A second begin of one target in one batch comes from a stale read: refused,
                // as it would be one statement later.
                if !begun_targets.insert(call.outdial_target_id) {
                    applied[i] = false;
                    continue;
                }
                if let (AddressKind::Tel(number), false) =
                    (&call.destination.kind, dnc_lists.is_empty())
                {
                    let mut lists = String::with_capacity(dnc_lists.len() * 36);
                    for list in dnc_lists.iter() {
                        lists.push_str(list.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
                    }
                    dnc.push([
                        call.outdial_target_id.into(),
                        number.as_str().into(),
                        lists.into(),
                        now_ms.into(),
                    ]);
                }
                if let (AddressKind::Tel(number), Some(since)) =
                    (&call.destination.kind, &lockout_since)
                {
                    lockouts.push([
                        call.outdial_target_id.into(),
                        call.customer_id.into(),
                        number.as_str().into(),
                        since.as_str().into(),
                        crate::domain::SAFE_HARBOUR_REASON.into(),
                    ]);
                }
                claims_n += 1;
                claims.push([
                    call.outdial_target_id.into(),
                    ((*slot).min(4) as u32).into(),
                    (i64::from(call.try_count) - 1).into(),
                    call.tm_create.as_str().into(),
                ]);
                begins.push((i, *slot, call.as_ref()));
            }
            WriteOp::OptOut {
                customer_id,
                number,
                at,
            } => {
                let list = dnclist::default_id(*customer_id);
                if opted_customers.insert(*customer_id) {
                    let doc = Dnclist::default_for(*customer_id, at);
                    default_lists.push([list.into(), (*customer_id).into(), to_json(&doc)?.into()]);
                }
                opt_outs.push([
                    list.into(),
                    (*customer_id).into(),
                    number.as_str().into(),
                    at.as_str().into(),
                ]);
            }
            WriteOp::Exhausted {
                target_id,
                outdial_id,
                at,
            } => {
                let known = again.is_none_or(|a| a.exhausted_known(target_id));
                if !known || shared.contains(target_id) {
                    counts.exhausted_unsettled(*target_id);
                    exhausted.push([(*target_id).into(), at.as_str().into(), Cell::Null]);
                } else {
                    counts.moved(KnownMove {
                        target: *target_id,
                        outdial: *outdial_id,
                        from: Standing::Queued,
                        status: TargetStatus::Done,
                        result: "fail",
                        by: None,
                    });
                    exhausted_known_n += 1;
                    exhausted_known.push([
                        (*target_id).into(),
                        at.as_str().into(),
                        (*outdial_id).into(),
                    ]);
                }
            }
            WriteOp::Defer {
                target_id,
                until_ms,
                at,
            } => deferred.push([(*target_id).into(), (*until_ms).into(), at.as_str().into()]),
            WriteOp::Event(event) => events.push([
                event.customer_id.into(),
                event.kind.as_str().into(),
                event.resource_id.as_str().into(),
                event.data.as_str().into(),
                crate::domain::time::now_string().into(),
            ]),
            WriteOp::Answered {
                campaigncall_id,
                dialog,
                at,
            } => {
                if !ending.contains(campaigncall_id)
                    && changed_calls.insert((*campaigncall_id, false))
                {
                    answer_events.push([(*campaigncall_id).into(), at.as_str().into()]);
                    answers.push((*campaigncall_id, at.as_str()));
                    answered.push([
                        (*campaigncall_id).into(),
                        dialog.as_deref().into(),
                        at.as_str().into(),
                    ]);
                }
            }
            WriteOp::End(end) => {
                if let Some(before) = ended_before {
                    if before.contains(&end.campaigncall_id)
                        || !ended_now.insert(end.campaigncall_id)
                    {
                        applied[i] = false;
                        continue;
                    }
                }
                ending_n += 1;
                if changed_calls.insert((end.campaigncall_id, true)) {
                    end_events.push([end.campaigncall_id.into()]);
                }
                let reached = end.disposition.reached();
                let result = if reached { "success" } else { "fail" };
                // Whether the end finds its attempt and target as it says (checked).
                let known = !shared.contains(&end.target_id)
                    && again.is_none_or(|a| a.end_known(&end.campaigncall_id));
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
                    end.flow_result
                        .as_ref()
                        .and_then(crate::flow::amd_result)
                        .into(),
                    known.then_some(end.campaign_id).into(),
                    // None when the flow collected none: the partial indexes on `digits`
                    // then take no entry for it (migration 0022).
                    end.flow_result
                        .as_ref()
                        .and_then(crate::flow::collected_digits)
                        .filter(|d| !d.is_empty())
                        .into(),
                ]);
                if let Some(served) = end.served.filter(|s| s.agent_id.is_some()) {
                    // Answer to hang-up, less the wait for the agent.
                    let talk = end.talk_ms.saturating_sub(served.wait_ms.unwrap_or(0));
                    handled.push([
                        end.campaigncall_id.into(),
                        served.agent_id.into(),
                        talk.into(),
                    ]);
                }
                let (status, result, next_at) = target_status_after(end.next);
                let refund = try_given_back(end.next).map_or(-1, |slot| slot.min(4) as i64);
                let row: [Cell; 7] = [
                    end.target_id.into(),
                    status.as_str().into(),
                    result.into(),
                    next_at.into(),
                    refund.into(),
                    end.at.as_str().into(),
                    known.then_some(end.outdial_id).into(),
                ];
                if known {
                    counts.ended(end.campaign_id, end.disposition);
                    counts.moved(KnownMove {
                        target: end.target_id,
                        outdial: end.outdial_id,
                        from: Standing::Dialing,
                        status,
                        result,
                        by: Some((end.campaign_id, reached)),
                    });
                    end_targets_known_n += 1;
                    end_targets_known.push(row);
                } else {
                    counts.ended_unsettled(end.campaigncall_id, end.disposition);
                    counts.moved_unsettled(end.target_id, status.as_str(), result);
                    end_targets.push(row);
                }
            }
        }
    }
    let mut last_event = None;
    if !claims.is_empty() {
        // `None`: every begin claimed.
        let claimed = if again.is_none() {
            let (moved, _) = claims.execute(conn).await?;
            if moved != claims_n {
                return Ok(Applied::again(applied));
            }
            None
        } else {
            Some(claimed_targets(claims.run(conn).await?)?)
        };
        let barred = if dnc.is_empty() {
            FastSet::default()
        } else {
            claimed_targets(dnc.run(conn).await?)?
        };
        let locked = if lockouts.is_empty() {
            FastMap::default()
        } else {
            locked_targets(lockouts.run(conn).await?)?
        };
        let mut created = Rows::new(&INSERT_CALLS);
        // Whether every call inserted is a fresh attempt (see `created_renders`).
        let mut all_fresh = true;
        for (i, slot, call) in begins {
            if claimed
                .as_ref()
                .is_some_and(|c| !c.contains(&call.outdial_target_id))
            {
                applied[i] = false;
                continue;
            }
            counts.claimed(call);
            // Just claimed: in progress, live and of its outdial, unless another write of the
            // batch touches it too.
            let known =
                !shared.contains(&call.outdial_target_id) && !again.is_some_and(|a| a.everything);
            if let Some(abandoned_at) = locked.get(&call.outdial_target_id) {
                // Not dialed and not recorded: the target waits, its try given back, until
                // the lock-out after the number's last abandoned call is over.
                applied[i] = false;
                let row: [Cell; 7] = [
                    call.outdial_target_id.into(),
                    "idle".into(),
                    "".into(),
                    (abandoned_at + lockout_ms).into(),
                    (slot.min(4) as i64).into(),
                    call.tm_create.as_str().into(),
                    known.then_some(call.outdial_id).into(),
                ];
                if known {
                    counts.moved(KnownMove {
                        target: call.outdial_target_id,
                        outdial: call.outdial_id,
                        from: Standing::Dialing,
                        status: TargetStatus::Idle,
                        result: "",
                        by: None,
                    });
                    end_targets_known_n += 1;
                    end_targets_known.push(row);
                } else {
                    counts.moved_unsettled(call.outdial_target_id, "idle", "");
                    end_targets.push(row);
                }
                continue;
            }
            created.push(campaigncall_row(call)?);
            all_fresh &= call.status == CallStatus::Dialing
                && call.result.is_empty()
                && call.tm_update == call.tm_create;
            counts.created(call);
            if barred.contains(&call.outdial_target_id) {
                // Recorded, but not dialed: the target is done with its try given back.
                applied[i] = false;
                // Its campaigncall is the one just inserted.
                counts.ended(call.campaign_id, Disposition::Dnc);
                if changed_calls.insert((call.id, true)) {
                    end_events.push([call.id.into()]);
                }
                ending_n += 1;
                ends.push(call_end_row(
                    call.id,
                    call.campaign_id,
                    "fail",
                    Disposition::Dnc,
                    "the number is on a do-not-call list",
                    &call.tm_create,
                ));
                let row: [Cell; 7] = [
                    call.outdial_target_id.into(),
                    "done".into(),
                    "fail".into(),
                    0i64.into(),
                    (slot.min(4) as i64).into(),
                    call.tm_create.as_str().into(),
                    known.then_some(call.outdial_id).into(),
                ];
                if known {
                    counts.moved(KnownMove {
                        target: call.outdial_target_id,
                        outdial: call.outdial_id,
                        from: Standing::Dialing,
                        status: TargetStatus::Done,
                        result: "fail",
                        by: Some((call.campaign_id, false)),
                    });
                    end_targets_known_n += 1;
                    end_targets_known.push(row);
                } else {
                    counts.moved_unsettled(call.outdial_target_id, "done", "fail");
                    end_targets.push(row);
                }
            }
        }
        let (inserted, last_call) = created.execute(conn).await?;
        if let (Some(last), true) = (last_call, inserted > 0) {
            let first = last - i64::try_from(inserted).unwrap_or(i64::MAX) + 1;
            let done = sqlx::query(if all_fresh {
                CREATED_EVENTS
            } else {
                CREATED_EVENTS_IN_FULL
            })
            .bind(first)
            .bind(last)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() != inserted {
                return Err(StoreError::Corrupt(format!(
                    "{inserted} campaigncalls inserted, {} created events",
                    done.rows_affected()
                )));
            }
            last_event = last_event.max(Some(done.last_insert_rowid()));
        }
    }
    counts.before_exhausted(conn).await?;
    for rows in [default_lists, opt_outs, exhausted] {
        rows.run(conn).await?;
    }
    let (closed, _) = exhausted_known.execute(conn).await?;
    if closed != exhausted_known_n {
        return Ok(Applied::again(applied));
    }
    deferred.run(conn).await?;
    counts.before_ends(conn).await?;
    // An answer's event is taken before the answer is stored: of the calls still dialing.
    let (taken, last) = answer_events.execute(conn).await?;
    last_event = last_event.max(last);
    // Each answer names a call of its own, and a call ANSWER_EVENTS took (no result yet) is
    // not one ANSWER_EVENTS_IN_FULL would: when it took every answer, the other has none.
    if taken != answers.len() as u64 {
        let mut in_full = Rows::new(&ANSWER_EVENTS_IN_FULL);
        for (id, at) in answers {
            in_full.push([id.into(), at.into()]);
        }
        last_event = last_event.max(in_full.execute(conn).await?.1);
    }
    answered.run(conn).await?;
    handled.run(conn).await?;
    let (ended, _) = ends.execute(conn).await?;
    if ended != ending_n && again.is_none() {
        return Ok(Applied::again(applied));
    }
    last_event = last_event.max(end_events.execute(conn).await?.1);
    counts.before_moves(conn).await?;
    end_targets.run(conn).await?;
    let (moved, _) = end_targets_known.execute(conn).await?;
    if moved != end_targets_known_n {
        return Ok(Applied::again(applied));
    }
    let counted_from_rows = counts.read();
    counts.write(conn).await?;
    last_event = last_event.max(events.execute(conn).await?.1);
    Ok(Applied {
        applied,
        last_event,
        again: false,
        counted_from_rows,
    })
}

impl Applied {
    /// Stopped: to be applied again (see [`Applied::again`]).
    fn again(applied: Vec<bool>) -> Applied {
        Applied {
            applied,
            last_event: None,
            again: true,
            counted_from_rows: 0,
        }
    }
}

/// The targets that more than one write of `ops` touches (begun, closed or moved by an end):
/// such a target is not where each write says, so those writes are counted from its row. The
/// ends left out (`ended_before`, and each end of an attempt after its first) touch nothing.
fn shared_targets(ops: &[WriteOp], ended_before: Option<&FastSet<Uuid>>) -> FastSet<Uuid> {
    let mut touched = FastSet::default();
    let mut shared = FastSet::default();
    let mut ends = FastSet::default();
    for op in ops {
        let target = match op {
            WriteOp::Begin { call, .. } => call.outdial_target_id,
            WriteOp::Exhausted { target_id, .. } => *target_id,
            WriteOp::End(end) => {
                if ended_before.is_some_and(|b| b.contains(&end.campaigncall_id))
                    || !ends.insert(end.campaigncall_id)
                {
                    continue;
                }
                end.target_id
            }
            _ => continue,
        };
        if !touched.insert(target) {
            shared.insert(target);
        }
    }
    shared
}

/// An `END_CALLS` row with no SIP status, timings or flow.
fn call_end_row(
    id: Uuid,
    campaign: Uuid,
    result: &str,
    disposition: Disposition,
    reason: &str,
    at: &str,
) -> [Cell; 16] {
    [
        id.into(),
        result.into(),
        disposition.as_str().into(),
        Cell::Null,
        reason.into(),
        Cell::Null,
        0i64.into(),
        0i64.into(),
        Cell::Null,
        at.into(),
        // Served by no queue or agent.
        Cell::Null,
        Cell::Null,
        Cell::Null,
        // No flow, so no amd and no digits.
        Cell::Null,
        campaign.into(),
        Cell::Null,
    ]
}

/// The targets locked out, each with when its number's last abandoned call ended (unix ms).
fn locked_targets(rows: Vec<SqliteRow>) -> StoreResult<FastMap<Uuid, i64>> {
    let mut locked = FastMap::default();
    for row in rows {
        let id: &str = row.try_get(0)?;
        let id = Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("id: {e}")))?;
        let at: &str = row.try_get(1)?;
        let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S%.f")
            .map_err(|e| StoreError::Corrupt(format!("tm_update {at:?}: {e}")))?;
        locked.insert(id, at.and_utc().timestamp_millis());
    }
    Ok(locked)
}

fn claimed_targets(rows: Vec<SqliteRow>) -> StoreResult<FastSet<Uuid>> {
    let mut claimed = FastSet::with_capacity_and_hasher(rows.len(), Default::default());
    for row in rows {
        claimed.insert(id_of(&row)?);
    }
    Ok(claimed)
}

/// The id in a row's first column.
fn id_of(row: &SqliteRow) -> StoreResult<Uuid> {
    let id: &str = row.try_get(0)?;
    Uuid::parse_str(id).map_err(|e| StoreError::Corrupt(format!("id: {e}")))
}

fn campaigncall_row(c: &Campaigncall) -> StoreResult<[Cell; 21]> {
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
        c.caller_id.as_str().into(),
        match &c.destination.kind {
            AddressKind::Tel(number) => number.as_str().into(),
            _ => Cell::Null,
        },
    ])
}

#[cfg(test)]
mod lockout_tests {
    use super::super::tests::{begin, store_with_targets, stored};
    use crate::domain::{Disposition, TargetStatus};
    use crate::store::{AttemptEnd, Commits, Store, TargetNext, WriteOp};
    use uuid::Uuid;

    const HOURS_72: i64 = 72 * 3_600_000;

    fn call_of(op: &WriteOp) -> &crate::domain::Campaigncall {
        match op {
            WriteOp::Begin { call, .. } => call,
            _ => unreachable!("a begin"),
        }
    }

    #[tokio::test]
    async fn a_number_abandoned_within_the_lock_out_is_not_dialed_again_and_waits_for_its_end() {
        let (mut store, targets) = store_with_targets(2).await;
        store.abandon_lockout_ms = HOURS_72;
        // Both begins dial the same number for the same customer.
        let first = begin(&targets[0], 1);
        assert_eq!(
            store
                .apply(std::slice::from_ref(&first))
                .await
                .expect("apply"),
            [true]
        );
        let now = chrono::Utc::now().timestamp_millis();
        let end = AttemptEnd::closed(
            call_of(&first),
            Disposition::Abandoned,
            crate::domain::SAFE_HARBOUR_REASON,
            TargetNext::RetryAt(now),
        );
        store
            .apply(&[WriteOp::End(Box::new(end))])
            .await
            .expect("end");

        // Its own retry and another target of the same number: neither is dialed.
        let again = begin(&targets[0], 2);
        let other = begin(&targets[1], 1);
        assert_eq!(
            store.apply(&[again, other]).await.expect("apply"),
            [false, false]
        );
        for (t, tries) in [(&targets[0], 1), (&targets[1], 0)] {
            let t = stored(&store, t.outdial_id, t.id).await;
            assert_eq!(t.status, TargetStatus::Idle);
            assert_eq!(t.tries.to_array()[0], tries, "no try used");
        }
        let outdial = targets[0].outdial_id;
        let due = |at| store.due_targets(outdial, at, None, 10);
        assert!(due(now + HOURS_72 - 60_000)
            .await
            .expect("due")
            .0
            .is_empty());
        assert_eq!(due(now + HOURS_72 + 5_000).await.expect("due").0.len(), 2);

        // Another customer's campaign may call the number; with no lock-out, so may this one.
        let mut theirs = begin(&targets[1], 1);
        if let WriteOp::Begin { call, .. } = &mut theirs {
            call.customer_id = Uuid::new_v4();
        }
        assert_eq!(store.apply(&[theirs]).await.expect("apply"), [true]);
        store.abandon_lockout_ms = 0;
        assert_eq!(
            store.apply(&[begin(&targets[0], 2)]).await.expect("apply"),
            [true]
        );
    }
}

#[cfg(test)]
mod event_tests {
    use super::super::tests::{answer, begin, store_with_targets};
    use super::super::SqliteStore;
    use crate::domain::{Disposition, HangupBy};
    use crate::store::{AgentCounts, AttemptEnd, Commits, Served, Store, TargetNext, WriteOp};
    use serde_json::json;
    use uuid::Uuid;

    /// The `data` of every event, in order, as stored.
    async fn stored_data(store: &SqliteStore) -> Vec<(String, String)> {
        sqlx::query_as("SELECT type, data FROM events ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .expect("events")
    }

    /// The campaigncall as the API shows it now, serialised.
    async fn api_json(store: &SqliteStore, customer: Uuid, id: Uuid) -> String {
        let call = store
            .get_campaigncall(customer, id)
            .await
            .expect("read")
            .expect("stored");
        serde_json::to_string(&call).expect("json")
    }

    #[tokio::test]
    async fn each_event_holds_the_campaigncall_exactly_as_the_api_shows_it_at_that_point() {
        let (store, targets) = store_with_targets(2).await;
        let customer = Uuid::new_v4();
        let mut first = begin(&targets[0], 1);
        let WriteOp::Begin { call, .. } = &mut first else {
            unreachable!()
        };
        call.customer_id = customer;
        call.queue_id = Uuid::new_v4();
        call.caller_id = "+15550100000".into();
        call.reference_id = "ref \"quoted\" / é".into();
        let id = call.id;
        let mut second = begin(&targets[1], 1);
        let WriteOp::Begin { call, .. } = &mut second else {
            unreachable!()
        };
        call.customer_id = customer;
        let other = call.id;
        let begun: Vec<crate::domain::Campaigncall> = [&first, &second]
            .map(|op| match op {
                WriteOp::Begin { call, .. } => (**call).clone(),
                _ => unreachable!(),
            })
            .into();
        store.apply(&[first, second]).await.expect("begin");
        let mut expected = vec![
            ("campaigncall_created", api_json(&store, customer, id).await),
            (
                "campaigncall_created",
                api_json(&store, customer, other).await,
            ),
        ];

        // An answer, and the same answer again in the next batch: one event.
        for _ in 0..2 {
            answer(&store, id, Some("{\"call_id\":\"x\"}")).await;
        }
        expected.push(("campaigncall_updated", api_json(&store, customer, id).await));

        let mut end = AttemptEnd::closed(
            &begun[0],
            Disposition::Answered,
            "callee hung up",
            TargetNext::Done("success"),
        );
        end.sip_code = Some(200);
        end.hangup_by = Some(HangupBy::Remote);
        end.setup_ms = 120;
        end.talk_ms = 4_500;
        end.flow_result = Some(json!({
            "actions": [{"id": "a", "type": "amd", "result": "ok", "score": 0.5}],
            "digits": "1",
            "variables": {"amd.result": "human", "n": 3}
        }));
        let agent = Uuid::new_v4();
        end.served = Some(Served {
            queue_id: None,
            agent_id: Some(agent),
            wait_ms: Some(800),
        });
        let mut end_again = end.clone();
        end_again.disposition = Disposition::Rejected;
        end_again.talk_ms = 0;
        // The other call ends unanswered in the same batch as its answer.
        let no_answer = AttemptEnd::closed(
            &begun[1],
            Disposition::NoAnswer,
            "",
            TargetNext::Done("fail"),
        );
        store
            .apply(&[
                WriteOp::Answered {
                    campaigncall_id: other,
                    dialog: None,
                    at: crate::domain::time::now_string(),
                },
                WriteOp::End(Box::new(end)),
                WriteOp::End(Box::new(no_answer)),
            ])
            .await
            .expect("end");
        expected.push(("campaigncall_updated", api_json(&store, customer, id).await));
        expected.push((
            "campaigncall_updated",
            api_json(&store, customer, other).await,
        ));

        let stored = stored_data(&store).await;
        let stored: Vec<(&str, String)> = stored
            .iter()
            .map(|(t, d)| (t.as_str(), d.clone()))
            .collect();
        assert_eq!(stored, expected);
        assert!(expected[3].1.contains("\"status\":\"done\""));
        assert!(expected[2].1.contains("\"status\":\"progressing\""));

        // The agent's call counts once, even when an end of it is written again.
        let handled = || async { store.agents_handled(&[agent]).await.expect("counts") };
        let once = AgentCounts {
            handled: 1,
            talk_ms: 4_500 - 800,
        };
        assert_eq!(handled().await.get(&agent), Some(&once));
        store
            .apply(&[WriteOp::End(Box::new(end_again))])
            .await
            .expect("end again");
        assert_eq!(handled().await.get(&agent), Some(&once));
        // And it changes nothing else: the first end stands, with no event of its own.
        assert_eq!(stored_data(&store).await.len(), expected.len());
        assert_eq!(api_json(&store, customer, id).await, expected[3].1);
    }

    /// Each event as written: its `data` and `phase` (`None`: written in full).
    async fn written(store: &SqliteStore) -> Vec<(String, Option<String>)> {
        sqlx::query_as("SELECT data, phase FROM event_rows ORDER BY id")
            .fetch_all(&store.pool)
            .await
            .expect("event rows")
    }

    /// A begin of `target` for `customer` as the dialer makes it (changed when created).
    fn begun_call(op: &WriteOp) -> crate::domain::Campaigncall {
        let WriteOp::Begin { call, .. } = op else {
            unreachable!()
        };
        call.as_ref().clone()
    }

    fn fresh_begin(target: &crate::domain::Target, customer: Uuid) -> (WriteOp, Uuid) {
        let mut op = begin(target, 1);
        let WriteOp::Begin { call, .. } = &mut op else {
            unreachable!()
        };
        call.customer_id = customer;
        call.tm_update = call.tm_create.clone();
        let id = call.id;
        (op, id)
    }

    #[tokio::test]
    async fn an_answered_then_ended_call_reads_as_it_was_at_each_point_from_small_rows() {
        let (store, targets) = store_with_targets(1).await;
        let customer = Uuid::new_v4();
        let (op, id) = fresh_begin(&targets[0], customer);
        let call = begun_call(&op);
        store.apply(&[op]).await.expect("begin");
        let mut expected = vec![("campaigncall_created", api_json(&store, customer, id).await)];
        answer(&store, id, Some("{\"call_id\":\"y\"}")).await;
        expected.push(("campaigncall_updated", api_json(&store, customer, id).await));

        // Served by a queue that is not the call's own, and an agent.
        let mut end = AttemptEnd::closed(
            &call,
            Disposition::Answered,
            "agent hung up",
            TargetNext::Done("success"),
        );
        end.sip_code = Some(200);
        end.hangup_by = Some(HangupBy::Local);
        end.setup_ms = 90;
        end.talk_ms = 3_000;
        end.flow_result = Some(json!({"actions": [], "digits": "", "variables": {"x": 1.25}}));
        end.served = Some(Served {
            queue_id: Some(Uuid::new_v4()),
            agent_id: Some(Uuid::new_v4()),
            wait_ms: Some(400),
        });
        store
            .apply(&[WriteOp::End(Box::new(end))])
            .await
            .expect("end");
        expected.push(("campaigncall_updated", api_json(&store, customer, id).await));
        // Its flow collected no digits: none stored, so the digits indexes hold no entry.
        let digits: Option<String> =
            sqlx::query_scalar("SELECT digits FROM campaigncalls WHERE id = ?")
                .bind(id.to_string())
                .fetch_one(&store.pool)
                .await
                .expect("digits");
        assert_eq!(digits, None);
        // The call's own queue until its end, the one that served it after.
        let nil_queue = format!("\"queue_id\":\"{}\"", Uuid::nil());
        assert!(expected[0].1.contains(&nil_queue) && expected[1].1.contains(&nil_queue));
        assert!(!expected[2].1.contains(&nil_queue));

        let stored = stored_data(&store).await;
        let stored: Vec<(&str, String)> = stored
            .iter()
            .map(|(t, d)| (t.as_str(), d.clone()))
            .collect();
        assert_eq!(stored, expected);
        // Written as three small rows, rendered when read.
        let phases: Vec<_> = written(&store).await;
        assert_eq!(
            phases,
            [
                (String::new(), Some("created".to_string())),
                (String::new(), Some("answered".to_string())),
                (String::new(), Some("ended".to_string())),
            ]
        );
        // The stream and the webhooks read the same.
        let seen = store
            .events_after(customer, 0, &Default::default(), 10)
            .await
            .expect("events");
        for (event, (_, data)) in seen.iter().zip(&expected) {
            let data: serde_json::Value = serde_json::from_str(data).expect("json");
            assert_eq!(event.data, data);
        }
    }

    #[tokio::test]
    async fn a_dnc_barred_call_reads_as_begun_then_ended_dnc() {
        let (store, targets) = store_with_targets(1).await;
        let customer = Uuid::new_v4();
        let list = crate::domain::dnclist::default_id(customer);
        let destination = targets[0]
            .destinations
            .destination_0
            .clone()
            .unwrap_or_default();
        let crate::domain::AddressKind::Tel(number) = &destination.kind else {
            unreachable!("targets are numbers")
        };
        store
            .put_dnc_numbers(
                customer,
                &[crate::domain::DncNumber {
                    list_id: list,
                    number: number.clone(),
                    source: crate::domain::DncSource::Import,
                    expire_at: None,
                    tm_create: crate::domain::time::now_string(),
                }],
            )
            .await
            .expect("numbers");
        let (mut op, id) = fresh_begin(&targets[0], customer);
        let WriteOp::Begin {
            call, dnc_lists, ..
        } = &mut op
        else {
            unreachable!()
        };
        call.destination = destination.clone();
        *dnc_lists = std::sync::Arc::from(vec![list]);
        // What the call was as begun: the API never shows it (it is closed in the same
        // transaction), but its created event does.
        let begun = serde_json::to_string(call.as_ref()).expect("json");
        assert_eq!(store.apply(&[op]).await.expect("apply"), [false]);
        let ended = api_json(&store, customer, id).await;
        assert!(ended.contains("\"disposition\":\"dnc\""), "{ended}");
        let stored = stored_data(&store).await;
        assert_eq!(
            stored,
            [
                ("campaigncall_created".to_string(), begun),
                ("campaigncall_updated".to_string(), ended),
            ]
        );
        assert!(written(&store)
            .await
            .iter()
            .all(|(d, p)| d.is_empty() && p.is_some()));
    }

    #[tokio::test]
    async fn a_deleted_campaigns_calls_keep_their_events() {
        use crate::domain::time::now_string;
        use crate::domain::Campaign;
        use crate::store::Docs;
        let (store, targets) = store_with_targets(1).await;
        let customer = Uuid::new_v4();
        let mut campaign = Campaign {
            name: "spring".into(),
            outdial_id: targets[0].outdial_id,
            ..Campaign::new(customer)
        };
        Docs(&store).put(&campaign).await.expect("campaign");
        let (mut op, id) = fresh_begin(&targets[0], customer);
        if let WriteOp::Begin { call, .. } = &mut op {
            call.campaign_id = campaign.id;
        }
        let call = begun_call(&op);
        store.apply(&[op]).await.expect("begin");
        let end = AttemptEnd::closed(
            &call,
            Disposition::Busy,
            "Busy Here",
            TargetNext::Done("fail"),
        );
        store
            .apply(&[WriteOp::End(Box::new(end))])
            .await
            .expect("end");
        let before = stored_data(&store).await;

        campaign.tm_delete = now_string();
        Docs(&store).put(&campaign).await.expect("delete");
        let after = stored_data(&store).await;
        assert_eq!(after.len(), before.len() + 1);
        assert_eq!(after[..before.len()], before[..]);
        assert_eq!(after[before.len()].0, "campaign_deleted");
        let last = before.last().expect("the end's event");
        assert_eq!(last.1, api_json(&store, customer, id).await);
    }

    #[tokio::test]
    async fn a_begin_that_is_not_a_fresh_attempt_has_its_events_written_in_full() {
        let (store, targets) = store_with_targets(1).await;
        let customer = Uuid::new_v4();
        let (mut op, id) = fresh_begin(&targets[0], customer);
        if let WriteOp::Begin { call, .. } = &mut op {
            // Changed after it was created, and with a result already.
            call.tm_update = "2030-01-01 00:00:00.000000".into();
            call.result = "fail".into();
        }
        let call = begun_call(&op);
        store.apply(&[op]).await.expect("begin");
        let mut expected = vec![("campaigncall_created", api_json(&store, customer, id).await)];
        answer(&store, id, None).await;
        expected.push(("campaigncall_updated", api_json(&store, customer, id).await));
        let end = AttemptEnd::closed(
            &call,
            Disposition::Answered,
            "",
            TargetNext::Done("success"),
        );
        store
            .apply(&[WriteOp::End(Box::new(end))])
            .await
            .expect("end");
        expected.push(("campaigncall_updated", api_json(&store, customer, id).await));
        let stored = stored_data(&store).await;
        let stored: Vec<(&str, String)> = stored
            .iter()
            .map(|(t, d)| (t.as_str(), d.clone()))
            .collect();
        assert_eq!(stored, expected);
        let written = written(&store).await;
        assert_eq!(written[0], (expected[0].1.clone(), None));
        assert_eq!(written[1], (expected[1].1.clone(), None));
        assert_eq!(written[2], (String::new(), Some("ended".to_string())));
    }
}

#[cfg(test)]
mod journal_tests {
    use super::*;

    /// Whether the program SQLite compiles for `sql` calls an SQL function.
    async fn calls_a_function(conn: &mut SqliteConnection, sql: &str) -> bool {
        opcodes(conn, sql)
            .await
            .iter()
            .any(|op| op == "Function" || op == "PureFunc")
    }

    /// The program SQLite compiles for `sql`, a row a step (`opcode`, `p1`, `p2`, ...).
    async fn explain(conn: &mut SqliteConnection, sql: &str) -> Vec<SqliteRow> {
        sqlx::query(&format!("EXPLAIN {sql}"))
            .fetch_all(conn)
            .await
            .unwrap_or_else(|e| panic!("explain {sql}: {e}"))
    }

    /// The program SQLite compiles for `sql`: one opcode a step.
    async fn opcodes(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
        explain(conn, sql)
            .await
            .iter()
            .map(|r| r.try_get::<String, _>("opcode").expect("opcode"))
            .collect()
    }

    /// SQLite keeps a statement journal (a copy of each page a statement changes, to undo that
    /// statement alone) for a multi-row write that may stop half-way, and a call of an SQL
    /// function, in the statement or in an index expression or condition of a table it writes,
    /// is such a stop. The writes of every attempt call none, at every padded length.
    #[tokio::test]
    async fn the_writes_of_every_attempt_call_no_sql_function() {
        let store = super::super::SqliteStore::open("sqlite::memory:")
            .await
            .expect("open");
        let mut conn = store.pool.acquire().await.expect("connection");
        let hot = [
            ("CLAIM", &CLAIM),
            ("CLAIM_RETURNING", &CLAIM_RETURNING),
            ("INSERT_CALLS", &INSERT_CALLS),
            ("ANSWER", &ANSWER),
            ("END_CALLS", &END_CALLS),
            ("ANSWER_EVENTS", &ANSWER_EVENTS),
            ("END_EVENTS", &END_EVENTS),
            ("END_TARGETS", &END_TARGETS),
            ("EXHAUST", &EXHAUST),
            ("DEFER", &DEFER),
        ];
        for (name, bulk) in hot {
            for (i, rows) in LENGTHS.iter().enumerate() {
                assert!(
                    !calls_a_function(&mut conn, bulk.text(i)).await,
                    "{name} ({rows} rows) calls a function"
                );
            }
        }
        assert!(!calls_a_function(&mut conn, CREATED_EVENTS).await);
        // The check sees a function where there is one.
        let lower = "UPDATE campaigncalls SET reason = lower(reason)";
        assert!(calls_a_function(&mut conn, lower).await);
    }

    /// The indexes (by name) that the program SQLite compiles for `sql` opens to write.
    async fn indexes_written(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
        let roots: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, rootpage FROM sqlite_schema WHERE type = 'index'")
                .fetch_all(&mut *conn)
                .await
                .expect("schema");
        let mut written: Vec<String> = explain(conn, sql)
            .await
            .iter()
            .filter(|r| {
                r.try_get::<String, _>("opcode")
                    .is_ok_and(|op| op == "OpenWrite")
            })
            .filter_map(|r| {
                let root = r.try_get::<i64, _>("p2").ok()?;
                roots
                    .iter()
                    .find(|(_, page)| *page == root)
                    .map(|(n, _)| n.clone())
            })
            .collect();
        written.sort();
        written.dedup();
        written
    }

    /// An attempt's end changes the index entries of what it sets (its disposition, its
    /// digits...), not those of the index of a campaign's attempts by target (migration
    /// 0023), which its begin wrote once: the pages of that index are not written again at
    /// every end.
    #[tokio::test]
    async fn an_attempts_end_leaves_the_index_by_campaign_and_target_as_it_is() {
        let store = super::super::SqliteStore::open("sqlite::memory:")
            .await
            .expect("open");
        let mut conn = store.pool.acquire().await.expect("connection");
        let end = indexes_written(&mut conn, END_CALLS.text(0)).await;
        assert!(
            end.iter().any(|i| i == "campaigncalls_by_disposition"),
            "{end:?}"
        );
        assert!(
            !end.iter().any(|i| i == "campaigncalls_by_campaign_target"),
            "{end:?}"
        );
        let begin = indexes_written(&mut conn, INSERT_CALLS.text(0)).await;
        assert!(
            begin
                .iter()
                .any(|i| i == "campaigncalls_by_campaign_target"),
            "{begin:?}"
        );
    }
}
