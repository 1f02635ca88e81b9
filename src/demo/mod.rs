//! `ringmaster demo`: one command, no setup. A node on a temporary SQLite file dials a sample
//! campaign of a few hundred targets through the built-in simulated trunk (real SIP over UDP
//! on loopback), shows its progress live and prints the final figures. Beside it a service
//! desk runs: a few agents' softphones register with the node, and a campaign with a queue
//! hands its answered callees to them.

pub mod agents;
pub mod desk;
pub mod sample;
pub mod trunk;

use crate::campaign::engine::StatusChanged;
use crate::campaign::stats::{campaign_stats, CampaignStats};
use crate::config::{Settings, TokenSettings};
use crate::domain::{Campaign, CampaignStatus};
use crate::store::Docs;
use crate::trunk::TrunkConfig;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The demo's tenant and API token.
pub const CUSTOMER: Uuid = Uuid::from_u128(0x7a1b2c3d_4e5f_6789_abcd_ef0123456789);
/// The API token printed for the demo's run.
pub const TOKEN: &str = "demo";

/// What the demo does.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Targets in the sample campaign.
    pub targets: u32,
    /// The database file (default: a new file in the temporary folder).
    pub database: Option<PathBuf>,
    /// Give up after this long.
    pub timeout: Duration,
    /// The service desk's agents (none: no desk).
    pub agents: u32,
    /// Targets of the service desk's campaign.
    pub agent_targets: u32,
}

/// Runs the demo inside the current actix system; returns the final figures.
pub async fn run(options: DemoOptions) -> anyhow::Result<CampaignStats> {
    let db = options.database.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("ringmaster-demo-{}.db", std::process::id()))
    });
    let trunk_addr = trunk::start("127.0.0.1:0".parse()?).await?;
    let mut settings = Settings::default();
    settings.database.url = format!("sqlite://{}", db.display());
    settings.sip.listen = "127.0.0.1:0".parse()?;
    settings.auth.tokens = vec![TokenSettings {
        token: TOKEN.into(),
        customer_id: CUSTOMER,
    }];
    settings.trunk = vec![TrunkConfig {
        name: "simulated".into(),
        uri: format!("sip:{trunk_addr}"),
        username: None,
        password: None,
        caller_id: "+15551230000".into(),
        caller_name: Some("ringmaster demo".into()),
        asserted_identity: false,
        max_cps: 100,
        max_concurrent: 200,
        max_setup: 0,
        keepalive_secs: 0,
    }];
    let api = std::net::TcpListener::bind("127.0.0.1:0")?;
    let node = crate::node::start(&settings, api).await?;
    println!("ringmaster demo");
    println!("  database:  {}", db.display());
    println!(
        "  SIP:       {} → simulated trunk at {trunk_addr}",
        node.sip
    );
    println!(
        "  REST API:  http://{}/v1.0/campaigns?token={TOKEN}",
        node.api
    );
    // The token rides in the fragment, which the browser never sends to the server.
    println!("  dashboard: http://{}/dashboard/#token={TOKEN}", node.api);
    let numbers: Vec<String> = (0..options.targets)
        .map(|i| format!("+1555{:07}", 100_000 + i))
        .collect();
    let plan = sample::Plan {
        dial_timeout: 4000,
        try_interval: 2000,
        max_tries: 3,
    };
    let campaign = sample::create(
        node.store.as_ref(),
        &numbers,
        plan,
        sample::reminder_actions(),
    )
    .await?;
    println!(
        "  campaign:  {} ({} targets, up to 3 tries each)",
        campaign.id, options.targets
    );
    let desk = if options.agents > 0 && options.agent_targets > 0 {
        let desk = desk::open(
            node.store.as_ref(),
            node.api,
            node.sip,
            desk::DeskOptions {
                agents: options.agents,
                targets: options.agent_targets,
            },
        )
        .await?;
        println!(
            "  desk:      {} ({} targets, queue {}, {} agents registered)",
            desk.campaign.id, options.agent_targets, desk.campaign.queue_id, options.agents
        );
        Some(desk)
    } else {
        None
    };
    println!();
    let started = Instant::now();
    for id in std::iter::once(campaign.id).chain(desk.as_ref().map(|d| d.campaign.id)) {
        node.engine.do_send(StatusChanged {
            id,
            status: CampaignStatus::Run,
        });
    }
    let mut last_line = Instant::now() - Duration::from_secs(10);
    let (stats, desk_stats) = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (stats, done) = progress(node.store.as_ref(), &campaign).await?;
        let desk_stats = match &desk {
            Some(d) => Some(progress(node.store.as_ref(), &d.campaign).await?),
            None => None,
        };
        draw(&stats, desk_stats.as_ref().map(|d| &d.0), &mut last_line);
        let all_done = done && desk_stats.as_ref().is_none_or(|d| d.1);
        if all_done || started.elapsed() > options.timeout {
            break (stats, desk_stats.map(|d| d.0));
        }
    };
    let pressed = pressed_keys(node.store.as_ref(), campaign.id).await?;
    println!(
        "\n\nanswers: {} pressed 1 (confirmed), {} pressed 2 (cancelled), {} answered without a key",
        pressed.0, pressed.1, pressed.2
    );
    if let (Some(desk), Some(desk_stats)) = (&desk, &desk_stats) {
        desk::summary(node.store.as_ref(), desk).await?.print(desk);
        println!(
            "service desk campaign: {} of {} targets done, {} attempts",
            desk_stats.succeeded + desk_stats.failed,
            desk_stats.total,
            desk_stats.attempts
        );
    }
    println!(
        "\nfinished in {:.1} s\n{}",
        started.elapsed().as_secs_f64(),
        serde_json::to_string_pretty(&stats)?
    );
    println!(
        "\nEvery attempt is in {} (table campaigncalls).",
        db.display()
    );
    node.server.stop(true).await;
    Ok(stats)
}

/// A campaign's figures now, and whether it has finished.
async fn progress(
    store: &dyn crate::store::Store,
    campaign: &Campaign,
) -> anyhow::Result<(CampaignStats, bool)> {
    let current: Campaign = Docs(store)
        .get(None, campaign.id)
        .await?
        .unwrap_or_else(|| campaign.clone());
    let stats = campaign_stats(store, &current).await?;
    Ok((stats, current.status == CampaignStatus::Finished))
}

/// Every attempt of `campaign`.
async fn all_calls(
    store: &dyn crate::store::Store,
    campaign: Uuid,
) -> anyhow::Result<Vec<crate::domain::Campaigncall>> {
    let filter = crate::store::CallFilter {
        campaign: Some(campaign),
        ..Default::default()
    };
    let mut page = crate::store::Page {
        size: 100,
        token: None,
        max_bytes: usize::MAX,
    };
    let mut calls = Vec::new();
    loop {
        let listed = store.list_campaigncalls(CUSTOMER, &filter, &page).await?;
        calls.extend(listed.result);
        if listed.next_page_token.is_empty() {
            return Ok(calls);
        }
        page.token = Some(listed.next_page_token);
    }
}

/// How many answered calls pressed 1, pressed 2, and pressed nothing.
async fn pressed_keys(
    store: &dyn crate::store::Store,
    campaign: Uuid,
) -> anyhow::Result<(u64, u64, u64)> {
    let (mut one, mut two, mut none) = (0, 0, 0);
    for call in all_calls(store, campaign).await? {
        let digits = call
            .flow_result
            .as_ref()
            .and_then(|r| r["digits"].as_str())
            .unwrap_or("");
        match (call.disposition, digits) {
            (_, "1") => one += 1,
            (_, "2") => two += 1,
            (Some(crate::domain::Disposition::Answered), _) => none += 1,
            _ => {}
        }
    }
    Ok((one, two, none))
}

fn draw(s: &CampaignStats, desk: Option<&CampaignStats>, last_line: &mut Instant) {
    use std::io::IsTerminal;
    let terminal = std::io::stdout().is_terminal();
    if !terminal && last_line.elapsed() < Duration::from_secs(2) {
        return;
    }
    *last_line = Instant::now();
    let width = 40;
    let filled = (s.progress as usize * width / 100).min(width);
    let mut line = format!(
        "\r[{}{}] {:>3}%  {}/{} done  dialing {:>3}  answered {}",
        "#".repeat(filled),
        " ".repeat(width - filled),
        s.progress,
        s.succeeded + s.failed,
        s.total,
        s.dialing,
        s.dispositions.get("answered").unwrap_or(&0),
    );
    for d in ["busy", "no_answer", "invalid_number", "failed"] {
        line.push_str(&format!("  {d} {}", s.dispositions.get(d).unwrap_or(&0)));
    }
    if let Some(d) = desk {
        line.push_str(&format!(
            "  | desk {}/{} answered {} abandoned {}",
            d.succeeded + d.failed,
            d.total,
            d.dispositions.get("answered").unwrap_or(&0),
            d.dispositions.get("abandoned").unwrap_or(&0),
        ));
    }
    if terminal {
        print!("{line}   ");
    } else {
        println!("{}", line.trim_start_matches('\r'));
    }
    let _ = std::io::stdout().flush();
}
