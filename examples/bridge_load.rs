//! Load runner for bridged calls: one in-process node (store on a temporary SQLite file,
//! engine, SIP endpoint, registrar, queue, relays) against two SIPp processes on loopback:
//! callees that answer and stream 20 ms G.711 until hung up (`uas_answer_stream.xml`), and N
//! agents registered with digest from one SIPp (`agent_register_many.xml`, `-inf`) that answer
//! the queue's INVITEs, stream G.711 back and hang up after the talk time
//! (`agent_talk_invite.xml`). A call campaign with the queue's id dials N × ROUNDS targets,
//! at most N at once, so that N calls are bridged at a time. Prints one JSON line: peak
//! concurrent bridged calls, bridge setup (answer → agent connected: p50/p99/max, bridges
//! started per second), the relays' counters (packets, loss, RFC 3550 jitter of what they
//! received, their own receive-to-send delay), UDP datagrams the kernel dropped at
//! ringmaster's sockets and at SIPp's (whose `rtp_stream` never reads what it is sent), and
//! CPU.
//! Used by `sip-test/load-bridge`; bounded in count and time, SIPp killed at the end.
//!
//! `cargo run --release --example bridge_load -- <N> [talk_s] [rounds] [max_cps]`
//!
//! `BRIDGE_LOAD_KEEP=1` keeps the working directory (SIPp's logs, the database);
//! `BRIDGE_LOAD_TRACE=1` also has both SIPp write every SIP message they send and receive
//! there (`sipp-PORT-messages.log`).

use futures::StreamExt;
use ringmaster::campaign::engine::StatusChanged;
use ringmaster::campaign::stats::campaign_stats;
use ringmaster::config::Settings;
use ringmaster::demo::sample;
use ringmaster::domain::{Campaign, CampaignStatus, Disposition};
use ringmaster::media::relay::stats::DELAY_BUCKETS_US;
use ringmaster::media::relay::totals::totals;
use ringmaster::store::{CallFilter, Docs, Page};
use ringmaster::trunk::TrunkConfig;
use serde_json::{json, Value};
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/process.rs"]
mod process;
use process::proc_figures;

const TOKEN: &str = "load";
const PASSWORD: &str = "load-agent-secret";
/// Registrations per second SIPp sends (each a REGISTER, a 401 and a REGISTER again).
const REGISTER_RATE: u32 = 300;
/// Agent API requests in flight at once while the agents are created.
const API_PARALLEL: usize = 16;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(n) = args.first().map(|s| s.parse::<u32>()).transpose()? else {
        anyhow::bail!("usage: bridge_load <N> [talk_s] [rounds] [max_cps]");
    };
    let talk_s: u64 = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let rounds: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(2);
    let max_cps: u32 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(100);
    anyhow::ensure!((1..=3000).contains(&n), "N is 1 to 3000");
    anyhow::ensure!((1..=120).contains(&talk_s) && (1..=5).contains(&rounds));
    let dir = tempfile::tempdir()?;
    if std::env::var_os("BRIDGE_LOAD_KEEP").is_some() {
        // Kept for a look at SIPp's error logs and the database afterwards.
        eprintln!("working directory: {}", dir.path().display());
    }
    let dir = match std::env::var_os("BRIDGE_LOAD_KEEP") {
        Some(_) => KeptDir::Kept(dir.keep()),
        None => KeptDir::Temp(dir),
    };
    tone(&dir.path().join("callee.ulaw"), 440.0)?;
    tone(&dir.path().join("agent.ulaw"), 1000.0)?;
    let users: String = std::iter::once("SEQUENTIAL".to_string())
        .chain((0..n).map(|i| {
            let user = username(i);
            format!("{user};[authentication username={user} password={PASSWORD}]")
        }))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.path().join("agents.csv"), users + "\n")?;
    let (sip, callee_port, agent_port) = (free_port()?, free_port()?, free_port()?);
    // Everything ends by itself: the campaign's calls, then the agents' registrations.
    let bound = Duration::from_secs(60 + u64::from(rounds) * (talk_s + 30));
    let callee = Sipp::start(
        dir.path(),
        &[
            "-sf",
            &scenario("uas_answer_stream.xml"),
            "-p",
            &callee_port.to_string(),
            "-mp",
            "30000",
        ],
    )?;
    let callee = &callee;
    actix::System::new().block_on(async move {
        let mut settings = Settings::default();
        settings.database.url = format!("sqlite://{}", dir.path().join("load.db").display());
        settings.sip.listen = SocketAddr::from(([127, 0, 0, 1], sip));
        settings.sip.register_algorithms = vec!["MD5".into()];
        settings.media.rtp_ports = "10000-29999".into();
        settings.auth.tokens = vec![ringmaster::config::TokenSettings {
            token: TOKEN.into(),
            customer_id: ringmaster::demo::CUSTOMER,
        }];
        settings.trunk = vec![TrunkConfig {
            name: "load".into(),
            uri: format!("sip:127.0.0.1:{callee_port}"),
            username: None,
            password: None,
            caller_id: "+15551230000".into(),
            caller_name: None,
            asserted_identity: false,
            max_cps,
            max_concurrent: n * 2,
            max_setup: 0,
            keepalive_secs: 0,
        }];
        let node =
            ringmaster::node::start(&settings, std::net::TcpListener::bind("127.0.0.1:0")?).await?;
        let api = Api {
            http: reqwest::Client::new(),
            base: format!("http://{}/v1.0", node.api),
        };
        let queue = api
            .send(
                reqwest::Method::POST,
                "/queues",
                json!({"name": "load", "routing_method": "longest_idle",
                       "wait_timeout": 30000, "wrap_up_time": 0}),
            )
            .await?;
        let queue_id: uuid::Uuid = queue["id"].as_str().unwrap_or_default().parse()?;
        let t0 = Instant::now();
        let created: Vec<anyhow::Result<()>> = futures::stream::iter(0..n)
            .map(|i| api.agent(i))
            .buffer_unordered(API_PARALLEL)
            .collect()
            .await;
        created.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        let created_s = t0.elapsed().as_secs_f64();
        let hold_ms = bound.as_millis().to_string();
        let talk_ms = (talk_s * 1000).to_string();
        let agents = Sipp::start(
            dir.path(),
            &[
                "-sf",
                &scenario("agent_register_many.xml"),
                "-oocsf",
                &scenario("agent_talk_invite.xml"),
                "-inf",
                "agents.csv",
                "-p",
                &agent_port.to_string(),
                "-mp",
                "40000",
                "-m",
                &n.to_string(),
                "-l",
                &n.to_string(),
                "-r",
                &REGISTER_RATE.to_string(),
                "-set",
                "hold_ms",
                &hold_ms,
                "-set",
                "talk_ms",
                &talk_ms,
                &format!("127.0.0.1:{sip}"),
            ],
        )?;
        let t1 = Instant::now();
        let registered = api.wait_available(n, Duration::from_secs(60)).await?;
        let registered_s = t1.elapsed().as_secs_f64();
        if registered < n {
            for log in std::fs::read_dir(dir.path())?.flatten() {
                if log.file_name().to_string_lossy().contains("errors.log") {
                    let text = std::fs::read_to_string(log.path()).unwrap_or_default();
                    eprintln!("{}:\n{}", log.path().display(), text.lines().take(60).collect::<Vec<_>>().join("\n"));
                }
            }
            anyhow::bail!("only {registered} of {n} agents registered");
        }

        let numbers: Vec<String> = (0..n * rounds)
            .map(|i| format!("+155501{:07}", 1_000_000 + i))
            .collect();
        let plan = sample::Plan {
            dial_timeout: 10_000,
            try_interval: 1000,
            max_tries: 1,
        };
        let mut campaign = sample::create(node.store.as_ref(), &numbers, plan, Vec::new()).await?;
        campaign.queue_id = queue_id;
        campaign.max_concurrent = n;
        Docs(node.store.as_ref()).put(&campaign).await?;
        let before = totals().snapshot();
        let udp0 = udp_receive_drops();
        let (cpu0, _) = proc_figures();
        let sipp_cpu0 = callee.cpu_s() + agents.cpu_s();
        let started = Instant::now();
        node.engine.do_send(StatusChanged {
            id: campaign.id,
            status: CampaignStatus::Run,
        });
        let docs = Docs(node.store.as_ref());
        let mut bridges_by_second = Vec::new();
        let mut last_started = before.started;
        let mut running_by_second = Vec::new();
        let mut socket_drops = SocketDrops::default();
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            socket_drops.look(sip);
            let now = totals().snapshot();
            bridges_by_second.push(now.started - last_started);
            running_by_second.push(now.running);
            last_started = now.started;
            let current: Campaign = docs
                .get(None, campaign.id)
                .await?
                .unwrap_or_else(|| campaign.clone());
            if (current.status == CampaignStatus::Finished && now.running == 0)
                || started.elapsed() > bound
            {
                break;
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        let (cpu1, rss) = proc_figures();
        let sipp_cpu = callee.cpu_s() + agents.cpu_s() - sipp_cpu0;
        let udp_drops = udp_receive_drops().saturating_sub(udp0);
        let after = totals().snapshot();
        let current: Campaign = docs
            .get(None, campaign.id)
            .await?
            .unwrap_or_else(|| campaign.clone());
        let stats = campaign_stats(node.store.as_ref(), &current).await?;
        let calls = all_calls(node.store.as_ref(), &campaign).await?;
        let mut waits: Vec<u64> = calls.iter().filter_map(|c| c.wait_ms).collect();
        waits.sort_unstable();
        let connected = calls.iter().filter(|c| c.agent_id.is_some()).count();
        let abandoned = calls
            .iter()
            .filter(|c| c.disposition == Some(Disposition::Abandoned))
            .count();
        let mut talks: Vec<u64> = calls.iter().map(|c| c.talk_ms).collect();
        talks.sort_unstable();
        let mut reasons = std::collections::BTreeMap::<String, u64>::new();
        for c in &calls {
            *reasons.entry(c.reason.clone()).or_default() += 1;
        }
        let q = |v: &[u64], f: f64| v.get(((v.len() as f64 - 1.0) * f) as usize).copied();
        let mut at_load: Vec<u64> = bridges_by_second
            .iter()
            .copied()
            .filter(|&b| b > 0)
            .collect();
        at_load.sort_unstable();
        let side = |i: usize| {
            let s = &after.legs[i];
            let b = &before.legs[i];
            json!({
                "received": s.received - b.received,
                "relayed_to_it": s.sent - b.sent,
                "lost": s.lost - b.lost,
                "not_relayed": s.not_relayed - b.not_relayed,
                "foreign": s.foreign - b.foreign,
                "send_failed": s.send_failed - b.send_failed,
                "jitter_max_us": s.jitter_us,
            })
        };
        let mut delay = [0u64; DELAY_BUCKETS_US.len() + 1];
        for leg in &after.legs {
            for (d, n) in delay.iter_mut().zip(leg.delay) {
                *d += n;
            }
        }
        let delay_q = |f: f64| {
            let total: u64 = delay.iter().sum();
            let want = (total as f64 * f).ceil() as u64;
            let mut seen = 0;
            for (i, n) in delay.iter().enumerate() {
                seen += n;
                if seen >= want && total > 0 {
                    return DELAY_BUCKETS_US.get(i).copied();
                }
            }
            None
        };
        println!(
            "{}",
            json!({
                "n": n,
                "talk_s": talk_s,
                "rounds": rounds,
                "max_cps": max_cps,
                "agents_created_s": (created_s * 10.0).round() / 10.0,
                "agents_registered_s": (registered_s * 10.0).round() / 10.0,
                "status": stats.status,
                "elapsed_s": (elapsed * 10.0).round() / 10.0,
                "attempts": stats.attempts,
                "dispositions": stats.dispositions,
                "connected_to_agent": connected,
                "abandoned": abandoned,
                "end_reasons": reasons,
                "talk_ms_p50_max": [q(&talks, 0.5), talks.last()],
                "peak_bridged": after.peak,
                "bridged_by_second": running_by_second,
                "bridges_started": after.started - before.started,
                "bridges_per_s_median_max": [q(&at_load, 0.5), at_load.last()],
                "bridge_setup_ms_p50_p99_max": [q(&waits, 0.5), q(&waits, 0.99), waits.last()],
                "relay_callee_side": side(0),
                "relay_agent_side": side(1),
                "leg_jitter_us_p50_p99": [after.jitter_quantile_us(0.5), after.jitter_quantile_us(0.99)],
                "relay_delay_us_p50_p99": [delay_q(0.5), delay_q(0.99)],
                "udp_receive_buffer_drops_all": udp_drops,
                "udp_drops_ringmaster_sockets": socket_drops.ours(),
                "udp_drops_sipp_sockets": socket_drops.theirs(),
                "cpu_s": ((cpu1 - cpu0) * 10.0).round() / 10.0,
                "sipp_cpu_s": (sipp_cpu * 10.0).round() / 10.0,
                "max_rss_kb": rss,
            })
        );
        drop(agents);
        Ok::<_, anyhow::Error>(())
    })
}

/// The working directory: removed at the end, or kept (`BRIDGE_LOAD_KEEP`).
enum KeptDir {
    Temp(tempfile::TempDir),
    Kept(std::path::PathBuf),
}

impl KeptDir {
    fn path(&self) -> &Path {
        match self {
            KeptDir::Temp(d) => d.path(),
            KeptDir::Kept(p) => p,
        }
    }
}

fn username(i: u32) -> String {
    format!("agent{:05}", i + 1)
}

fn scenario(name: &str) -> String {
    format!("{}/sip-test/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A free UDP port on loopback (bound, read, released).
fn free_port() -> std::io::Result<u16> {
    Ok(UdpSocket::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// 10 s of a `hz` tone as raw µ-law, which SIPp's `rtp_stream` loops.
fn tone(path: &Path, hz: f64) -> std::io::Result<()> {
    let bytes: Vec<u8> = (0..80_000)
        .map(|n| {
            let s = (std::f64::consts::TAU * hz * f64::from(n) / 8000.0).sin() * 8000.0;
            ringmaster::media::g711::linear_to_ulaw(s as i16)
        })
        .collect();
    std::fs::write(path, bytes)
}

/// Datagrams the kernel dropped because a UDP receive buffer was full, all sockets.
fn udp_receive_drops() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    snmp.lines()
        .filter(|l| l.starts_with("Udp: "))
        .nth(1)
        .and_then(|l| l.split_whitespace().nth(5))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Datagrams dropped at each UDP socket (`/proc/net/udp`'s last column), by inode, as last
/// seen: a socket's count goes when it closes, so the runner looks every second.
#[derive(Default)]
struct SocketDrops {
    /// inode → (whether it is ringmaster's, drops).
    seen: std::collections::HashMap<u64, (bool, u64)>,
}

impl SocketDrops {
    /// Reads every loopback socket's drops: ringmaster's are its SIP port and its RTP range.
    fn look(&mut self, sip: u16) {
        let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
        for line in table.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(inode), Some(drops)) = (f.get(1), f.get(9), f.last()) else {
                continue;
            };
            let port = local
                .rsplit(':')
                .next()
                .and_then(|p| u16::from_str_radix(p, 16).ok())
                .unwrap_or(0);
            let (Ok(inode), Ok(drops)) = (inode.parse::<u64>(), drops.parse::<u64>()) else {
                continue;
            };
            let ours = port == sip || (10_000..30_000).contains(&port);
            self.seen.insert(inode, (ours, drops));
        }
    }

    fn ours(&self) -> u64 {
        self.seen.values().filter(|v| v.0).map(|v| v.1).sum()
    }

    fn theirs(&self) -> u64 {
        self.seen.values().filter(|v| !v.0).map(|v| v.1).sum()
    }
}

/// A SIPp process, killed when dropped (and by the kernel if this process dies first).
struct Sipp(Child);

impl Sipp {
    fn start(dir: &Path, args: &[&str]) -> std::io::Result<Sipp> {
        let control = free_port()?.to_string();
        let mut command = Command::new("sipp");
        command
            .args(args)
            .args([
                "-i",
                "127.0.0.1",
                "-cp",
                &control,
                "-nostdin",
                "-buff_size",
                "4194304",
                "-max_socket",
                "100000",
            ])
            .args([
                "-trace_err",
                "-error_file",
                &format!("sipp-{control}-errors.log"),
            ])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; it only asks for SIGKILL when this process dies.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        if std::env::var_os("BRIDGE_LOAD_TRACE").is_some() {
            let messages = format!("sipp-{control}-messages.log");
            command.args(["-trace_msg", "-message_file", &messages]);
        }
        let child = command.spawn()?;
        std::thread::sleep(Duration::from_millis(300));
        Ok(Sipp(child))
    }

    /// Its CPU time so far (user + system, seconds).
    fn cpu_s(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.0.id())).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The node's REST API.
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> anyhow::Result<Value> {
        let url = format!("{}{path}?token={TOKEN}", self.base);
        let resp = self
            .http
            .request(method.clone(), &url)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {body}");
        Ok(body)
    }

    /// Creates agent `i` with the shared password and sets it available.
    async fn agent(&self, i: u32) -> anyhow::Result<()> {
        let agent = self
            .send(
                reqwest::Method::POST,
                "/agents",
                json!({"username": username(i), "password": PASSWORD}),
            )
            .await?;
        let id = agent["id"].as_str().unwrap_or_default();
        self.send(
            reqwest::Method::PUT,
            &format!("/agents/{id}/status"),
            json!({"status": "available"}),
        )
        .await?;
        Ok(())
    }

    /// Waits until `n` agents show `available` (registered); how many did.
    async fn wait_available(&self, n: u32, within: Duration) -> anyhow::Result<u32> {
        let deadline = Instant::now() + within;
        loop {
            let mut available = 0;
            let mut token = String::new();
            loop {
                let mut url = format!("{}/agents?token={TOKEN}&page_size=100", self.base);
                if !token.is_empty() {
                    url.push_str(&format!("&page_token={token}"));
                }
                let page: Value = self.http.get(&url).send().await?.json().await?;
                if page.get("result").is_none() {
                    anyhow::bail!("GET /agents: {page}");
                }
                let empty = Vec::new();
                let result = page["result"].as_array().unwrap_or(&empty);
                available += result.iter().filter(|a| a["status"] == "available").count() as u32;
                token = page["next_page_token"].as_str().unwrap_or("").to_string();
                if token.is_empty() || result.is_empty() {
                    break;
                }
            }
            if available >= n || Instant::now() > deadline {
                return Ok(available);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Every attempt of `campaign`.
async fn all_calls(
    store: &dyn ringmaster::store::Store,
    campaign: &Campaign,
) -> anyhow::Result<Vec<ringmaster::domain::Campaigncall>> {
    let filter = CallFilter {
        campaign: Some(campaign.id),
        ..Default::default()
    };
    let mut page = Page {
        size: 100,
        token: None,
        max_bytes: usize::MAX,
    };
    let mut calls = Vec::new();
    loop {
        let listed = store
            .list_campaigncalls(campaign.customer_id, &filter, &page)
            .await?;
        calls.extend(listed.result);
        if listed.next_page_token.is_empty() {
            return Ok(calls);
        }
        page.token = Some(listed.next_page_token);
    }
}
