//! The store's share of a campaign, without SIP: the reads and writes a running campaign makes
//! for each attempt (its hopper refilled with due targets, each attempt begun and then ended,
//! answered), on a temporary SQLite file through the same group-commit batches. Prints one
//! JSON line: attempts, wall and CPU time, CPU per attempt and how it splits between reads
//! and writes. Bounded by its target count.
//!
//! `cargo run --release --example store_load -- [targets] [attempts per batch]`

use ringmaster::domain::{time, Campaign, Campaigncall, Disposition, Outplan, Target};
use ringmaster::store::sqlite::SqliteStore;
use ringmaster::store::{AttemptEnd, Commits, Docs, Store, TargetNext, WriteOp};
use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Targets fetched per refill, and the hopper level that triggers one (as a campaign does).
const REFILL_BATCH: u32 = 1000;

#[path = "support/process.rs"]
mod process;
#[path = "support/sample_campaign.rs"]
mod sample_campaign;

fn begin(campaign: &Campaign, outplan: &Outplan, target: &Target, at: &str) -> WriteOp {
    let destination = target.destinations.get(0).cloned().unwrap_or_default();
    let try_count = target.tries.to_array()[0] + 1;
    WriteOp::Begin {
        call: Box::new(Campaigncall::dialing(
            campaign,
            outplan,
            target.id,
            &destination,
            0,
            try_count,
            at,
        )),
        slot: 0,
        // As a campaign does: the customer's default do-not-call list is always checked.
        dnc_lists: vec![ringmaster::domain::dnclist::default_id(
            campaign.customer_id,
        )]
        .into(),
    }
}

fn end(campaign: &Campaign, call: Uuid, target: Uuid, at: &str) -> WriteOp {
    WriteOp::End(Box::new(AttemptEnd {
        campaigncall_id: call,
        campaign_id: campaign.id,
        target_id: target,
        outdial_id: campaign.outdial_id,
        disposition: Disposition::Answered,
        sip_code: Some(200),
        reason: String::new(),
        hangup_by: Some(ringmaster::domain::HangupBy::Local),
        setup_ms: 12,
        talk_ms: 0,
        next: TargetNext::Done("success"),
        at: at.to_string(),
        flow_result: None,
        served: None,
    }))
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let targets: usize = args
        .first()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(20_000);
    let per_batch: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(100);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("load.db").display());
        let store = SqliteStore::open(&url).await?;
        let campaign = sample_campaign::one_try_campaign(&store, targets).await?;
        let outdial = campaign.outdial_id;
        let outplan: Outplan = Docs(&store)
            .get(None, campaign.outplan_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the sample outplan is missing"))?;
        let mut hopper: VecDeque<Target> = VecDeque::new();
        let mut claimed: HashSet<Uuid> = HashSet::new();
        let mut cursor = None;
        // The previous batch's attempts, ended in the next batch.
        let mut open: Vec<(Uuid, Uuid)> = Vec::new();
        let (mut reads, mut writes) = (Duration::ZERO, Duration::ZERO);
        let mut attempts = 0usize;
        let (cpu0, _) = process::proc_figures();
        let started = Instant::now();
        loop {
            if hopper.len() < (REFILL_BATCH / 2) as usize {
                let t = Instant::now();
                let now_ms = chrono::Utc::now().timestamp_millis();
                let limit = match cursor {
                    Some(_) => REFILL_BATCH,
                    None => REFILL_BATCH + claimed.len() as u32,
                };
                let (due, next) = store.due_targets(outdial, now_ms, cursor, limit).await?;
                cursor = if due.len() < limit as usize {
                    None
                } else {
                    next
                };
                for target in due {
                    if claimed.insert(target.id) {
                        hopper.push_back(target);
                    }
                }
                reads += t.elapsed();
            }
            if hopper.is_empty() && open.is_empty() {
                break;
            }
            let at = time::now_string();
            let mut ops = Vec::with_capacity(per_batch * 3);
            for (call, target) in open.drain(..) {
                ops.push(WriteOp::Answered {
                    campaigncall_id: call,
                    dialog: None,
                    at: at.clone(),
                });
                ops.push(end(&campaign, call, target, &at));
                claimed.remove(&target);
            }
            let mut begun = Vec::new();
            for target in hopper.drain(..per_batch.min(hopper.len())) {
                let op = begin(&campaign, &outplan, &target, &at);
                if let WriteOp::Begin { call, .. } = &op {
                    begun.push((call.id, target.id));
                }
                ops.push(op);
            }
            let t = Instant::now();
            let applied = store.apply(&ops).await?;
            writes += t.elapsed();
            let offset = ops.len() - begun.len();
            for (i, b) in begun.into_iter().enumerate() {
                if applied[offset + i] {
                    attempts += 1;
                    open.push(b);
                } else {
                    claimed.remove(&b.1);
                }
            }
        }
        let wall = started.elapsed();
        let cpu = Duration::from_secs_f64(process::proc_figures().0 - cpu0);
        let per = |d: Duration| (d.as_secs_f64() * 1e6 / attempts.max(1) as f64).round();
        println!(
            "{}",
            serde_json::json!({
                "attempts": attempts,
                "per_batch": per_batch,
                "wall_s": (wall.as_secs_f64() * 100.0).round() / 100.0,
                "attempts_per_s": (attempts as f64 / wall.as_secs_f64()).round(),
                "cpu_us_per_attempt": per(cpu),
                "read_wall_us_per_attempt": per(reads),
                "write_wall_us_per_attempt": per(writes),
            })
        );
        Ok(())
    })
}
