//! The counters a campaign's figures are read from (`outdial_counts`, `campaign_counts`,
//! `campaign_dispositions`), kept in the transaction of each write that changes what they
//! count, so that a read of the figures costs a few rows however many targets and attempts
//! there are.
//!
//! A batch of the dialer's writes adds to each counter once, whatever its size: what the
//! batch's begins add is summed in memory, and each statement that moves targets or ends
//! attempts is preceded by one statement over the same rows that reads where each row stands
//! before the change and adds the difference (so a write that changes nothing counts nothing).
//! The figures are the ones the rows would count to ([`super::SqliteStore::count_from_rows`]).

use super::apply::{Bulk, Cell, Rows};
use crate::domain::{Campaigncall, Disposition};
use crate::fast::FastMap;
use crate::store::{CallCounts, StoreResult, TargetCounts};
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

/// Adds to a campaign's attempts on an outdial.
static ADD_CALLS: Bulk = Bulk::new(
    "campaign_id, outdial_id, calls",
    "INSERT OR FAIL INTO campaign_counts (campaign_id, outdial_id, calls)
     SELECT * FROM v WHERE v.campaign_id IS NOT NULL
     ON CONFLICT (campaign_id, outdial_id) DO UPDATE SET calls = calls + excluded.calls",
);

/// The rows of a move of targets: each target `id` goes to `status` with `result` (status
/// `deleted`: it leaves every count), if it is live, of `outdial` (NULL: any) and now in
/// `from_status` (NULL: any), as the statement that moves it will decide.
const MOVES: &str = "id, status, result, from_status, outdial";

/// Moves of targets, as the outdial's counts see them.
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

/// Ends of attempts, as their campaign's dispositions see them: each disposition counts one
/// more. Every end that reaches the store ends an attempt not ended yet, which has no
/// disposition (the first end recorded of an attempt is its end: see `apply::apply`); each
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

/// What one batch of the dialer's writes adds to the counters (see the module's docs for
/// when each part is written).
pub(super) struct BatchCounts {
    /// Targets claimed (idle → progressing), by outdial.
    claimed: FastMap<Uuid, i64>,
    /// Campaigncalls created, by campaign and outdial.
    created: FastMap<(Uuid, Uuid), i64>,
    exhausted: Moves,
    ended: Rows<'static>,
    moved: Moves,
}

impl BatchCounts {
    pub(super) fn new() -> BatchCounts {
        BatchCounts {
            claimed: FastMap::default(),
            created: FastMap::default(),
            exhausted: Moves::new(),
            ended: Rows::new(&END_DISPOSITIONS),
            moved: Moves::new(),
        }
    }

    /// A begin claimed its target.
    pub(super) fn claimed(&mut self, call: &Campaigncall) {
        *self.claimed.entry(call.outdial_id).or_default() += 1;
    }

    /// A begin created its campaigncall.
    pub(super) fn created(&mut self, call: &Campaigncall) {
        *self
            .created
            .entry((call.campaign_id, call.outdial_id))
            .or_default() += 1;
    }

    /// A waiting target is closed `fail` (only if it is still idle).
    pub(super) fn exhausted(&mut self, target: Uuid) {
        self.exhausted
            .push(target, "done", "fail", Some("idle"), None);
    }

    /// An attempt ends with `disposition`.
    pub(super) fn ended(&mut self, call: Uuid, disposition: Disposition) {
        self.ended.push([call.into(), disposition.as_str().into()]);
    }

    /// The target of an ended attempt goes to `status` with `result`.
    pub(super) fn moved(&mut self, target: Uuid, status: &str, result: &str) {
        self.moved.push(target, status, result, None, None);
    }

    /// Writes what the begins added; after their campaigncalls are inserted, before any end
    /// of the batch.
    pub(super) async fn write_begins(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let mut targets = Rows::new(&ADD_TARGETS);
        for (outdial, n) in self.claimed.drain() {
            targets.push([
                outdial.into(),
                (-n).into(),
                n.into(),
                0i64.into(),
                0i64.into(),
            ]);
        }
        let mut calls = Rows::new(&ADD_CALLS);
        for ((campaign, outdial), n) in self.created.drain() {
            calls.push([campaign.into(), outdial.into(), n.into()]);
        }
        targets.run(conn).await?;
        calls.run(conn).await?;
        Ok(())
    }

    /// Counts the exhausted targets; just before they are closed.
    pub(super) async fn before_exhausted(
        &mut self,
        conn: &mut SqliteConnection,
    ) -> StoreResult<()> {
        std::mem::replace(&mut self.exhausted, Moves::new())
            .run(conn)
            .await
    }

    /// Counts the ends' dispositions; just before the attempts are ended.
    pub(super) async fn before_ends(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        std::mem::replace(&mut self.ended, Rows::new(&END_DISPOSITIONS))
            .run(conn)
            .await?;
        Ok(())
    }

    /// Counts the moves of the ended attempts' targets; just before the targets are moved
    /// (after the attempts are ended: a campaign's reach is read from their results).
    pub(super) async fn before_moves(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        std::mem::replace(&mut self.moved, Moves::new())
            .run(conn)
            .await
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
mod tests {
    use super::super::tests::{begin, store_with_targets};
    use super::super::SqliteStore;
    use crate::domain::{time, Disposition, Target};
    use crate::store::{AttemptEnd, Commits, Store, TargetNext, WriteOp};
    use uuid::Uuid;

    /// The counters agree with the rows, for the campaign and its outdial.
    async fn agree(store: &SqliteStore, campaign: Uuid, outdial: Uuid, when: &str) {
        let (targets, calls) = store
            .count_from_rows(campaign, outdial)
            .await
            .expect("from rows");
        let counted = store.counted_targets(outdial).await.expect("targets");
        assert_eq!(counted, targets, "targets {when}");
        assert_eq!(
            store.call_counts(campaign).await.expect("calls"),
            calls,
            "calls of {campaign} {when}"
        );
    }

    fn begin_for(campaign: Uuid, target: &Target, try_count: u32) -> (WriteOp, Uuid) {
        let mut op = begin(target, try_count);
        let WriteOp::Begin { call, .. } = &mut op else {
            unreachable!()
        };
        call.campaign_id = campaign;
        let id = call.id;
        (op, id)
    }

    fn end(call: Uuid, target: &Target, disposition: Disposition, next: TargetNext) -> WriteOp {
        WriteOp::End(Box::new(AttemptEnd::closed(
            call,
            target.id,
            disposition,
            "",
            next,
        )))
    }

    #[tokio::test]
    async fn the_counters_agree_with_the_rows_through_every_kind_of_write() {
        let (store, t) = store_with_targets(40).await;
        let outdial = t[0].outdial_id;
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let check = |when: &'static str| {
            let store = store.clone();
            async move {
                agree(&store, a, outdial, when).await;
                agree(&store, b, outdial, when).await;
            }
        };
        check("before any write").await;

        // A dials targets 0..30, B 30..36, in one batch.
        let mut ops = Vec::new();
        let mut calls = Vec::new();
        for (i, target) in t.iter().enumerate().take(36) {
            let (op, id) = begin_for(if i < 30 { a } else { b }, target, 1);
            ops.push(op);
            calls.push(id);
        }
        assert!(store.apply(&ops).await.expect("begins").iter().all(|x| *x));
        check("after the begins").await;

        // Ends of every kind, and two waiting targets closed, in one batch.
        let mut ends = Vec::new();
        for (i, call) in calls.iter().enumerate() {
            let (disposition, next) = match i % 6 {
                0 => (Disposition::Answered, TargetNext::Done("success")),
                1 => (Disposition::Rejected, TargetNext::Done("fail")),
                2 => (Disposition::Busy, TargetNext::RetryAt(0)),
                3 => (Disposition::Failed, TargetNext::Requeue { at: 0, slot: 0 }),
                4 => (Disposition::NoAnswer, TargetNext::RetryAt(0)),
                _ => continue, // still in flight
            };
            ends.push(end(*call, &t[i], disposition, next));
        }
        for target in &t[36..38] {
            ends.push(WriteOp::Exhausted {
                target_id: target.id,
                at: time::now_string(),
            });
        }
        store.apply(&ends).await.expect("ends");
        check("after the ends").await;

        // B retries what A left waiting, and reaches them all: done targets A tried but B
        // reached are A's failures only if done `fail`.
        let mut retries = Vec::new();
        let mut retry_ends = Vec::new();
        for i in (0..30).filter(|i| matches!(i % 6, 2..=4)) {
            let stored = super::super::tests::stored(&store, outdial, t[i].id).await;
            let (op, id) = begin_for(b, &stored, stored.tries.to_array()[0] + 1);
            retries.push(op);
            let next = if i % 2 == 0 {
                TargetNext::Done("success")
            } else {
                TargetNext::Done("fail")
            };
            retry_ends.push(end(id, &t[i], Disposition::Answered, next));
        }
        assert!(store
            .apply(&retries)
            .await
            .expect("retries")
            .iter()
            .all(|x| *x));
        check("after the retries began").await;
        store.apply(&retry_ends).await.expect("retry ends");
        check("after the retries ended").await;
        let (of_a, of_b) = (
            store.call_counts(a).await.expect("a"),
            store.call_counts(b).await.expect("b"),
        );
        assert!(
            of_a.succeeded_targets > 0 && of_a.failed_targets > 0,
            "{of_a:?}"
        );
        assert!(
            of_b.succeeded_targets > 0 && of_b.failed_targets > 0,
            "{of_b:?}"
        );

        // An end recorded twice, the second with another disposition: the first one stands.
        let first = (
            store.call_counts(a).await.expect("a"),
            store.counted_targets(outdial).await.expect("targets"),
        );
        store
            .apply(&[end(
                calls[1],
                &t[1],
                Disposition::Busy,
                TargetNext::Done("fail"),
            )])
            .await
            .expect("second end");
        check("after an end recorded twice").await;

        // An end recorded twice that would turn a succeeded target into a failed one.
        store
            .apply(&[end(
                calls[0],
                &t[0],
                Disposition::Rejected,
                TargetNext::Done("fail"),
            )])
            .await
            .expect("an end turning a success into a failure");
        check("after an end that would turn a succeeded target into a failed one").await;

        // An end recorded twice that would turn a failed target into a succeeded one.
        store
            .apply(&[end(
                calls[7],
                &t[7],
                Disposition::Answered,
                TargetNext::Done("success"),
            )])
            .await
            .expect("an end changing a result");
        check("after an end that would turn a failed target into a succeeded one").await;
        assert_eq!(
            (
                store.call_counts(a).await.expect("a"),
                store.counted_targets(outdial).await.expect("targets"),
            ),
            first,
            "a second end changes nothing"
        );

        // In one batch: a stale end of an attempt whose target another attempt has finished
        // since, and an attempt ended twice; only the latter's first end counts.
        let before = store.call_counts(b).await.expect("b");
        let n = |c: &crate::store::CallCounts, d: Disposition| {
            c.dispositions.get(d.as_str()).copied().unwrap_or(0)
        };
        let applied = store
            .apply(&[
                end(calls[2], &t[2], Disposition::Busy, TargetNext::RetryAt(0)),
                end(
                    calls[35],
                    &t[35],
                    Disposition::Answered,
                    TargetNext::Done("success"),
                ),
                end(
                    calls[35],
                    &t[35],
                    Disposition::Rejected,
                    TargetNext::Done("fail"),
                ),
            ])
            .await
            .expect("ends again in one batch");
        assert_eq!(applied, [false, true, false]);
        check("after ends again in one batch").await;
        let after = store.call_counts(b).await.expect("b");
        assert_eq!(
            (
                n(&after, Disposition::Answered),
                n(&after, Disposition::Rejected),
                after.succeeded_targets,
            ),
            (
                n(&before, Disposition::Answered) + 1,
                n(&before, Disposition::Rejected),
                before.succeeded_targets + 1,
            ),
            "{before:?} {after:?}"
        );
        assert_eq!(
            store
                .counted_targets(outdial)
                .await
                .expect("targets")
                .succeeded,
            first.1.succeeded + 1
        );

        // Deletions: a done target, a waiting one, one in flight, one already gone and one
        // of another outdial's id.
        for i in [0, 38, 5, 0] {
            store
                .delete_target(outdial, t[i].id, &time::now_string())
                .await
                .expect("delete");
        }
        store
            .delete_target(Uuid::new_v4(), t[1].id, &time::now_string())
            .await
            .expect("delete elsewhere");
        check("after the deletions").await;

        // The in-flight attempt of a deleted target ends.
        store
            .apply(&[end(
                calls[5],
                &t[5],
                Disposition::Answered,
                TargetNext::Done("success"),
            )])
            .await
            .expect("late end");
        check("after an end of a deleted target").await;

        store
            .reset_targets(outdial, &time::now_string())
            .await
            .expect("reset");
        check("after a reset").await;
        let figures = store.call_counts(a).await.expect("calls");
        assert_eq!(figures.attempts, 30);
        assert_eq!((figures.succeeded_targets, figures.failed_targets), (0, 0));
    }
}
