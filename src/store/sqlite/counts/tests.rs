//! The counters against the rows they count, through every kind of write.

use super::super::tests::{begin, store_with_targets, stored};
use super::super::SqliteStore;
use crate::domain::{
    time, Address, AddressKind, Campaigncall, Disposition, DncNumber, DncSource, Target, E164,
};
use crate::store::{AttemptEnd, Commits, Store, TargetNext, WriteOp};
use std::sync::Arc;
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

fn begin_for(campaign: Uuid, target: &Target, try_count: u32) -> (WriteOp, Campaigncall) {
    let mut op = begin(target, try_count);
    let WriteOp::Begin { call, .. } = &mut op else {
        unreachable!()
    };
    call.campaign_id = campaign;
    let call = (**call).clone();
    (op, call)
}

fn end(call: &Campaigncall, disposition: Disposition, next: TargetNext) -> WriteOp {
    WriteOp::End(Box::new(AttemptEnd::closed(call, disposition, "", next)))
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
        ends.push(end(call, disposition, next));
    }
    for target in &t[36..38] {
        ends.push(WriteOp::Exhausted {
            target_id: target.id,
            outdial_id: target.outdial_id,
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
        retry_ends.push(end(&id, Disposition::Answered, next));
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
        .apply(&[end(&calls[1], Disposition::Busy, TargetNext::Done("fail"))])
        .await
        .expect("second end");
    check("after an end recorded twice").await;

    // An end recorded twice that would turn a succeeded target into a failed one.
    store
        .apply(&[end(
            &calls[0],
            Disposition::Rejected,
            TargetNext::Done("fail"),
        )])
        .await
        .expect("an end turning a success into a failure");
    check("after an end that would turn a succeeded target into a failed one").await;

    // An end recorded twice that would turn a failed target into a succeeded one.
    store
        .apply(&[end(
            &calls[7],
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
            end(&calls[2], Disposition::Busy, TargetNext::RetryAt(0)),
            end(
                &calls[35],
                Disposition::Answered,
                TargetNext::Done("success"),
            ),
            end(&calls[35], Disposition::Rejected, TargetNext::Done("fail")),
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
            &calls[5],
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

/// Applies `ops` as the store does: what took effect, whether the batch was applied a second
/// time, and how many of its writes the counters counted from rows read for them.
async fn applied(store: &SqliteStore, ops: &[WriteOp]) -> (Vec<bool>, bool, usize) {
    let (applied, again) = store.apply_batch(ops).await.expect("apply");
    (applied.applied, again, applied.counted_from_rows)
}

/// A begin of `campaign`'s next try of `target` (as read), dialing `number` (the target's
/// own if `None`) and checked against `lists`.
fn begin_of(campaign: Uuid, target: &Target, number: Option<&str>, lists: &[Uuid]) -> WriteOp {
    let mut op = begin(target, target.tries.to_array()[0] + 1);
    let WriteOp::Begin {
        call, dnc_lists, ..
    } = &mut op
    else {
        unreachable!()
    };
    call.campaign_id = campaign;
    call.destination = match number {
        Some(n) => Address::tel(n.parse().expect("E.164")),
        None => target
            .destinations
            .destination_0
            .clone()
            .unwrap_or_default(),
    };
    *dnc_lists = Arc::from(lists.to_vec());
    op
}

fn call_of(op: &WriteOp) -> Campaigncall {
    match op {
        WriteOp::Begin { call, .. } => (**call).clone(),
        _ => unreachable!("a begin"),
    }
}

fn number_of(target: &Target) -> E164 {
    match target.destinations.destination_0.as_ref().map(|a| &a.kind) {
        Some(AddressKind::Tel(n)) => n.clone(),
        _ => unreachable!("targets are numbers"),
    }
}

#[tokio::test]
async fn a_campaign_alone_on_its_outdial_is_counted_from_its_writes_without_reading_a_row() {
    let (mut store, t) = store_with_targets(12).await;
    store.abandon_lockout_ms = 3_600_000;
    let outdial = t[0].outdial_id;
    let a = Uuid::new_v4();
    let list = Uuid::new_v4();
    store
        .put_dnc_numbers(
            Uuid::nil(),
            &[DncNumber {
                list_id: list,
                number: number_of(&t[1]),
                source: DncSource::Import,
                expire_at: None,
                tm_create: time::now_string(),
            }],
        )
        .await
        .expect("dnc");
    // A safe-harbour abandon on a number locks it out for the customer.
    let locked = "+15550119999";
    let first = begin_of(a, &t[0], Some(locked), &[list]);
    let abandoned = AttemptEnd::closed(
        &call_of(&first),
        Disposition::Abandoned,
        crate::domain::SAFE_HARBOUR_REASON,
        TargetNext::RetryAt(0),
    );
    assert_eq!(applied(&store, &[first]).await, (vec![true], false, 0));
    assert_eq!(
        applied(&store, &[WriteOp::End(Box::new(abandoned))]).await,
        (vec![true], false, 0)
    );
    agree(&store, a, outdial, "after an abandoned call").await;

    // Begins: one on a do-not-call list (closed `dnc` at once), one of the locked-out number
    // (back to waiting), the others dialed.
    let mut ops = vec![
        begin_of(a, &t[1], None, &[list]),
        begin_of(a, &t[2], Some(locked), &[list]),
    ];
    ops.extend(t[3..10].iter().map(|x| begin_of(a, x, None, &[list])));
    let calls: Vec<Campaigncall> = ops.iter().map(call_of).collect();
    let (done, again, read) = applied(&store, &ops).await;
    assert_eq!(
        done,
        [false, false, true, true, true, true, true, true, true]
    );
    assert_eq!((again, read), (false, 0), "nothing read for the counters");
    agree(&store, a, outdial, "after a do-not-call hit and a lock-out").await;

    // Ends of every kind in one batch, with the answers of some.
    let ends = [
        (Disposition::Answered, TargetNext::Done("success")),
        (Disposition::OptedOut, TargetNext::Done("success")),
        (Disposition::Rejected, TargetNext::Done("fail")),
        (Disposition::Busy, TargetNext::RetryAt(0)),
        (Disposition::Failed, TargetNext::Requeue { at: 0, slot: 0 }),
        (Disposition::NoAnswer, TargetNext::Done("fail")),
        (Disposition::Abandoned, TargetNext::RetryAt(0)),
    ];
    let mut ops = Vec::new();
    for (call, (disposition, next)) in calls[2..].iter().zip(ends) {
        if disposition.reached() {
            ops.push(WriteOp::Answered {
                campaigncall_id: call.id,
                dialog: None,
                at: time::now_string(),
            });
        }
        ops.push(end(call, disposition, next));
    }
    let (done, again, read) = applied(&store, &ops).await;
    assert!(done.iter().all(|d| *d));
    assert_eq!((again, read), (false, 0), "nothing read for the counters");
    agree(&store, a, outdial, "after ends of every kind").await;
    let figures = store.call_counts(a).await.expect("calls");
    assert_eq!(
        (figures.succeeded_targets, figures.failed_targets),
        (2, 3),
        "{figures:?}"
    );
}

#[tokio::test]
async fn a_target_deleted_while_its_attempt_runs_is_counted_from_its_row_alone() {
    let (store, t) = store_with_targets(3).await;
    let outdial = t[0].outdial_id;
    let a = Uuid::new_v4();
    let ops: Vec<WriteOp> = t.iter().map(|x| begin_of(a, x, None, &[])).collect();
    let calls: Vec<Campaigncall> = ops.iter().map(call_of).collect();
    store.apply(&ops).await.expect("begins");
    store
        .delete_target(outdial, t[1].id, &time::now_string())
        .await
        .expect("delete");
    agree(&store, a, outdial, "after the deletion").await;
    let ends: Vec<WriteOp> = calls
        .iter()
        .map(|c| end(c, Disposition::Answered, TargetNext::Done("success")))
        .collect();
    let (done, again, read) = applied(&store, &ends).await;
    assert_eq!(done, [true, true, true], "every attempt ends");
    assert_eq!((again, read), (true, 1), "only the deleted target is read");
    agree(&store, a, outdial, "after the ends").await;
    let figures = store.call_counts(a).await.expect("calls");
    assert_eq!(figures.succeeded_targets, 2);
    assert_eq!(figures.dispositions.get("answered"), Some(&3));
}

#[tokio::test]
async fn a_stale_begin_sends_its_batch_round_again_and_only_the_fresh_begins_are_dialed() {
    let (store, t) = store_with_targets(4).await;
    let outdial = t[0].outdial_id;
    let a = Uuid::new_v4();
    // Every claim moves its target: counted, not read back.
    let first = begin_of(a, &t[0], None, &[]);
    let first_call = call_of(&first);
    assert_eq!(applied(&store, &[first]).await, (vec![true], false, 0));
    store
        .apply(&[end(&first_call, Disposition::Busy, TargetNext::RetryAt(0))])
        .await
        .expect("end");
    // Target 0 read before its first try (stale), targets 1 and 2 fresh: the batch is applied
    // again with each claim read back, and the stale one is refused.
    let ops = [
        begin_of(a, &t[0], None, &[]),
        begin_of(a, &t[1], None, &[]),
        begin_of(a, &t[2], None, &[]),
    ];
    assert_eq!(
        applied(&store, &ops).await,
        (vec![false, true, true], true, 0)
    );
    let open = store.open_attempts().await.expect("open");
    assert_eq!(open.len(), 2, "only the fresh begins are recorded");
    agree(&store, a, outdial, "after a stale begin").await;
    let figures = store.call_counts(a).await.expect("calls");
    assert_eq!(figures.attempts, 3);
}

#[tokio::test]
async fn an_exhausted_target_is_counted_from_its_write_unless_it_is_no_longer_waiting() {
    let (store, t) = store_with_targets(8).await;
    let outdial = t[0].outdial_id;
    let a = Uuid::new_v4();
    let exhausted = |target: &Target| WriteOp::Exhausted {
        target_id: target.id,
        outdial_id: target.outdial_id,
        at: time::now_string(),
    };
    // No campaign has dialed the outdial: nothing to read.
    assert_eq!(
        applied(&store, &[exhausted(&t[0])]).await,
        (vec![true], false, 0)
    );
    agree(&store, a, outdial, "after a waiting target is closed").await;

    // One in progress, one deleted: not as their writes say.
    let begun = begin_of(a, &t[1], None, &[]);
    let call = call_of(&begun);
    store.apply(&[begun]).await.expect("begin");
    store
        .delete_target(outdial, t[2].id, &time::now_string())
        .await
        .expect("delete");
    let (_, again, read) = applied(&store, &[exhausted(&t[1]), exhausted(&t[2])]).await;
    assert_eq!((again, read), (true, 2));
    agree(&store, a, outdial, "after targets not waiting are closed").await;

    // A target begun and closed in one batch (two campaigns' writes): read.
    let (_, again, read) =
        applied(&store, &[begin_of(a, &t[3], None, &[]), exhausted(&t[3])]).await;
    assert_eq!((again, read), (false, 1));
    agree(
        &store,
        a,
        outdial,
        "after a begin and a close of one target",
    )
    .await;

    // A target the campaign tried is its failure once closed: which campaigns tried it is
    // read.
    store
        .apply(&[end(&call, Disposition::Busy, TargetNext::RetryAt(0))])
        .await
        .expect("end");
    let (_, again, read) = applied(&store, &[exhausted(&t[1]), exhausted(&t[4])]).await;
    assert_eq!((again, read), (false, 2));
    agree(&store, a, outdial, "after tried targets are closed").await;
    assert_eq!(
        store.call_counts(a).await.expect("calls").failed_targets,
        1,
        "the target it tried"
    );
}

#[tokio::test]
async fn a_target_counts_for_each_campaign_that_tried_or_reached_it_over_one_outdial() {
    let (store, t) = store_with_targets(5).await;
    let outdial = t[0].outdial_id;
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let check = |when: &'static str| {
        let store = store.clone();
        async move {
            agree(&store, a, outdial, when).await;
            agree(&store, b, outdial, when).await;
        }
    };
    // A reaches 0 and 3, fails 1, leaves 2 and 4 waiting.
    let ops: Vec<WriteOp> = t.iter().map(|x| begin_of(a, x, None, &[])).collect();
    let calls: Vec<Campaigncall> = ops.iter().map(call_of).collect();
    store.apply(&ops).await.expect("begins");
    let nexts = [
        (Disposition::Answered, TargetNext::Done("success")),
        (Disposition::Rejected, TargetNext::Done("fail")),
        (Disposition::Busy, TargetNext::RetryAt(0)),
        (Disposition::Answered, TargetNext::Done("success")),
        (Disposition::NoAnswer, TargetNext::RetryAt(0)),
    ];
    let ends: Vec<WriteOp> = calls
        .iter()
        .zip(nexts)
        .map(|(c, (d, n))| end(c, d, n))
        .collect();
    assert!(!applied(&store, &ends).await.1, "one pass");
    check("after A's ends").await;
    store
        .reset_targets(outdial, &time::now_string())
        .await
        .expect("reset");
    check("after a reset").await;

    // B dials them all: A's attempts count again for the targets B finishes.
    let mut ops = Vec::new();
    for x in &t {
        ops.push(begin_of(b, &stored(&store, outdial, x.id).await, None, &[]));
    }
    let calls: Vec<Campaigncall> = ops.iter().map(call_of).collect();
    store.apply(&ops).await.expect("begins");
    check("after B's begins").await;
    let nexts = [
        (Disposition::Answered, TargetNext::Done("success")),
        (Disposition::Answered, TargetNext::Done("success")),
        (Disposition::Rejected, TargetNext::Done("fail")),
        // An end that closes its target `success` without reaching it: whether the campaign
        // reached it before is read.
        (Disposition::Busy, TargetNext::Done("success")),
        (Disposition::Busy, TargetNext::RetryAt(0)),
    ];
    let ends: Vec<WriteOp> = calls
        .iter()
        .zip(nexts)
        .map(|(c, (d, n))| end(c, d, n))
        .collect();
    let (_, again, read) = applied(&store, &ends).await;
    assert_eq!((again, read), (false, 4), "the four targets entering done");
    check("after B's ends").await;
    let (of_a, of_b) = (
        store.call_counts(a).await.expect("a"),
        store.call_counts(b).await.expect("b"),
    );
    assert_eq!((of_a.succeeded_targets, of_a.failed_targets), (2, 1));
    assert_eq!((of_b.succeeded_targets, of_b.failed_targets), (2, 1));
}

#[tokio::test]
async fn attempts_closed_by_a_restart_keep_the_counters_with_the_rows() {
    let (store, t) = store_with_targets(4).await;
    let outdial = t[0].outdial_id;
    let a = Uuid::new_v4();
    let ops: Vec<WriteOp> = t.iter().map(|x| begin_of(a, x, None, &[])).collect();
    let calls: Vec<Campaigncall> = ops.iter().map(call_of).collect();
    store.apply(&ops).await.expect("begins");
    let answers: Vec<WriteOp> = calls[..2]
        .iter()
        .map(|c| WriteOp::Answered {
            campaigncall_id: c.id,
            dialog: None,
            at: time::now_string(),
        })
        .collect();
    store.apply(&answers).await.expect("answers");
    // One of the unanswered ones lost its target to the API meanwhile.
    store
        .delete_target(outdial, t[3].id, &time::now_string())
        .await
        .expect("delete");
    crate::campaign::engine::recover(&store)
        .await
        .expect("recover");
    agree(&store, a, outdial, "after the restart closed the attempts").await;
    let figures = store.call_counts(a).await.expect("calls");
    assert_eq!(figures.dispositions.get("answered"), Some(&2));
    assert_eq!(figures.dispositions.get("unknown"), Some(&2));
    assert_eq!(figures.succeeded_targets, 2);
}

#[tokio::test]
async fn a_batch_whose_rows_are_still_otherwise_once_read_is_counted_from_every_row() {
    let (store, t) = store_with_targets(2).await;
    let list = Uuid::new_v4();
    store
        .put_dnc_numbers(
            Uuid::nil(),
            &[DncNumber {
                list_id: list,
                number: number_of(&t[0]),
                source: DncSource::Import,
                expire_at: None,
                tm_create: time::now_string(),
            }],
        )
        .await
        .expect("dnc");
    // A begin that names another outdial than its target's: its do-not-call close does not
    // find the target as it says, and begins are not read again.
    let mut barred = begin_of(Uuid::new_v4(), &t[0], None, &[list]);
    if let WriteOp::Begin { call, .. } = &mut barred {
        call.outdial_id = Uuid::new_v4();
    }
    let (done, again, read) = applied(
        &store,
        &[barred, begin_of(Uuid::new_v4(), &t[1], None, &[])],
    )
    .await;
    assert_eq!((done, again, read), (vec![false, true], true, 1));
    let closed = stored(&store, t[0].outdial_id, t[0].id).await;
    assert_eq!(
        (closed.status, closed.result.as_str()),
        (crate::domain::TargetStatus::Done, "fail")
    );
}
