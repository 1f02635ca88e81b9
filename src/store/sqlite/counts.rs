//! The counters a campaign's figures are read from (`outdial_counts`, `campaign_counts`,
//! `campaign_dispositions`), kept in the transaction of each write that changes what they
//! count, so that a read of the figures costs a few rows however many targets and attempts
//! there are. The figures are the ones the rows would count to
//! ([`super::SqliteStore::count_from_rows`]).
//!
//! A batch of the dialer's writes adds to each counter once, from what its writes say
//! ([`BatchCounts`]): a begin names its campaign and outdial; an end names its campaign, its
//! target's outdial and whether it reached the callee, and the target of an attempt in
//! progress is `progressing` (a target is claimed only from `idle`, and only its attempt's end
//! moves it on); an exhausted target is `idle`. The statements that apply those writes check
//! what the counters take from them (the attempt not ended yet, of that campaign; the target
//! live, of that outdial, where its attempt left it): when one changes fewer rows than it was
//! given, the batch is rolled back and applied again with the rows its writes touch read
//! first, and the writes that did not find their rows as they said are counted from the rows,
//! as a statement just before each change reads them (see [`super::apply::apply`]).
//!
//! One thing an end does not know is which other campaigns that dialed the same outdial a
//! target entering `done` counts for (a target counts for each campaign that tried it): the
//! batch reads which campaigns have attempts on its outdials (a few rows), and only for the
//! targets of an outdial that another campaign dialed does it look up that campaign's calls.

use super::apply::{Bulk, Cell, Rows};
use crate::domain::{Campaigncall, Disposition, TargetStatus};
use crate::fast::{FastMap, FastSet};
use crate::store::{CallCounts, StoreError, StoreResult, TargetCounts};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

/// Adds to an outdial's counts of targets.
static ADD_TARGETS: Bulk = Bulk::new(
    "outdial_id, queued, dialing, succeeded, failed",
    "INSERT OR FAIL INTO outdial_counts (outdial_id, queued, dialing, succeeded, failed)
     SELECT * FROM v WHERE v.outdial_id IS NOT NULL
     ON CONFLICT (outdial_id) DO UPDATE SET queued = queued + excluded.queued,
       dialing = dialing + excluded.dialing, succeeded = succeeded + excluded.succeeded,
       failed = failed + excluded.failed",
);

/// Adds to campaigns' attempts on an outdial and to the targets of it they finished.
static ADD_CAMPAIGNS: Bulk = Bulk::new(
    "campaign_id, outdial_id, calls, succeeded, failed",
    "INSERT OR FAIL INTO campaign_counts (campaign_id, outdial_id, calls, succeeded, failed)
     SELECT * FROM v WHERE v.campaign_id IS NOT NULL
     ON CONFLICT (campaign_id, outdial_id) DO UPDATE SET calls = calls + excluded.calls,
       succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed",
);

/// Adds to campaigns' ended attempts by disposition.
static ADD_DISPOSITIONS: Bulk = Bulk::new(
    "campaign_id, disposition, n",
    "INSERT OR FAIL INTO campaign_dispositions (campaign_id, disposition, n)
     SELECT * FROM v WHERE v.campaign_id IS NOT NULL
     ON CONFLICT (campaign_id, disposition) DO UPDATE SET n = n + excluded.n",
);

/// The campaigns that have attempts on each outdial (one row each in `campaign_counts`,
/// made by their first begin there).
static CAMPAIGNS_OF: Bulk = Bulk::new(
    "outdial",
    "SELECT k.outdial_id, k.campaign_id FROM v JOIN campaign_counts k ON k.outdial_id = v.outdial
     WHERE v.outdial IS NOT NULL",
);

/// Targets entering `done` with `result` (live, of `outdial`, not done before: checked by the
/// statement that moves them), as each campaign that dialed their outdial other than
/// `counted` (whose share is already counted; NULL: none is) sees them: a target done counts
/// for a campaign (succeeded with result `success`, failed otherwise) when one of the
/// campaign's attempts on it reached it, or, with result `fail`, when it made one. It runs
/// after the batch's ends are written, so it reads the calls' results after them.
static REACH: Bulk = Bulk::new(
    "id, outdial, result, counted",
    "INSERT OR FAIL INTO campaign_counts (campaign_id, outdial_id, succeeded, failed)
     SELECT k.campaign_id, k.outdial_id,
       SUM(CASE WHEN v.result = 'success' THEN EXISTS (SELECT 1 FROM campaigncalls c
              INDEXED BY campaigncalls_by_campaign_target
              WHERE c.campaign_id = k.campaign_id AND c.outdial_target_id = v.id
                AND c.result = 'success') ELSE 0 END),
       SUM(CASE WHEN v.result <> 'success' THEN EXISTS (SELECT 1 FROM campaigncalls c
              INDEXED BY campaigncalls_by_campaign_target
              WHERE c.campaign_id = k.campaign_id AND c.outdial_target_id = v.id
                AND (v.result = 'fail' OR c.result = 'success')) ELSE 0 END)
     FROM v JOIN campaign_counts k ON k.outdial_id = v.outdial
     WHERE v.id IS NOT NULL AND k.campaign_id IS NOT v.counted
     GROUP BY k.campaign_id, k.outdial_id
     ON CONFLICT (campaign_id, outdial_id) DO UPDATE SET
       succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed",
);

/// The rows of a move of targets: each target `id` goes to `status` with `result` (status
/// `deleted`: it leaves every count), if it is live, of `outdial` (NULL: any) and now in
/// `from_status` (NULL: any), as the statement that moves it will decide.
const MOVES: &str = "id, status, result, from_status, outdial";

/// Moves of targets, as the outdial's counts see them (read from the targets' rows: for the
/// moves whose writes do not tell where the target stands).
static MOVE_TARGETS: Bulk = Bulk::new(
    MOVES,
    "INSERT OR FAIL INTO outdial_counts (outdial_id, queued, dialing, succeeded, failed)
     SELECT t.outdial_id,
       SUM((v.status = 'idle') - (t.status = 'idle')),
       SUM((v.status = 'progressing') - (t.status = 'progressing')),
       SUM((v.status = 'done' AND v.result = 'success') - (t.status = 'done' AND t.result = 'success')),
       SUM((v.status = 'done' AND v.result <> 'success') - (t.status = 'done' AND t.result <> 'success'))
     FROM v JOIN targets t ON t.id = v.id
     WHERE v.id IS NOT NULL AND t.deleted = 0
       AND (v.from_status IS NULL OR t.status = v.from_status)
       AND (v.outdial IS NULL OR t.outdial_id = v.outdial)
     GROUP BY t.outdial_id
     ON CONFLICT (outdial_id) DO UPDATE SET queued = queued + excluded.queued,
       dialing = dialing + excluded.dialing, succeeded = succeeded + excluded.succeeded,
       failed = failed + excluded.failed",
);

/// Moves of targets, as each campaign that dialed their outdial sees them: a target done and
/// live counts for a campaign (succeeded with result `success`, failed otherwise) when one of
/// the campaign's attempts on it reached it, or, with result `fail`, when it made one. Only
/// targets entering or leaving `done` (or changing result there) are looked at, and only the
/// side of a move that can count is looked up (`CASE`: SQLite evaluates both operands of an
/// `AND`, so `x AND EXISTS (…)` would probe the index even when `x` is false). It runs after
/// the batch's ends are written, so both sides read the calls' results after the ends. The
/// side a target leaves reads them right too: an end is written only for an attempt not ended
/// yet (the first end recorded of an attempt is its end: see `apply::apply`), whose target
/// was in progress, not done, so that side counts nothing.
static MOVE_CAMPAIGN_TARGETS: Bulk = Bulk::new(
    MOVES,
    "INSERT OR FAIL INTO campaign_counts (campaign_id, outdial_id, succeeded, failed)
     SELECT k.campaign_id, k.outdial_id,
       SUM(CASE WHEN m.new_r IS 'success' THEN EXISTS (SELECT 1 FROM campaigncalls c
              INDEXED BY campaigncalls_by_campaign_target
              WHERE c.campaign_id = k.campaign_id AND c.outdial_target_id = m.id
                AND c.result = 'success') ELSE 0 END
         - CASE WHEN m.old_r IS 'success' THEN EXISTS (SELECT 1 FROM campaigncalls c
              INDEXED BY campaigncalls_by_campaign_target
              WHERE c.campaign_id = k.campaign_id AND c.outdial_target_id = m.id
                AND c.result = 'success') ELSE 0 END),
       SUM(CASE WHEN m.new_r IS NOT NULL AND m.new_r IS NOT 'success' THEN EXISTS (
              SELECT 1 FROM campaigncalls c INDEXED BY campaigncalls_by_campaign_target
              WHERE c.campaign_id = k.campaign_id AND c.outdial_target_id = m.id
                AND (m.new_r = 'fail' OR c.result = 'success')) ELSE 0 END
         - CASE WHEN m.old_r IS NOT NULL AND m.old_r IS NOT 'success' THEN EXISTS (
              SELECT 1 FROM campaigncalls c INDEXED BY campaigncalls_by_campaign_target
              WHERE c.campaign_id = k.campaign_id AND c.outdial_target_id = m.id
                AND (m.old_r = 'fail' OR c.result = 'success')) ELSE 0 END)
     FROM (SELECT t.id AS id, t.outdial_id AS outdial_id,
             CASE WHEN t.status = 'done' THEN t.result END AS old_r,
             CASE WHEN v.status = 'done' THEN v.result END AS new_r
           FROM v JOIN targets t ON t.id = v.id
           WHERE v.id IS NOT NULL AND t.deleted = 0
             AND (v.from_status IS NULL OR t.status = v.from_status)
             AND (v.outdial IS NULL OR t.outdial_id = v.outdial)) AS m
     JOIN campaign_counts k ON k.outdial_id = m.outdial_id
     WHERE m.old_r IS NOT m.new_r
     GROUP BY k.campaign_id, k.outdial_id
     ON CONFLICT (campaign_id, outdial_id) DO UPDATE SET
       succeeded = succeeded + excluded.succeeded, failed = failed + excluded.failed",
);

/// Ends of attempts, as their campaign's dispositions see them, the campaign read from each
/// attempt's row (for the ends that do not find their attempt as they say): each disposition
/// counts one more. Every end that reaches the store ends an attempt not ended yet, which has
/// no disposition (the first end recorded of an attempt is its end: see `apply::apply`); each
/// attempt's row is looked up once (`CROSS JOIN` keeps that order) for its campaign.
static END_DISPOSITIONS: Bulk = Bulk::new(
    "id, disposition",
    "INSERT OR FAIL INTO campaign_dispositions (campaign_id, disposition, n)
     SELECT c.campaign_id, v.disposition, COUNT(*)
     FROM v CROSS JOIN campaigncalls c
     WHERE v.id IS NOT NULL AND c.id = v.id
     GROUP BY c.campaign_id, v.disposition
     ON CONFLICT (campaign_id, disposition) DO UPDATE SET n = n + excluded.n",
);

/// Where a live target stands, as an outdial's counts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Standing {
    /// `idle`.
    Queued,
    /// `progressing`.
    Dialing,
    /// `done`, result `success`.
    Succeeded,
    /// `done`, any other result.
    Failed,
}

impl Standing {
    /// Of a target with `status` and `result`.
    pub(super) fn of(status: TargetStatus, result: &str) -> Standing {
        match status {
            TargetStatus::Idle => Standing::Queued,
            TargetStatus::Progressing => Standing::Dialing,
            TargetStatus::Done if result == "success" => Standing::Succeeded,
            TargetStatus::Done => Standing::Failed,
        }
    }
}

/// A move of a live target whose writes tell where it stands before (checked by the statement
/// that moves it).
#[derive(Debug, Clone, Copy)]
pub(super) struct KnownMove {
    /// The target.
    pub target: Uuid,
    /// Its outdial.
    pub outdial: Uuid,
    /// Where it stands before the move (not done).
    pub from: Standing,
    /// Where it goes.
    pub status: TargetStatus,
    /// With this result.
    pub result: &'static str,
    /// The attempt whose end moves it, if one does: its campaign, and whether its call's
    /// result is `success` (it reached the callee).
    pub by: Option<(Uuid, bool)>,
}

/// A target entering `done`, for the campaigns that dialed its outdial.
struct EnteringDone {
    target: Uuid,
    outdial: Uuid,
    result: &'static str,
    /// The campaign whose share is counted already.
    counted: Option<Uuid>,
}

/// What one batch of the dialer's writes adds to the counters: summed in memory from what the
/// writes say and written once per counter at the end of the batch ([`Self::write`]), except
/// for the few rows that are read (see the module's docs).
pub(super) struct BatchCounts {
    /// By outdial: queued, dialing, succeeded, failed.
    targets: FastMap<Uuid, [i64; 4]>,
    /// By campaign and outdial: calls, succeeded, failed.
    campaigns: FastMap<(Uuid, Uuid), [i64; 3]>,
    /// By campaign and disposition.
    dispositions: FastMap<(Uuid, Disposition), i64>,
    entering_done: Vec<EnteringDone>,
    /// The writes that do not find their rows as they say: counted from the rows.
    exhausted: Moves,
    ended: Rows<'static>,
    moved: Moves,
    /// How many of the batch's writes are counted from rows read (see [`Self::read`]).
    read: usize,
}

impl BatchCounts {
    pub(super) fn new() -> BatchCounts {
        BatchCounts {
            targets: FastMap::default(),
            campaigns: FastMap::default(),
            dispositions: FastMap::default(),
            entering_done: Vec::new(),
            exhausted: Moves::new(),
            ended: Rows::new(&END_DISPOSITIONS),
            moved: Moves::new(),
            read: 0,
        }
    }

    /// How many of the batch's writes are counted, in part or whole, from rows read for
    /// them: those that do not find their rows as they say, and the targets entering `done`
    /// that another campaign may have tried. Final once [`Self::before_moves`] has run.
    pub(super) fn read(&self) -> usize {
        self.read
    }

    /// A begin claimed its target (idle → progressing).
    pub(super) fn claimed(&mut self, call: &Campaigncall) {
        let counts = self.targets.entry(call.outdial_id).or_default();
        counts[Standing::Queued as usize] -= 1;
        counts[Standing::Dialing as usize] += 1;
    }

    /// A begin created its campaigncall.
    pub(super) fn created(&mut self, call: &Campaigncall) {
        self.campaigns
            .entry((call.campaign_id, call.outdial_id))
            .or_default()[0] += 1;
    }

    /// An attempt of `campaign` not ended yet ends with `disposition` (the statement that
    /// ends it checks both).
    pub(super) fn ended(&mut self, campaign: Uuid, disposition: Disposition) {
        *self
            .dispositions
            .entry((campaign, disposition))
            .or_default() += 1;
    }

    /// An attempt ends with `disposition`, its campaign read from its row (its target's move
    /// is counted from its row too: [`Self::moved_unsettled`]).
    pub(super) fn ended_unsettled(&mut self, call: Uuid, disposition: Disposition) {
        self.ended.push([call.into(), disposition.as_str().into()]);
    }

    /// A live target moves from where its writes say it stands.
    pub(super) fn moved(&mut self, m: KnownMove) {
        let counts = self.targets.entry(m.outdial).or_default();
        counts[m.from as usize] -= 1;
        counts[Standing::of(m.status, m.result) as usize] += 1;
        if m.status != TargetStatus::Done {
            // Neither where it was nor where it goes counts for a campaign.
            return;
        }
        // Its own attempt's campaign: what the rows would say, when the end tells it.
        // (The column of `campaigns`: 1 succeeded, 2 failed.)
        let own = m.by.and_then(|(campaign, reached)| {
            let column = match m.result {
                "success" if reached => 1,
                // Another of its attempts may have reached it: read.
                "success" => return None,
                "fail" => 2,
                _ if reached => 2,
                _ => return None,
            };
            Some((campaign, column))
        });
        if let Some((campaign, column)) = own {
            self.campaigns.entry((campaign, m.outdial)).or_default()[column] += 1;
        }
        self.entering_done.push(EnteringDone {
            target: m.target,
            outdial: m.outdial,
            result: m.result,
            counted: own.map(|(campaign, _)| campaign),
        });
    }

    /// The target of an ended attempt goes to `status` with `result`, counted from its row.
    pub(super) fn moved_unsettled(&mut self, target: Uuid, status: &str, result: &str) {
        self.read += 1;
        self.moved.push(target, status, result, None, None);
    }

    /// A waiting target is closed `fail` (only if it is still idle), counted from its row.
    pub(super) fn exhausted_unsettled(&mut self, target: Uuid) {
        self.read += 1;
        self.exhausted
            .push(target, "done", "fail", Some("idle"), None);
    }

    /// Counts the exhausted targets read from their rows; just before they are closed.
    pub(super) async fn before_exhausted(
        &mut self,
        conn: &mut SqliteConnection,
    ) -> StoreResult<()> {
        if self.exhausted.is_empty() {
            return Ok(());
        }
        // The campaigns with attempts on an outdial are read from their counters' rows.
        self.write_campaigns(conn).await?;
        std::mem::replace(&mut self.exhausted, Moves::new())
            .run(conn)
            .await
    }

    /// Counts the dispositions of the ends whose campaign is read from their attempt's row;
    /// just before the attempts are ended.
    pub(super) async fn before_ends(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        std::mem::replace(&mut self.ended, Rows::new(&END_DISPOSITIONS))
            .run(conn)
            .await?;
        Ok(())
    }

    /// Counts, for the campaigns that dialed their outdial, the targets entering `done`, and
    /// the moves read from the targets' rows; after the attempts are ended (a campaign's
    /// reach is read from their results), just before the targets are moved.
    pub(super) async fn before_moves(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let mut reach = Rows::new(&REACH);
        if !self.entering_done.is_empty() {
            let dialed = self.campaigns_of(conn).await?;
            for t in self.entering_done.drain(..) {
                // Another campaign than the one counted may have tried it.
                let others = dialed
                    .get(&t.outdial)
                    .is_some_and(|campaigns| campaigns.iter().any(|c| Some(*c) != t.counted));
                if others {
                    self.read += 1;
                    reach.push([
                        t.target.into(),
                        t.outdial.into(),
                        t.result.into(),
                        t.counted.into(),
                    ]);
                }
            }
        }
        if reach.is_empty() && self.moved.is_empty() {
            return Ok(());
        }
        // Both read which campaigns have attempts on an outdial from their counters' rows.
        self.write_campaigns(conn).await?;
        reach.run(conn).await?;
        std::mem::replace(&mut self.moved, Moves::new())
            .run(conn)
            .await
    }

    /// The campaigns with attempts on each outdial a target enters `done` in.
    async fn campaigns_of(
        &self,
        conn: &mut SqliteConnection,
    ) -> StoreResult<FastMap<Uuid, Vec<Uuid>>> {
        let outdials: FastSet<Uuid> = self.entering_done.iter().map(|t| t.outdial).collect();
        let mut rows = Rows::new(&CAMPAIGNS_OF);
        for outdial in outdials {
            rows.push([outdial.into()]);
        }
        let mut dialed: FastMap<Uuid, Vec<Uuid>> = FastMap::default();
        for row in rows.run(conn).await? {
            let id = |i: usize| -> StoreResult<Uuid> {
                let text: &str = row.try_get(i)?;
                Uuid::parse_str(text).map_err(|e| StoreError::Corrupt(format!("id: {e}")))
            };
            dialed.entry(id(0)?).or_default().push(id(1)?);
        }
        Ok(dialed)
    }

    /// Writes what is summed so far of the campaigns' counts.
    async fn write_campaigns(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let mut rows = Rows::new(&ADD_CAMPAIGNS);
        for ((campaign, outdial), [calls, succeeded, failed]) in self.campaigns.drain() {
            if calls != 0 || succeeded != 0 || failed != 0 {
                rows.push([
                    campaign.into(),
                    outdial.into(),
                    calls.into(),
                    succeeded.into(),
                    failed.into(),
                ]);
            }
        }
        rows.run(conn).await?;
        Ok(())
    }

    /// Writes what the batch adds to each counter, one statement each; once every write of
    /// the batch is applied.
    pub(super) async fn write(mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let mut targets = Rows::new(&ADD_TARGETS);
        for (outdial, counts) in self.targets.drain() {
            if counts != [0; 4] {
                targets.push([
                    outdial.into(),
                    counts[0].into(),
                    counts[1].into(),
                    counts[2].into(),
                    counts[3].into(),
                ]);
            }
        }
        targets.run(conn).await?;
        self.write_campaigns(conn).await?;
        let mut dispositions = Rows::new(&ADD_DISPOSITIONS);
        for ((campaign, disposition), n) in self.dispositions.drain() {
            dispositions.push([campaign.into(), disposition.as_str().into(), n.into()]);
        }
        dispositions.run(conn).await?;
        Ok(())
    }
}

/// Moves of targets, for both counters.
struct Moves {
    targets: Rows<'static>,
    campaigns: Rows<'static>,
}

impl Moves {
    fn new() -> Moves {
        Moves {
            targets: Rows::new(&MOVE_TARGETS),
            campaigns: Rows::new(&MOVE_CAMPAIGN_TARGETS),
        }
    }

    fn push(
        &mut self,
        target: Uuid,
        status: &str,
        result: &str,
        from: Option<&str>,
        outdial: Option<Uuid>,
    ) {
        let row: [Cell; 5] = [
            target.into(),
            status.into(),
            result.into(),
            from.into(),
            outdial.into(),
        ];
        self.targets.push(row.clone());
        self.campaigns.push(row);
    }

    fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    async fn run(self, conn: &mut SqliteConnection) -> StoreResult<()> {
        if self.targets.is_empty() {
            return Ok(());
        }
        self.targets.run(conn).await?;
        self.campaigns.run(conn).await?;
        Ok(())
    }
}

/// Counts targets just inserted (`by_status`: how many of each status).
pub(super) async fn inserted(
    conn: &mut SqliteConnection,
    outdial: Uuid,
    by_status: TargetCounts,
) -> StoreResult<()> {
    let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    let mut rows = Rows::new(&ADD_TARGETS);
    rows.push([
        outdial.into(),
        n(by_status.queued).into(),
        n(by_status.dialing).into(),
        n(by_status.succeeded).into(),
        n(by_status.failed).into(),
    ]);
    rows.run(conn).await?;
    Ok(())
}

/// Counts a target of `outdial` leaving every count (deleted), if it is live; just before it
/// is marked deleted.
pub(super) async fn before_delete(
    conn: &mut SqliteConnection,
    outdial: Uuid,
    target: Uuid,
) -> StoreResult<()> {
    let mut moves = Moves::new();
    moves.push(target, "deleted", "", None, Some(outdial));
    moves.run(conn).await
}

/// Every live done target of `outdial` went back to idle: none is done any more.
pub(super) async fn after_reset(conn: &mut SqliteConnection, outdial: Uuid) -> StoreResult<()> {
    sqlx::query(
        "UPDATE outdial_counts SET queued = queued + succeeded + failed, succeeded = 0, failed = 0
         WHERE outdial_id = ?",
    )
    .bind(outdial.to_string())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE campaign_counts SET succeeded = 0, failed = 0 WHERE outdial_id = ?")
        .bind(outdial.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// An outdial's live targets by where they stand (`due` is not counted: it is 0).
pub(super) async fn targets(
    conn: &mut sqlx::SqliteConnection,
    outdial: Uuid,
) -> StoreResult<TargetCounts> {
    let row = sqlx::query(
        "SELECT queued, dialing, succeeded, failed FROM outdial_counts WHERE outdial_id = ?",
    )
    .bind(outdial.to_string())
    .fetch_optional(conn)
    .await?;
    let u = |r: &sqlx::sqlite::SqliteRow, c: &str| r.get::<i64, _>(c).max(0) as u64;
    Ok(row
        .map(|r| TargetCounts {
            queued: u(&r, "queued"),
            dialing: u(&r, "dialing"),
            succeeded: u(&r, "succeeded"),
            failed: u(&r, "failed"),
            due: 0,
        })
        .unwrap_or_default())
}

/// A campaign's attempts, dispositions and the targets it finished, read in one statement
/// (one snapshot).
pub(super) async fn calls(
    conn: &mut sqlx::SqliteConnection,
    campaign: Uuid,
) -> StoreResult<CallCounts> {
    let id = campaign.to_string();
    let rows = sqlx::query(
        "SELECT NULL AS d, COALESCE(SUM(calls), 0) AS n, COALESCE(SUM(succeeded), 0) AS s,
           COALESCE(SUM(failed), 0) AS f
         FROM campaign_counts WHERE campaign_id = ?
         UNION ALL
         SELECT disposition, n, 0, 0 FROM campaign_dispositions WHERE campaign_id = ? AND n <> 0",
    )
    .bind(&id)
    .bind(&id)
    .fetch_all(conn)
    .await?;
    let u = |v: i64| v.max(0) as u64;
    let mut counts = CallCounts::default();
    let mut dnc = 0;
    for r in rows {
        let n = u(r.try_get("n")?);
        match r.try_get::<Option<String>, _>("d")? {
            None => {
                counts.attempts = n;
                counts.succeeded_targets = u(r.try_get("s")?);
                counts.failed_targets = u(r.try_get("f")?);
            }
            Some(d) => {
                // A number on a do-not-call list is recorded, not dialed: no attempt.
                if d == Disposition::Dnc.as_str() {
                    dnc = n;
                }
                counts.dispositions.insert(d, n);
            }
        }
    }
    counts.attempts = counts.attempts.saturating_sub(dnc);
    Ok(counts)
}

#[cfg(test)]
mod tests;
