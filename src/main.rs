//! The `ringmaster` command line.

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use ringmaster::call::{run_one, OneCall};
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
    if !matches!(cli.command, Command::Call(_)) {
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
    match runtime.block_on(run(cli, settings)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringmaster: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command {
        Command::Call(args) => call(settings, args).await,
        Command::Serve | Command::Demo(_) => bail!("runs under the actor system"),
    }
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
            Command::Call(_) => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringmaster: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
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
