//! Durable state behind one trait, one implementation per backend (SQLite today).
//!
//! Configuration resources (outplans, outdials, campaigns) are stored as JSON documents with
//! the columns the engine filters on; targets and campaigncalls are typed rows. Everything the
//! dialer writes on its hot path goes through [`Store::apply`], one transaction per batch
//! (see [`writer`] for the group commit in front of it).

pub mod health;
pub mod sqlite;
pub mod writer;

use crate::domain::{
    Action, Agent, Campaign, Campaigncall, Delivery, Disposition, DncNumber, Dnclist, Event,
    EventType, Flow, HangupBy, NewEvent, Outdial, Outplan, Queue, Recording, RecordingFilter,
    Target, TargetStatus, Webhook, E164,
};
use async_trait::async_trait;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

pub use sqlite::SqliteStore;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or refused the statement.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations could not be applied.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value did not decode (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the database could not write (full disk or size cap, read-only, I/O error,
    /// locked): a condition of the store, not of the request, that passes.
    pub fn cannot_write(&self) -> bool {
        // SQLITE_BUSY 5, SQLITE_LOCKED 6, SQLITE_READONLY 8, SQLITE_IOERR 10, SQLITE_FULL 13.
        self.sqlite_code()
            .is_some_and(|c| matches!(c, 5 | 6 | 8 | 10 | 13))
    }

    /// Whether the database file could not be opened or created (SQLITE_CANTOPEN: a missing
    /// or read-only directory, or no room for the `-wal` and `-shm` files beside it).
    pub fn cannot_open(&self) -> bool {
        self.sqlite_code() == Some(14)
    }

    /// SQLite's primary result code: the low byte of its extended code.
    fn sqlite_code(&self) -> Option<i32> {
        let StoreError::Database(sqlx::Error::Database(e)) = self else {
            return None;
        };
        e.code()
            .and_then(|c| c.parse::<i32>().ok())
            .map(|c| c & 0xff)
    }

    /// Whether a unique index refused the write (an agent's username already taken).
    pub fn is_duplicate(&self) -> bool {
        matches!(self, StoreError::Database(sqlx::Error::Database(e)) if e.is_unique_violation())
    }
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page request: `page_size` items after the opaque `page_token`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Items wanted (1..=100).
    pub size: u32,
    /// The `next_page_token` of the previous page.
    pub token: Option<String>,
    /// The page ends early, with a `next_page_token`, once its items pass this many bytes (as
    /// stored); it always holds at least one item.
    pub max_bytes: usize,
}

/// One page of a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Listed<T> {
    /// The items, newest first.
    pub result: Vec<T>,
    /// Pass as `page_token` for the next page; empty on the last page.
    pub next_page_token: String,
}

/// The kinds of configuration document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// `/outplans`.
    Outplan,
    /// `/outdials`.
    Outdial,
    /// `/campaigns`.
    Campaign,
    /// `/flows`.
    Flow,
    /// `/agents`.
    Agent,
    /// `/queues`.
    Queue,
    /// `/dnclists`.
    Dnclist,
    /// `/webhooks`.
    Webhook,
}

impl DocKind {
    /// Name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Outplan => "outplan",
            DocKind::Outdial => "outdial",
            DocKind::Campaign => "campaign",
            DocKind::Flow => "flow",
            DocKind::Agent => "agent",
            DocKind::Queue => "queue",
            DocKind::Dnclist => "dnclist",
            DocKind::Webhook => "webhook",
        }
    }
}

/// A configuration resource stored as a document.
pub trait Document: Serialize + DeserializeOwned + Send + Sync {
    /// Its kind.
    const KIND: DocKind;
    /// Its id.
    fn id(&self) -> Uuid;
    /// Its tenant.
    fn customer_id(&self) -> Uuid;
    /// The status column (campaigns), empty for others.
    fn status(&self) -> &str {
        ""
    }
    /// Whether it is deleted.
    fn deleted(&self) -> bool;
}

/// Implements [`Document`] for a resource with `id`, `customer_id` and `tm_delete` fields
/// (and, with `status`, a status column).
macro_rules! document {
    ($ty:ty, $kind:expr $(, status = |$d:ident| $status:expr)?) => {
        impl Document for $ty {
            const KIND: DocKind = $kind;
            fn id(&self) -> Uuid {
                self.id
            }
            fn customer_id(&self) -> Uuid {
                self.customer_id
            }
            $(fn status(&self) -> &str {
                let $d = self;
                $status
            })?
            fn deleted(&self) -> bool {
                self.tm_delete != crate::domain::time::NEVER
            }
        }
    };
}

document!(Outplan, DocKind::Outplan);
document!(Outdial, DocKind::Outdial);
document!(Flow, DocKind::Flow);
document!(Campaign, DocKind::Campaign, status = |c| c.status.as_str());
document!(Agent, DocKind::Agent, status = |a| a.status.as_str());
document!(Queue, DocKind::Queue);
document!(Dnclist, DocKind::Dnclist);
document!(Webhook, DocKind::Webhook, status = |w| w.status.as_str());

/// The actions a campaign runs on each answered call: its own `actions` when it has some,
/// else those of its flow (`flow_id`), else none (a flow deleted since counts as none).
pub async fn resolve_actions(store: &dyn Store, campaign: &Campaign) -> StoreResult<Vec<Action>> {
    if !campaign.actions.is_empty() || campaign.flow_id.is_nil() {
        return Ok(campaign.actions.clone());
    }
    let flow = Docs(store)
        .get::<Flow>(Some(campaign.customer_id), campaign.flow_id)
        .await?;
    Ok(flow.map(|f| f.actions).unwrap_or_default())
}

/// A target to insert (already normalised and validated).
#[derive(Debug, Clone)]
pub struct NewTarget {
    /// The target as it will be stored.
    pub target: Target,
    /// The key duplicates are detected by within the outdial (the first destination).
    pub dedupe: String,
}

/// What an insert of targets did.
#[derive(Debug, Clone, Default)]
pub struct InsertReport {
    /// The targets created.
    pub created: Vec<Target>,
    /// The dedupe keys that were already in the outdial (or twice in the request).
    pub duplicates: Vec<String>,
}

/// A place in the order targets are dialed: a target's `next_at` and then its position among
/// the outdial's targets. A dialer reading due targets in batches carries on from the last
/// one instead of reading again the ones it already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DueCursor {
    /// The target's `next_at` (unix ms).
    pub next_at: i64,
    /// Its position (insertion order).
    pub seq: i64,
}

/// Counts of an outdial's targets by where they stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TargetCounts {
    /// Waiting for a first try or a retry.
    pub queued: u64,
    /// A try in flight.
    pub dialing: u64,
    /// Done, reached.
    pub succeeded: u64,
    /// Done, not reached after every try.
    pub failed: u64,
    /// Of the queued ones, how many are due now.
    pub due: u64,
}

/// An outdial's waiting targets by why they wait, for `/eligibility`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitingTargets {
    /// Waiting for their call window's next opening (`next_at` in the future).
    pub window: u64,
    /// Waiting for a retry interval (or a retry's local time) to pass.
    pub retry: u64,
    /// Due now, counted by their zones (IANA names joined by `,`; empty: none derived).
    pub due_by_zones: Vec<(String, u64)>,
}

/// What happens to a target once an attempt ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetNext {
    /// Tried again no earlier than this (unix ms).
    RetryAt(i64),
    /// No further try: `success` or `fail`.
    Done(&'static str),
    /// The attempt never reached the callee because the trunk failed it (no response,
    /// transport error, 503): it does not count as a try of `slot`, and the target is tried
    /// again no earlier than `at` (unix ms).
    Requeue {
        /// Unix ms.
        at: i64,
        /// The slot whose try is given back.
        slot: usize,
    },
}

/// The end of an attempt, as recorded.
#[derive(Debug, Clone)]
pub struct AttemptEnd {
    /// The campaigncall.
    pub campaigncall_id: Uuid,
    /// Its campaign (the campaigncall's `campaign_id`).
    pub campaign_id: Uuid,
    /// Its target.
    pub target_id: Uuid,
    /// The target's outdial.
    pub outdial_id: Uuid,
    /// What became of it.
    pub disposition: Disposition,
    /// Final SIP status.
    pub sip_code: Option<u16>,
    /// Reason.
    pub reason: String,
    /// Who hung up.
    pub hangup_by: Option<HangupBy>,
    /// INVITE → final response.
    pub setup_ms: u64,
    /// Answer → hang-up.
    pub talk_ms: u64,
    /// What becomes of the target.
    pub next: TargetNext,
    /// When (a `tm_*` string).
    pub at: String,
    /// What the flow did (`FlowOutcome::to_value`), `None` when no flow ran.
    pub flow_result: Option<serde_json::Value>,
    /// What a queue did with the call, when it joined one.
    pub served: Option<Served>,
}

/// What a queue did with an attempt's call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Served {
    /// The queue it joined (`None`: it was connected to an agent directly).
    pub queue_id: Option<Uuid>,
    /// The agent who took it (`None`: it was abandoned).
    pub agent_id: Option<Uuid>,
    /// Answer → agent connected.
    pub wait_ms: Option<u64>,
}

impl AttemptEnd {
    /// An end of `call` known only by its disposition and reason, recorded now: no SIP
    /// status, no timings, no flow (an attempt closed at recovery, for example).
    pub fn closed(
        call: &Campaigncall,
        disposition: Disposition,
        reason: impl Into<String>,
        next: TargetNext,
    ) -> AttemptEnd {
        AttemptEnd {
            campaigncall_id: call.id,
            campaign_id: call.campaign_id,
            target_id: call.outdial_target_id,
            outdial_id: call.outdial_id,
            disposition,
            sip_code: None,
            reason: reason.into(),
            hangup_by: None,
            setup_ms: 0,
            talk_ms: 0,
            next,
            at: crate::domain::time::now_string(),
            flow_result: None,
            served: None,
        }
    }
}

/// A call a queue has bridged to an agent, recorded while the bridge lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueBridge {
    /// The attempt's campaigncall.
    pub campaigncall_id: Uuid,
    /// The queue (`None`: a `connect` straight to the agent).
    pub queue_id: Option<Uuid>,
    /// The agent who took the call.
    pub agent_id: Uuid,
    /// How long the call waited in the queue for the agent.
    pub wait_ms: u64,
    /// The agent leg's dialog (`DialogRecord` as JSON), to hang it up after a restart.
    pub agent_dialog: Option<String>,
}

/// An attempt a previous process left open.
#[derive(Debug, Clone)]
pub struct OpenAttempt {
    /// The campaigncall (`dialing`, or `progressing` once answered).
    pub call: Campaigncall,
    /// The dialog stored with its answer (`DialogRecord` as JSON), if it was answered.
    pub dialog: Option<String>,
}

/// One write of the dialer's hot path.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// An attempt starts: the campaigncall is created (`dialing`) and the target's try count
    /// of that slot goes up, before the INVITE is sent.
    ///
    /// When the number dialed is on one of `dnc_lists` (and the entry has not expired), the
    /// attempt is not begun: in the same transaction the target is closed `fail` with no try
    /// used and the campaigncall is recorded `done` with disposition `dnc`, and the write
    /// reports that it did not take effect (the call is not placed).
    Begin {
        /// The campaigncall as created (its `try_count` is the slot's count after this try).
        call: Box<Campaigncall>,
        /// The slot dialed.
        slot: usize,
        /// The do-not-call lists that apply (the customer's default list among them).
        dnc_lists: Arc<[Uuid]>,
    },
    /// The attempt was answered (`progressing`).
    Answered {
        /// The campaigncall.
        campaigncall_id: Uuid,
        /// What it takes to end the dialog after a restart (`DialogRecord` as JSON), kept
        /// until the attempt ends.
        dialog: Option<String>,
        /// When.
        at: String,
    },
    /// The attempt is over.
    End(Box<AttemptEnd>),
    /// The callee asked not to be called again: the number goes on the customer's default
    /// do-not-call list (made if missing), source `opt_out`, never expiring.
    OptOut {
        /// The tenant.
        customer_id: Uuid,
        /// The callee's number.
        number: E164,
        /// When.
        at: String,
    },
    /// A waiting target has no try left (its outplan was changed to allow fewer): it is done,
    /// `fail`, without a call.
    Exhausted {
        /// The target.
        target_id: Uuid,
        /// Its outdial.
        outdial_id: Uuid,
        /// When.
        at: String,
    },
    /// A waiting target's call window is closed: it waits until `until_ms` (unix ms, the
    /// window's next opening), with no try used, marked as waiting for its window.
    Defer {
        /// The target.
        target_id: Uuid,
        /// Unix ms.
        until_ms: i64,
        /// When.
        at: String,
    },
    /// A change that is not stored otherwise (an agent's, a queue's or a trunk's state), for
    /// the event stream. (Campaigncall events are recorded by the writes above themselves.)
    Event(Box<NewEvent>),
}

impl WriteOp {
    /// The campaigncall this write ends, if it is an `End`.
    pub fn ended_call(&self) -> Option<Uuid> {
        match self {
            WriteOp::End(end) => Some(end.campaigncall_id),
            _ => None,
        }
    }

    /// The disposition this write ends a campaigncall with, if it is an `End`.
    pub fn ended_with(&self) -> Option<Disposition> {
        match self {
            WriteOp::End(end) => Some(end.disposition),
            _ => None,
        }
    }
}

/// Which campaigncalls a list wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallFilter {
    /// Of this campaign only.
    pub campaign: Option<Uuid>,
    /// Only those whose flow collected exactly these digits (`flow_result.digits`).
    pub digits: Option<String>,
    /// Only those that ended with this disposition.
    pub disposition: Option<Disposition>,
    /// Only those an agent of this id took from a queue.
    pub agent: Option<Uuid>,
}

/// Which events a reader wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Of these types only (empty: every type).
    pub types: Vec<EventType>,
    /// About this resource only.
    pub resource_id: Option<String>,
}

/// Per-campaign figures from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Attempts made.
    pub attempts: u64,
    /// Ended attempts by disposition.
    pub dispositions: BTreeMap<String, u64>,
    /// Targets done with `success` that one of the campaign's own attempts reached.
    pub succeeded_targets: u64,
    /// Targets done with `fail` that the campaign tried.
    pub failed_targets: u64,
}

pub use crate::domain::queue::QueueCounts;

/// What a campaign's stored attempts say of its pacing: read back when it starts, so that
/// its abandon rate over the rolling window and its measured times survive restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacingHistory {
    /// Per minute (unix ms of its start), answered calls and how many were abandoned: no
    /// agent within the safe harbour (`abandoned`, or connected later than it). Answering
    /// machines are not counted.
    pub minutes: Vec<(i64, u32, u32)>,
    /// The most recent attempts that reached the trunk, oldest first.
    pub attempts: Vec<PastAttempt>,
}

/// One past attempt as pacing measures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PastAttempt {
    /// Whether it was answered.
    pub answered: bool,
    /// Dial to answer (or to its end, unanswered), ms.
    pub setup_ms: u64,
    /// Connect to an agent to hang-up, ms, when an agent took it.
    pub agent_talk_ms: Option<u64>,
}

/// What an agent has done, counted as its calls end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentCounts {
    /// Calls handled: attempts that ended with the agent who took them.
    pub handled: u64,
    /// The time talked on them: each one's answer to hang-up, less its wait for the agent, ms.
    pub talk_ms: u64,
}

/// The dialer's hot-path writes: what the group-commit [`writer`] needs of a store.
#[async_trait]
pub trait Commits: Send + Sync + 'static {
    /// Applies a batch of hot-path writes in one transaction. Returns, per write, whether it
    /// took effect: a `Begin` whose target is no longer `idle` with the try count the dialer
    /// saw is refused (the guard that no target is ever dialed twice at once, even by two
    /// nodes sharing the database); other writes always take effect.
    async fn apply(&self, ops: &[WriteOp]) -> StoreResult<Vec<bool>>;
    /// Closes the connection [`apply`](Self::apply) writes on, which rolls back whatever a
    /// failed commit left open and releases its locks, and opens a new one.
    async fn reopen_writes(&self) -> StoreResult<()>;
    /// Commits a write that needs new pages (and drops what it wrote): it fails while the
    /// database has no room to grow, after a commit failed for a full disk or the size cap.
    async fn probe_write(&self) -> StoreResult<()>;
}

/// Durable state.
#[async_trait]
pub trait Store: Commits {
    /// Inserts or replaces a document.
    async fn put_doc(
        &self,
        kind: DocKind,
        id: Uuid,
        customer: Uuid,
        status: &str,
        deleted: bool,
        body: String,
    ) -> StoreResult<()>;
    /// A live document of the customer (any customer when `customer` is `None`).
    async fn get_doc(
        &self,
        kind: DocKind,
        customer: Option<Uuid>,
        id: Uuid,
    ) -> StoreResult<Option<String>>;
    /// Live documents of a customer, newest first.
    async fn list_docs(
        &self,
        kind: DocKind,
        customer: Uuid,
        page: &Page,
    ) -> StoreResult<Listed<String>>;
    /// Live documents of any customer with the given status.
    async fn docs_with_status(&self, kind: DocKind, status: &str) -> StoreResult<Vec<String>>;
    /// The live agent (of any customer) whose username is `username`.
    async fn agent_by_username(&self, username: &str) -> StoreResult<Option<String>>;

    /// Inserts targets, skipping duplicates of the outdial.
    async fn insert_targets(&self, targets: Vec<NewTarget>) -> StoreResult<InsertReport>;
    /// One live target of an outdial.
    async fn get_target(&self, outdial: Uuid, id: Uuid) -> StoreResult<Option<Target>>;
    /// Live targets of an outdial, newest first, if `customer` owns the outdial and it is not
    /// deleted; an empty page otherwise (an empty page does not tell which).
    async fn list_targets(
        &self,
        customer: Uuid,
        outdial: Uuid,
        page: &Page,
    ) -> StoreResult<Listed<Target>>;
    /// Marks a target deleted; returns it.
    async fn delete_target(&self, outdial: Uuid, id: Uuid, at: &str)
        -> StoreResult<Option<Target>>;
    /// Idle targets due at `now_ms` in the order they are dialed (`next_at`, then the order
    /// they were added), at most `limit`, starting after `after` (from the first with `None`).
    /// Also returns where the read stopped, to carry on from there next time.
    async fn due_targets(
        &self,
        outdial: Uuid,
        now_ms: i64,
        after: Option<DueCursor>,
        limit: u32,
    ) -> StoreResult<(Vec<Target>, Option<DueCursor>)>;
    /// The outdial's targets by where they stand.
    async fn count_targets(&self, outdial: Uuid, now_ms: i64) -> StoreResult<TargetCounts>;
    /// The outdial's targets by where they stand, from counters kept as they change (a few
    /// rows, however many targets); `due` is not counted (0).
    async fn counted_targets(&self, outdial: Uuid) -> StoreResult<TargetCounts>;
    /// The outdial's waiting targets by why they wait at `now_ms`.
    async fn waiting_targets(&self, outdial: Uuid, now_ms: i64) -> StoreResult<WaitingTargets>;
    /// Puts every done target of the outdial back to idle, due now, with no try counted and
    /// no result; returns how many. The caller makes sure no campaign dials the outdial.
    async fn reset_targets(&self, outdial: Uuid, at: &str) -> StoreResult<u64>;

    /// Attempts not `done`, with their stored dialogs (for recovery after a crash).
    async fn open_attempts(&self) -> StoreResult<Vec<OpenAttempt>>;
    /// One campaigncall of the customer.
    async fn get_campaigncall(&self, customer: Uuid, id: Uuid)
        -> StoreResult<Option<Campaigncall>>;
    /// Campaigncalls of a customer that pass `filter`, newest first.
    async fn list_campaigncalls(
        &self,
        customer: Uuid,
        filter: &CallFilter,
        page: &Page,
    ) -> StoreResult<Listed<Campaigncall>>;
    /// Attempts and dispositions of a campaign, from counters kept as the attempts are
    /// written (a few rows, however many attempts).
    async fn call_counts(&self, campaign: Uuid) -> StoreResult<CallCounts>;
    /// A campaign's answered and abandoned calls per minute since `since` (a `tm_*` time),
    /// counting a call connected more than `harbour_ms` after its answer abandoned, and its
    /// last `attempts` attempts.
    async fn pacing_history(
        &self,
        campaign: Uuid,
        since: &str,
        harbour_ms: u64,
        attempts: u32,
    ) -> StoreResult<PacingHistory>;

    /// Puts numbers on a list of `customer` (a number already there takes the new source and
    /// expiry); returns how many. Once this returns, no attempt begun later dials them.
    async fn put_dnc_numbers(&self, customer: Uuid, numbers: &[DncNumber]) -> StoreResult<u64>;
    /// A list's numbers in number order, after the page token (the last number of the
    /// previous page); only `number` when given.
    async fn list_dnc_numbers(
        &self,
        list: Uuid,
        number: Option<&E164>,
        page: &Page,
    ) -> StoreResult<Listed<DncNumber>>;
    /// Takes a number off a list; whether it was there.
    async fn delete_dnc_number(&self, list: Uuid, number: &E164) -> StoreResult<bool>;
    /// Takes every number off a list (the list is being deleted); returns how many.
    async fn clear_dnc_list(&self, list: Uuid) -> StoreResult<u64>;

    /// Adds `delta` to a queue's counters, in one statement.
    async fn add_queue_counts(&self, queue: Uuid, delta: QueueCounts) -> StoreResult<()>;
    /// A queue's counters (zero for a queue that has counted nothing).
    async fn queue_counts(&self, queue: Uuid) -> StoreResult<QueueCounts>;
    /// The counts of each of `agents` that has handled a call (an agent that has handled none
    /// is left out).
    async fn agents_handled(&self, agents: &[Uuid]) -> StoreResult<HashMap<Uuid, AgentCounts>>;
    /// Records a bridge to an agent (replacing any of the same campaigncall).
    async fn put_queue_bridge(&self, bridge: &QueueBridge) -> StoreResult<()>;
    /// The bridge of a campaigncall is over.
    async fn delete_queue_bridge(&self, campaigncall: Uuid) -> StoreResult<()>;
    /// Every bridge recorded and not ended (after a restart: those the last run left), and
    /// forgets them.
    async fn take_queue_bridges(&self) -> StoreResult<Vec<QueueBridge>>;

    /// Inserts a recording, or stores its new state (status, reason, length, end,
    /// deletion) over the row of the same id.
    async fn put_recording(&self, recording: &Recording) -> StoreResult<()>;
    /// A live recording of the customer (any customer when `customer` is `None`).
    async fn get_recording(
        &self,
        customer: Option<Uuid>,
        id: Uuid,
    ) -> StoreResult<Option<Recording>>;
    /// Live recordings of a customer that pass `filter`, newest first.
    async fn list_recordings(
        &self,
        customer: Uuid,
        filter: &RecordingFilter,
        page: &Page,
    ) -> StoreResult<Listed<Recording>>;

    /// The id of the last event committed; it changes once each later event is committed.
    fn event_notices(&self) -> tokio::sync::watch::Receiver<i64>;
    /// Events of `customer` (and the node's own, of the nil customer) after event `after` that
    /// pass `filter`, oldest first, at most `limit`.
    async fn events_after(
        &self,
        customer: Uuid,
        after: i64,
        filter: &EventFilter,
        limit: u32,
    ) -> StoreResult<Vec<Event>>;
    /// The id of the oldest event kept, if any.
    async fn first_event_id(&self) -> StoreResult<Option<i64>>;
    /// Deletes the events recorded before `before` (a `tm_*` string) or older than the newest
    /// `keep_rows` (but none an active webhook has yet to queue), and the finished deliveries
    /// last tried before `before`; returns how many events went.
    async fn prune_events(&self, before: &str, keep_rows: u64) -> StoreResult<u64>;
    /// Queues into `webhook`'s outbox the events it wants after its cursor, looking at most at
    /// `limit` events, and moves the cursor past them; returns how many it queued.
    async fn queue_deliveries(
        &self,
        webhook: &Webhook,
        limit: u32,
        now_ms: i64,
    ) -> StoreResult<u64>;
    /// Pending deliveries due at `now_ms`, the longest due first, at most `limit`.
    async fn due_deliveries(&self, now_ms: i64, limit: u32) -> StoreResult<Vec<Delivery>>;
    /// Stores where a delivery stands after an attempt.
    async fn record_attempt(&self, delivery: &Delivery) -> StoreResult<()>;
    /// A webhook's deliveries, newest first.
    async fn list_deliveries(&self, webhook: Uuid, page: &Page) -> StoreResult<Listed<Delivery>>;
}

/// Typed access to documents over any [`Store`].
pub struct Docs<'a>(pub &'a dyn Store);

impl Docs<'_> {
    /// Stores a document.
    pub async fn put<D: Document>(&self, doc: &D) -> StoreResult<()> {
        let body = serde_json::to_string(doc).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.0
            .put_doc(
                D::KIND,
                doc.id(),
                doc.customer_id(),
                doc.status(),
                doc.deleted(),
                body,
            )
            .await
    }

    /// A live document of the customer (`None`: of any customer).
    pub async fn get<D: Document>(
        &self,
        customer: Option<Uuid>,
        id: Uuid,
    ) -> StoreResult<Option<D>> {
        match self.0.get_doc(D::KIND, customer, id).await? {
            Some(body) => decode(&body).map(Some),
            None => Ok(None),
        }
    }

    /// A page of a customer's documents.
    pub async fn list<D: Document>(&self, customer: Uuid, page: &Page) -> StoreResult<Listed<D>> {
        let listed = self.0.list_docs(D::KIND, customer, page).await?;
        Ok(Listed {
            result: listed
                .result
                .iter()
                .map(|b| decode(b))
                .collect::<Result<_, _>>()?,
            next_page_token: listed.next_page_token,
        })
    }

    /// The live agent, of any customer, a softphone registering as `username` is.
    pub async fn agent_by_username(&self, username: &str) -> StoreResult<Option<Agent>> {
        match self.0.agent_by_username(username).await? {
            Some(body) => decode(&body).map(Some),
            None => Ok(None),
        }
    }

    /// Every live document with a status.
    pub async fn with_status<D: Document>(&self, status: &str) -> StoreResult<Vec<D>> {
        let bodies = self.0.docs_with_status(D::KIND, status).await?;
        bodies.iter().map(|b| decode(b)).collect()
    }
}

fn decode<D: DeserializeOwned>(body: &str) -> StoreResult<D> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Where a target stands after an attempt ends; shared by backends.
pub fn target_status_after(next: TargetNext) -> (TargetStatus, &'static str, i64) {
    match next {
        TargetNext::RetryAt(at) | TargetNext::Requeue { at, .. } => (TargetStatus::Idle, "", at),
        TargetNext::Done(result) => (TargetStatus::Done, result, 0),
    }
}

/// The slot whose try an attempt's end gives back, if any (see [`TargetNext::Requeue`]).
pub fn try_given_back(next: TargetNext) -> Option<usize> {
    match next {
        TargetNext::Requeue { slot, .. } => Some(slot),
        _ => None,
    }
}
