//! Load runner for many campaigns on one node: an in-process node (store on a temporary SQLite
//! file, engine, SIP endpoint, REST API) is given CAMPAIGNS call campaigns of TARGETS targets
//! each, all through its REST API, against a far end that answers (SIPp); they are all started,
//! and while they dial a client reads the API as a dashboard would (a campaign, its stats, the
//! campaigns list) at a steady rate. Prints one JSON line: how long creating and starting took,
//! when the last campaign finished, attempts made, and the API's latency (p50, p99, max) per
//! kind of request, idle and while dialing. Used by `sip-test/load-campaigns`; bounded in count
//! and time.
//!
//! `cargo run --release --example many_campaigns -- <trunk host:port> [campaigns] [targets] [max_cps]`

use ringmaster::config::{Settings, TokenSettings};
use ringmaster::trunk::TrunkConfig;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[path = "support/process.rs"]
mod process;
use process::proc_figures;

const TOKEN: &str = "many-campaigns-load-token";
/// API reads per second while the campaigns run.
const READS_PER_S: u64 = 50;
/// No campaign is waited for longer than this.
const DEADLINE: Duration = Duration::from_secs(300);

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(trunk) = args.first().cloned() else {
        anyhow::bail!("usage: many_campaigns <trunk host:port> [campaigns] [targets] [max_cps]");
    };
    let campaigns: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let targets: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(3);
    let max_cps: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(200);
    actix::System::new().block_on(async move {
        let dir = tempfile::tempdir()?;
        let mut settings = Settings::default();
        settings.database.url = format!("sqlite://{}", dir.path().join("many.db").display());
        settings.sip.listen = "127.0.0.1:0".parse()?;
        settings.auth.tokens = vec![TokenSettings {
            token: TOKEN.into(),
            customer_id: uuid::Uuid::new_v4(),
        }];
        settings.trunk = vec![TrunkConfig {
            name: "load".into(),
            uri: format!("sip:{trunk}"),
            username: None,
            password: None,
            caller_id: "+15551230000".into(),
            caller_name: None,
            asserted_identity: false,
            max_cps,
            max_concurrent: 5000,
            max_setup: 0,
            keepalive_secs: 0,
        }];
        let node =
            ringmaster::node::start(&settings, std::net::TcpListener::bind("127.0.0.1:0")?).await?;
        let api = Api {
            client: reqwest::Client::new(),
            base: format!("http://{}/v1.0", node.api),
        };
        let mut latencies: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();

        // Create: one outplan (a single try), then an outdial, its targets and a campaign each.
        let created = Instant::now();
        let outplan = api
            .send(
                reqwest::Method::POST,
                "/outplans",
                Some(json!({"name": "one try", "max_try_count_0": 1})),
            )
            .await?
            .1;
        let outplan = id(&outplan)?;
        let mut ids = Vec::with_capacity(campaigns);
        for c in 0..campaigns {
            let (_, outdial) = api
                .send(
                    reqwest::Method::POST,
                    "/outdials",
                    Some(json!({"name": format!("list {c}")})),
                )
                .await?;
            let outdial = id(&outdial)?;
            let rows: Vec<Value> = (0..targets)
                .map(|t| {
                    json!({"destination_0": {"type": "tel",
                        "target": format!("+1555011{:04}", (c * targets + t) % 10_000)}})
                })
                .collect();
            api.send(
                reqwest::Method::POST,
                &format!("/outdials/{outdial}/targets"),
                Some(Value::Array(rows)),
            )
            .await?;
            let (_, campaign) = api
                .send(
                    reqwest::Method::POST,
                    "/campaigns",
                    Some(
                        json!({"name": format!("campaign {c}"), "outplan_id": outplan,
                        "outdial_id": outdial}),
                    ),
                )
                .await?;
            ids.push(id(&campaign)?);
        }
        let create_s = created.elapsed().as_secs_f64();

        // Idle: every campaign stopped, the API read as while dialing below.
        for _ in 0..200 {
            read_once(&api, &ids, &mut latencies, "idle").await?;
        }

        let (cpu0, _) = proc_figures();
        let started = Instant::now();
        for id in &ids {
            let (ms, _) = api
                .send(
                    reqwest::Method::PUT,
                    &format!("/campaigns/{id}/status"),
                    Some(json!({"status": "run"})),
                )
                .await?;
            latencies.entry("start").or_default().push(ms);
        }
        let start_s = started.elapsed().as_secs_f64();

        // While dialing: reads at a steady rate; every second, how many campaigns are done.
        let every = Duration::from_micros(1_000_000 / READS_PER_S);
        let mut next_look = Instant::now();
        let mut finished_at = None;
        let mut finished = 0;
        let mut tick = tokio::time::interval(every);
        while started.elapsed() < DEADLINE {
            tick.tick().await;
            read_once(&api, &ids, &mut latencies, "dialing").await?;
            if Instant::now() >= next_look {
                next_look += Duration::from_secs(1);
                let (_, list) = api
                    .send(reqwest::Method::GET, "/campaigns?page_size=100", None)
                    .await?;
                let _ = list;
                finished = finished_count(&node, &ids).await?;
                if finished == ids.len() {
                    finished_at = Some(started.elapsed().as_secs_f64());
                    break;
                }
            }
        }
        let (cpu1, rss_kb) = proc_figures();
        let mut calls = 0;
        for id in &ids {
            calls += node.store.call_counts(id.parse()?).await?.attempts;
        }
        let mut figures = serde_json::Map::new();
        for (kind, mut v) in latencies {
            v.sort_by(f64::total_cmp);
            let at = |q: f64| v[((v.len() as f64 - 1.0) * q).round() as usize];
            figures.insert(
                kind.into(),
                json!({"n": v.len(), "p50_ms": round(at(0.5)), "p99_ms": round(at(0.99)),
                    "max_ms": round(at(1.0))}),
            );
        }
        println!(
            "{}",
            json!({
                "campaigns": campaigns,
                "targets_each": targets,
                "max_cps": max_cps,
                "create_s": round(create_s),
                "start_s": round(start_s),
                "all_finished_s": finished_at.map(round),
                "campaigns_finished": finished,
                "attempts": calls,
                "cpu_s_from_start": round(cpu1 - cpu0),
                "max_rss_kb": rss_kb,
                "api": figures,
            })
        );
        node.server.stop(true).await;
        anyhow::Ok(())
    })
}

/// The REST API as a client sees it.
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    /// One request: (milliseconds taken, body). A status other than 2xx is an error.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<(f64, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let t = Instant::now();
        let resp = req.send().await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(status.is_success(), "{path}: {status} {body}");
        Ok((ms, body))
    }
}

/// One read of each kind a dashboard makes, of a campaign chosen in turn.
async fn read_once(
    api: &Api,
    ids: &[String],
    latencies: &mut BTreeMap<&'static str, Vec<f64>>,
    phase: &'static str,
) -> anyhow::Result<()> {
    let n = latencies.values().map(Vec::len).sum::<usize>();
    let id = &ids[n % ids.len()];
    let reads: [(&'static str, &'static str, String); 3] = [
        (
            "idle campaign",
            "dialing campaign",
            format!("/campaigns/{id}"),
        ),
        (
            "idle stats",
            "dialing stats",
            format!("/campaigns/{id}/stats"),
        ),
        (
            "idle list",
            "dialing list",
            "/campaigns?page_size=10".to_string(),
        ),
    ];
    for (idle, dialing, path) in reads {
        let (ms, _) = api.send(reqwest::Method::GET, &path, None).await?;
        let kind = if phase == "idle" { idle } else { dialing };
        latencies.entry(kind).or_default().push(ms);
    }
    Ok(())
}

/// How many of the campaigns have finished by themselves (every target done).
async fn finished_count(node: &ringmaster::node::Node, ids: &[String]) -> anyhow::Result<usize> {
    use ringmaster::domain::{Campaign, CampaignStatus};
    use ringmaster::store::Docs;
    let finished: Vec<Campaign> = Docs(node.store.as_ref())
        .with_status(CampaignStatus::Finished.as_str())
        .await?;
    let ours: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    Ok(finished
        .iter()
        .filter(|c| ours.contains(c.id.to_string().as_str()))
        .count())
}

fn id(v: &Value) -> anyhow::Result<String> {
    v["id"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no id in {v}"))
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
