//! The `ringmaster` command line.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use ringmaster::call::{run_one, OneCall};
use ringmaster::cli;
use ringmaster::config::{LogFormat, LogSettings, Settings};
use ringmaster::domain::{Dialable, SipUri, UserPart};
use ringmaster::sip::transport::{self, TransportConfig};
use ringmaster::sip::uri::TransportKind;
use ringmaster::trunk::{Trunk, TrunkConfig};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "ringmaster",
    version,
    about = "Outbound call-campaign dialer that speaks SIP"
)]
struct Cli {
    /// Configuration file (TOML); RINGMASTER_* environment variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Place one call through a trunk and print its outcome as one JSON object.
    Call(CallArgs),
    /// Run the SIP endpoint, the dialing engine and the REST API.
    Serve,
    /// Run a sample campaign end to end against a built-in simulated trunk.
    Demo(DemoArgs),
    /// Campaigns over the REST API: list, get, create, start, stop, watch, export.
    Campaign {
        #[command(subcommand)]
        command: cli::CampaignCommand,
        #[command(flatten)]
        conn: cli::Connection,
    },
    /// Outdials over the REST API: list, create, import a CSV of targets.
    Outdial {
        #[command(subcommand)]
        command: cli::OutdialCommand,
        #[command(flatten)]
        conn: cli::Connection,
    },
    /// Dial attempts over the REST API.
    Campaigncall {
        #[command(subcommand)]
        command: cli::CampaigncallCommand,
        #[command(flatten)]
        conn: cli::Connection,
    },
    /// Agents over the REST API.
    Agent {
        #[command(subcommand)]
        command: cli::SimpleCommand,
        #[command(flatten)]
        conn: cli::Connection,
    },
    /// Queues over the REST API.
    Queue {
        #[command(subcommand)]
        command: cli::SimpleCommand,
        #[command(flatten)]
        conn: cli::Connection,
    },
    /// Outplans over the REST API.
    Outplan {
        #[command(subcommand)]
        command: cli::SimpleCommand,
        #[command(flatten)]
        conn: cli::Connection,
    },
    /// Compare dial modes over a simulated shift (the product's own pacing code, seeded).
    Simulate(SimulateArgs),
}

#[derive(clap::Args)]
struct SimulateArgs {
    /// Agents logged in the whole shift.
    #[arg(long, default_value_t = 20)]
    agents: u32,
    /// Mean answer rate over the shift, percent.
    #[arg(long, default_value_t = 35.0)]
    answer_rate: f64,
    /// Relative fall of the answer rate from the start to the end of the shift, percent
    /// (30: from 1.15× to 0.85× the mean).
    #[arg(long, default_value_t = 30.0)]
    drift: f64,
    /// Shortest and longest time to answer, seconds.
    #[arg(long, default_value_t = 4)]
    answer_min_s: u64,
    #[arg(long, default_value_t = 20)]
    answer_max_s: u64,
    /// Mean talk time, seconds (Erlang-2 distributed).
    #[arg(long, default_value_t = 80)]
    talk_s: u64,
    /// Wrap-up after each call, seconds.
    #[arg(long, default_value_t = 10)]
    wrap_up_s: u64,
    /// Shift length, minutes.
    #[arg(long, default_value_t = 240)]
    minutes: u64,
    /// Abandon-rate cap of predictive mode, percent.
    #[arg(long, default_value_t = 3.0)]
    abandon_cap: f64,
    /// The reserve predictive pacing starts from, in standard deviations
    /// (the `[dialing] predictive_safety` setting).
    #[arg(long, default_value_t = ringmaster::campaign::predictive::DEFAULT_SAFETY)]
    safety: f64,
    /// Predictive pacing takes back calls that have rung this long, seconds, when no agent
    /// is predicted for them (0: never; the table shows predictive both ways).
    #[arg(long, default_value_t = 15)]
    min_ring_s: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Targets in the sample campaign.
    #[arg(long, default_value_t = 300)]
    targets: u32,
    /// Database file (default: a new file in the temporary folder).
    #[arg(long)]
    database: Option<PathBuf>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Agents of the service desk (softphones that register and take its calls); 0: no desk.
    #[arg(long, default_value_t = 3)]
    agents: u32,
    /// Targets of the service desk's campaign.
    #[arg(long, default_value_t = 24)]
    agent_targets: u32,
}

#[derive(clap::Args)]
struct CallArgs {
    /// The number (or SIP user) to dial, e.g. +15551234567.
    destination: String,
    /// The trunk: a SIP URI (sip:host[:port][;transport=tcp]) or a [[trunk]] name from the config.
    #[arg(long)]
    trunk: String,
    /// Caller id (From user).
    #[arg(long)]
    from: Option<String>,
    /// CANCEL when unanswered after this many ms.
    #[arg(long, default_value_t = 30_000)]
    dial_timeout_ms: u64,
    /// Hang up this many ms after answer.
    #[arg(long, default_value_t = 1_000)]
    hangup_after_ms: u64,
    /// Digest username for the trunk.
    #[arg(long)]
    username: Option<String>,
    /// Digest password for the trunk.
    #[arg(long)]
    password: Option<String>,
    /// Transport towards the trunk (overrides the URI's transport parameter).
    #[arg(long, value_parser = ["udp", "tcp"])]
    transport: Option<String>,
    /// Local SIP address to bind (default: an ephemeral port on the interface facing the trunk).
    #[arg(long)]
    bind: Option<SocketAddr>,
}

/// Logs go to stderr, filtered by `RINGMASTER_LOG` (default `warn`), as text (coloured only
/// on a terminal) or as one JSON object per line.
fn init_logging(log: LogSettings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RINGMASTER_LOG")
        .unwrap_or_else(|_| "warn".into());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match log.format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ringmaster: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    init_logging(settings.log);
    if let Command::Simulate(args) = &cli.command {
        simulate(args);
        return std::process::ExitCode::SUCCESS;
    }
    if matches!(cli.command, Command::Serve | Command::Demo(_)) {
        return run_actors(cli, settings);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ringmaster: cannot start runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let Cli { command, .. } = cli;
    let outcome = match command {
        Command::Call(args) => runtime
            .block_on(call(settings, args))
            .map_err(|e| (error_text(&e), std::process::ExitCode::from(2))),
        other => match client_request(other) {
            Some((request, conn)) => runtime
                .block_on(cli::run(request, conn, api_origin(&settings)))
                .map_err(|e| (e.to_string(), std::process::ExitCode::FAILURE)),
            None => Ok(()),
        },
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err((message, code)) => {
            eprintln!("ringmaster: {message}");
            code
        }
    }
}

/// The request and connection of a client command (`None` for the others).
fn client_request(command: Command) -> Option<(cli::Request, cli::Connection)> {
    Some(match command {
        Command::Campaign { command, conn } => (cli::Request::Campaign(command), conn),
        Command::Outdial { command, conn } => (cli::Request::Outdial(command), conn),
        Command::Campaigncall { command, conn } => (cli::Request::Campaigncall(command), conn),
        Command::Agent { command, conn } => (cli::Request::Agent(command), conn),
        Command::Queue { command, conn } => (cli::Request::Queue(command), conn),
        Command::Outplan { command, conn } => (cli::Request::Outplan(command), conn),
        Command::Call(_) | Command::Serve | Command::Demo(_) | Command::Simulate(_) => return None,
    })
}

/// The configured API's origin, loopback when it listens on every address.
fn api_origin(settings: &Settings) -> String {
    let listen = settings.api.listen;
    let host = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", listen.port())
}

/// `serve` and `demo` run on the actor system.
fn run_actors(cli: Cli, settings: Settings) -> std::process::ExitCode {
    let result = actix::System::new().block_on(async move {
        match cli.command {
            Command::Serve => serve(settings).await,
            Command::Demo(args) => ringmaster::demo::run(ringmaster::demo::DemoOptions {
                targets: args.targets,
                database: args.database,
                timeout: Duration::from_secs(args.timeout_secs),
                agents: args.agents,
                agent_targets: args.agent_targets,
            })
            .await
            .map(|_| ()),
            _ => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringmaster: {}", error_text(&e));
            std::process::ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, each cause once: a cause whose text its parent
/// already ends with (sqlx's and the store's errors repeat their source) is left out.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.ends_with(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Prints the dial modes' figures over the simulated shift as a Markdown table.
fn simulate(args: &SimulateArgs) {
    use ringmaster::campaign::simulator::{rules, run, table, Shift};
    let shift = Shift {
        agents: args.agents,
        answer_rate: args.answer_rate / 100.0,
        drift: args.drift / 100.0,
        answer_min_ms: args.answer_min_s * 1000,
        answer_max_ms: args.answer_max_s.max(args.answer_min_s) * 1000,
        talk_mean_ms: args.talk_s * 1000,
        wrap_up_ms: args.wrap_up_s * 1000,
        length_ms: args.minutes * 60_000,
        seed: args.seed,
        safety: args.safety,
        min_ring_ms: (args.min_ring_s > 0).then_some(args.min_ring_s * 1000),
        ..Shift::default()
    };
    let reports: Vec<_> = rules(args.abandon_cap)
        .into_iter()
        .map(|rule| run(&shift, rule))
        .collect();
    print!("{}", table(&reports));
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    settings.check_tokens_for_listen()?;
    let api = std::net::TcpListener::bind(settings.api.listen)
        .with_context(|| format!("cannot listen on {} for the API", settings.api.listen))?;
    let node = ringmaster::node::start(&settings, api).await?;
    eprintln!(
        "ringmaster: API on http://{}/v1.0, SIP on {} (udp), database {}",
        node.api, node.sip, settings.database.url
    );
    tracing::info!(api = %node.api, sip = %node.sip, "serving");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r?,
        _ = term.recv() => {}
    }
    eprintln!("ringmaster: stopping");
    node.server.stop(true).await;
    Ok(())
}

async fn call(settings: Settings, args: CallArgs) -> anyhow::Result<()> {
    let mut config = match settings.trunk(&args.trunk) {
        Some(t) => t.clone(),
        None if args.trunk.starts_with("sip:") => TrunkConfig {
            name: args.trunk.clone(),
            uri: args.trunk.clone(),
            username: None,
            password: None,
            caller_id: "ringmaster".into(),
            caller_name: None,
            asserted_identity: false,
            max_cps: 1,
            max_concurrent: 1,
            max_setup: 0,
            keepalive_secs: 0,
        },
        None => bail!(
            "--trunk {:?} is neither a sip: URI nor a configured trunk name",
            args.trunk
        ),
    };
    if let Some(from) = args.from {
        config.caller_id = from;
    }
    if args.username.is_some() != args.password.is_some() {
        bail!("--username and --password go together");
    }
    if args.username.is_some() {
        config.username = args.username;
        config.password = args.password;
    }
    let lower = args.destination.to_ascii_lowercase();
    let destination = if lower.starts_with("sip:") || lower.starts_with("sips:") {
        SipUri::parse(&args.destination).map(Dialable::Uri)
    } else {
        UserPart::parse(&args.destination).map(Dialable::User)
    }
    .map_err(|e| {
        anyhow::anyhow!(
            "destination {:?} must be a number, SIP user part or SIP URI: {e}",
            args.destination
        )
    })?;
    let mut trunk = Trunk::resolve(config).await?;
    if let Some(t) = args.transport.as_deref() {
        trunk.transport = if t == "tcp" {
            TransportKind::Tcp
        } else {
            TransportKind::Udp
        };
    }
    let bind = args
        .bind
        .unwrap_or_else(|| SocketAddr::new(trunk.local_ip, 0));
    let endpoint = transport::start(TransportConfig {
        udp_bind: bind,
        tcp_bind: Some(bind),
        timers: settings.sip.timers(),
        udp_buffer_bytes: settings.sip.udp_buffer_bytes,
        trunks: vec![trunk.peer.ip()],
        limits: settings.sip.limits(),
        ..TransportConfig::default()
    })
    .await?;
    let report = run_one(
        &endpoint,
        &trunk,
        &OneCall {
            destination,
            dial_timeout: Duration::from_millis(args.dial_timeout_ms),
            hangup_after: Duration::from_millis(args.hangup_after_ms),
        },
    )
    .await?;
    println!("{}", serde_json::to_string(&report)?);
    endpoint.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[test]
    fn an_error_shows_each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("unable to open database file")]
        struct Inner;
        #[derive(Debug, thiserror::Error)]
        #[error("database error: {0}")]
        struct Outer(#[source] Inner);
        let e = anyhow::Error::new(Outer(Inner)).context("cannot open the database x.db");
        assert_eq!(
            error_text(&e),
            "cannot open the database x.db: database error: unable to open database file"
        );
        // A cause that only appears inside its parent's text is kept.
        let e = anyhow::anyhow!("a").context("trunk a: no answer");
        assert_eq!(error_text(&e), "trunk a: no answer: a");
    }
}
