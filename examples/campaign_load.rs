//! Load runner for the whole dialer: one in-process node (store on a temporary SQLite file,
//! engine, SIP endpoint) runs a campaign of many targets against a far end that answers
//! (SIPp), each answered call hung up at once, and prints one JSON line of figures:
//! attempts/s from start to the last disposition committed, dispositions, peak concurrency,
//! CPU seconds and peak RSS of this process. Used by `sip-test/load-campaign`; bounded in
//! count and time.
//!
//! `cargo run --release --example campaign_load -- <trunk host:port> <targets> <max_cps> [max_concurrent] [max_setup]`

use ringmaster::campaign::engine::StatusChanged;
use ringmaster::campaign::stats::campaign_stats;
use ringmaster::config::Settings;
use ringmaster::domain::Disposition;
use ringmaster::domain::{Campaign, CampaignStatus};
use ringmaster::store::{CallFilter, Docs, Page};
use ringmaster::trunk::TrunkConfig;
use std::time::{Duration, Instant};

/// Seconds between two looks at the campaign's figures (each counts every target and
/// attempt of the campaign, as `GET /campaigns/{id}/stats` does).
const STATS_EVERY_S: u64 = 5;

#[path = "support/process.rs"]
mod process;
#[path = "support/sample_campaign.rs"]
mod sample_campaign;
#[path = "support/statement_times.rs"]
mod statement_times;
use process::proc_figures;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        anyhow::bail!(
            "usage: campaign_load <trunk host:port> <targets> <max_cps> [max_concurrent] [max_setup]"
        );
    }
    let trunk = args[0].clone();
    let targets: usize = args[1].parse()?;
    let max_cps: u32 = args[2].parse()?;
    let max_concurrent: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(5000);
    let max_setup: u32 = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(0);
    // STATEMENT_TIMES: the time of each statement on SQLite's threads during the campaign.
    let statement_times = statement_times::install();
    actix::System::new().block_on(async move {
        let dir = tempfile::tempdir()?;
        let mut settings = Settings::default();
        settings.database.url = format!("sqlite://{}", dir.path().join("load.db").display());
        settings.sip.listen = "127.0.0.1:0".parse()?;
        settings.trunk = vec![TrunkConfig {
            name: "load".into(),
            uri: format!("sip:{trunk}"),
            username: None,
            password: None,
            caller_id: "+15551230000".into(),
            caller_name: None,
            asserted_identity: false,
            max_cps,
            max_concurrent,
            max_setup,
            keepalive_secs: 0,
        }];
        let node =
            ringmaster::node::start(&settings, std::net::TcpListener::bind("127.0.0.1:0")?).await?;
        let campaign = sample_campaign::one_try_campaign(node.store.as_ref(), targets).await?;
        let (cpu0, _) = proc_figures();
        let threads0 = threads_cpu();
        statement_times::measuring(true);
        let started = Instant::now();
        node.engine.do_send(StatusChanged {
            id: campaign.id,
            status: CampaignStatus::Run,
        });
        let docs = Docs(node.store.as_ref());
        // The campaign's status is looked at every 50 ms (when it finished); its figures every
        // STATS_EVERY_S, as a dashboard would (the peak of attempts in flight).
        let mut peak = 0;
        let mut last_stats = Instant::now();
        // Attempts ended at each look: the sustained rate is the median rate over the whole
        // intervals between the first look and the last (the ramp-up and the tail left out).
        let mut ended_by_second: Vec<u64> = Vec::new();
        let every = Duration::from_secs(STATS_EVERY_S);
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let current: Campaign = docs
                .get(None, campaign.id)
                .await?
                .unwrap_or_else(|| campaign.clone());
            if current.status == CampaignStatus::Finished
                || started.elapsed() > Duration::from_secs(300)
            {
                break;
            }
            if last_stats.elapsed() >= every {
                last_stats += every;
                let stats = campaign_stats(node.store.as_ref(), &current).await?;
                peak = peak.max(stats.dialing);
                ended_by_second.push(stats.dispositions.values().sum());
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let (cpu1, rss) = proc_figures();
        statement_times::measuring(false);
        // Each thread's share of the campaign's CPU (a thread that ended during it is left out).
        let by_thread: std::collections::BTreeMap<String, f64> = threads_cpu()
            .into_iter()
            .map(|(name, cpu)| {
                let delta = cpu - threads0.get(&name).copied().unwrap_or(0.0);
                (name, (delta * 100.0).round() / 100.0)
            })
            .filter(|(_, cpu)| *cpu > 0.0)
            .collect();
        let current: Campaign = docs
            .get(None, campaign.id)
            .await?
            .unwrap_or_else(|| campaign.clone());
        let stats = campaign_stats(node.store.as_ref(), &current).await?;
        // The rate of each interval from the start, in order (the first one has the ramp-up).
        let by_interval: Vec<u64> = std::iter::once(0)
            .chain(ended_by_second.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]) / STATS_EVERY_S)
            .collect();
        let mut per_second: Vec<u64> = by_interval.iter().skip(1).copied().collect();
        per_second.sort_unstable();
        let sustained = per_second.get(per_second.len() / 2).copied();
        // Why the attempts that were not answered ended, with how many of each.
        let mut failure_reasons = std::collections::BTreeMap::<String, u64>::new();
        // INVITE → final response of every attempt, to see whether calls queued up.
        let mut setup_ms = Vec::new();
        let mut page = Page {
            size: 100,
            token: None,
            max_bytes: usize::MAX,
        };
        loop {
            let listed = node
                .store
                .list_campaigncalls(
                    campaign.customer_id,
                    &CallFilter {
                        campaign: Some(campaign.id),
                        ..Default::default()
                    },
                    &page,
                )
                .await?;
            for c in &listed.result {
                setup_ms.push(c.setup_ms);
                if c.disposition != Some(Disposition::Answered) {
                    *failure_reasons.entry(c.reason.clone()).or_default() += 1;
                }
            }
            if listed.next_page_token.is_empty() {
                break;
            }
            page.token = Some(listed.next_page_token);
        }
        setup_ms.sort_unstable();
        let setup = |q: f64| {
            setup_ms
                .get(((setup_ms.len() as f64 - 1.0) * q) as usize)
                .copied()
        };
        println!(
            "{}",
            serde_json::json!({
                "targets": targets,
                "max_cps": max_cps,
                "status": stats.status,
                "elapsed_s": (elapsed * 100.0).round() / 100.0,
                "attempts": stats.attempts,
                "attempts_per_s": (stats.attempts as f64 / elapsed).round(),
                "sustained_attempts_per_s": sustained,
                "attempts_per_s_by_interval": by_interval,
                "succeeded": stats.succeeded,
                "failed": stats.failed,
                "dispositions": stats.dispositions,
                "peak_dialing": peak,
                "cpu_s": ((cpu1 - cpu0) * 100.0).round() / 100.0,
                "cpu_s_by_thread": by_thread,
                "max_rss_kb": rss,
                "failure_reasons": failure_reasons,
                "setup_ms_p50_p99_max": [setup(0.5), setup(0.99), setup(1.0)],
                "statement_times": statement_times.then(|| statement_times::report(25)),
            })
        );
        Ok(())
    })
}

/// CPU seconds so far of this process's threads, summed by thread name (as `/proc` shows it,
/// at most 15 bytes: `sqlx-sqlite-wor` for every SQLite connection).
fn threads_cpu() -> std::collections::BTreeMap<String, f64> {
    let mut by_name = std::collections::BTreeMap::new();
    for (name, cpu) in process::cpu_by_thread() {
        *by_name.entry(name).or_insert(0.0) += cpu;
    }
    by_name
}
