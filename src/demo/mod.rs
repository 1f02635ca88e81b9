//! `ringmaster demo`: one command, no setup. A node on a temporary SQLite file dials a sample
//! campaign of a few hundred targets through the built-in simulated trunk (real SIP over UDP
//! on loopback), shows its progress live and prints the final figures.

pub mod trunk;

use crate::call::trunk::TrunkConfig;
use crate::campaign::engine::StatusChanged;
use crate::campaign::stats::{campaign_stats, CampaignStats};
use crate::config::{Settings, TokenSettings};
use crate::domain::outdial::TargetStatus;
use crate::domain::{
    time, Action, Address, Campaign, CampaignStatus, CampaignType, Destinations, EndHandle,
    Outdial, Outplan, Target, TryCounts,
};
use crate::store::{Docs, NewTarget};
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
    let campaign = create_sample(&node, options.targets).await?;
    println!(
        "  campaign:  {} ({} targets, up to 3 tries each)\n",
        campaign.id, options.targets
    );
    node.engine.do_send(StatusChanged {
        id: campaign.id,
        status: CampaignStatus::Run,
    });
    let started = Instant::now();
    let docs = Docs(node.store.as_ref());
    let mut last_line = Instant::now() - Duration::from_secs(10);
    let stats = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let current: Campaign = docs
            .get(None, campaign.id)
            .await?
            .unwrap_or_else(|| campaign.clone());
        let stats = campaign_stats(node.store.as_ref(), &current).await?;
        draw(&stats, &mut last_line);
        if current.status == CampaignStatus::Finished || started.elapsed() > options.timeout {
            break stats;
        }
    };
    println!(
        "\n\nfinished in {:.1} s\n{}",
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

fn draw(s: &CampaignStats, last_line: &mut Instant) {
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
    if terminal {
        print!("{line}   ");
    } else {
        println!("{}", line.trim_start_matches('\r'));
    }
    let _ = std::io::stdout().flush();
}

async fn create_sample(node: &crate::node::Node, targets: u32) -> anyhow::Result<Campaign> {
    let docs = Docs(node.store.as_ref());
    let now = time::now_string();
    let outplan = Outplan {
        id: Uuid::new_v4(),
        customer_id: CUSTOMER,
        name: "demo: three tries, two seconds apart".into(),
        detail: String::new(),
        source: Address::tel("+15551230000"),
        dial_timeout: 4000,
        try_interval: 2000,
        max_try_count_0: 3,
        max_try_count_1: 0,
        max_try_count_2: 0,
        max_try_count_3: 0,
        max_try_count_4: 0,
        retry_dispositions: Outplan::DEFAULT_RETRY.to_vec(),
        backoff: 1.0,
        tm_create: now.clone(),
        tm_update: now.clone(),
        tm_delete: time::NEVER.into(),
    };
    docs.put(&outplan).await?;
    let outdial = Outdial {
        id: Uuid::new_v4(),
        customer_id: CUSTOMER,
        campaign_id: Uuid::nil(),
        name: "demo: appointment reminders".into(),
        detail: String::new(),
        data: String::new(),
        tm_create: now.clone(),
        tm_update: now.clone(),
        tm_delete: time::NEVER.into(),
    };
    docs.put(&outdial).await?;
    let names = [
        "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi",
    ];
    let new_targets = (0..targets)
        .map(|i| {
            let number = format!("+1555{:07}", 100_000 + i);
            let mut data = serde_json::Map::new();
            data.insert("appointment".into(), format!("{}:00", 9 + i % 8).into());
            NewTarget {
                dedupe: number.clone(),
                target: Target {
                    id: Uuid::new_v4(),
                    outdial_id: outdial.id,
                    name: names[i as usize % names.len()].into(),
                    detail: String::new(),
                    data,
                    status: TargetStatus::Idle,
                    result: String::new(),
                    destinations: Destinations {
                        destination_0: Some(Address::tel(number)),
                        ..Destinations::default()
                    },
                    tries: TryCounts::default(),
                    tm_create: now.clone(),
                    tm_update: now.clone(),
                    tm_delete: time::NEVER.into(),
                },
            }
        })
        .collect();
    node.store.insert_targets(new_targets).await?;
    let action = |kind: &str, option: serde_json::Value| Action {
        id: Uuid::nil(),
        next_id: Uuid::nil(),
        kind: kind.into(),
        option,
    };
    let campaign = Campaign {
        id: Uuid::new_v4(),
        customer_id: CUSTOMER,
        kind: CampaignType::Call,
        name: "demo campaign".into(),
        detail: "appointment reminders through a simulated trunk".into(),
        status: CampaignStatus::Run,
        service_level: 100,
        end_handle: EndHandle::Stop,
        actions: vec![
            action(
                "talk",
                serde_json::json!({"text": "Hello {{name}}, this is a reminder of your appointment.", "language": "en-US"}),
            ),
            action("sleep", serde_json::json!({"duration": 500})),
            action("hangup", serde_json::Value::Null),
        ],
        outplan_id: outplan.id,
        outdial_id: outdial.id,
        queue_id: Uuid::nil(),
        next_campaign_id: Uuid::nil(),
        flow_id: Uuid::nil(),
        trunk: String::new(),
        max_concurrent: 0,
        tm_create: now.clone(),
        tm_update: now,
        tm_delete: time::NEVER.into(),
    };
    docs.put(&campaign).await?;
    Ok(campaign)
}
