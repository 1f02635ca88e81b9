//! The command line's client commands (`ringmaster campaign list`, `outdial import`, ...):
//! they speak the REST API of a running node with a token, print tables for people and the
//! API's JSON with `--json`, and exit non-zero with the API's message when a request fails.
//!
//! ```text
//! mod.rs      the commands' arguments and what each one does
//! client.rs   requests with the token; the API's message as the error
//! table.rs    human output
//! live.rs     the long commands: import with a progress bar, watch, export
//! ```

mod client;
mod live;
mod sse;
mod table;

pub use client::Client;

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// Errors of a client command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The API answered with an error status; its message.
    #[error("{message} (HTTP {status})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The API's `message`.
        message: String,
    },
    /// The API could not be reached or its answer read.
    #[error("cannot reach the API: {0}")]
    Http(#[source] reqwest::Error),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The arguments or a file given do not make a request.
    #[error("{0}")]
    Usage(String),
    /// `watch` gave up before the campaign ended.
    #[error("the campaign was still {0} when --timeout-secs ran out")]
    Timeout(String),
}

/// Where the API is and how to speak to it (every client command takes these).
#[derive(Args, Debug, Clone)]
pub struct Connection {
    /// The API's origin, e.g. http://127.0.0.1:8080 (default: the configured `[api] listen`).
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// API token (or the RINGMASTER_TOKEN environment variable).
    #[arg(long, env = "RINGMASTER_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Print the API's JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

/// `ringmaster campaign ...`.
#[derive(Subcommand, Debug)]
pub enum CampaignCommand {
    /// The campaigns, newest first.
    List(ListArgs),
    /// One campaign.
    Get {
        /// The campaign's id.
        id: String,
    },
    /// Creates a campaign from a JSON file and/or flags (flags win).
    Create(CreateCampaign),
    /// Starts dialing (status `run`).
    Start {
        /// The campaign's id.
        id: String,
    },
    /// Stops dialing (status `stop`; calls in flight end on their own).
    Stop {
        /// The campaign's id.
        id: String,
    },
    /// Shows the campaign's progress until it stops or finishes.
    Watch(WatchArgs),
    /// Writes every campaigncall of the campaign as CSV.
    Export {
        /// The campaign's id.
        id: String,
        /// The file to write (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// How much of a list to show.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Most items shown (pages are followed up to it).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

/// `campaign create`.
#[derive(Args, Debug)]
pub struct CreateCampaign {
    /// A JSON file with the campaign's fields (as `POST /v1.0/campaigns` takes them).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Name.
    #[arg(long)]
    pub name: Option<String>,
    /// Detail.
    #[arg(long)]
    pub detail: Option<String>,
    /// The outplan (how and when to dial).
    #[arg(long)]
    pub outplan_id: Option<String>,
    /// The outdial (the targets).
    #[arg(long)]
    pub outdial_id: Option<String>,
    /// A flow whose actions run on each answered call.
    #[arg(long)]
    pub flow_id: Option<String>,
    /// The queue answered calls join.
    #[arg(long)]
    pub queue_id: Option<String>,
    /// The configured trunk to dial through.
    #[arg(long)]
    pub trunk: Option<String>,
    /// `stop` or `continue` when every target is done.
    #[arg(long)]
    pub end_handle: Option<String>,
    /// Most simultaneous calls.
    #[arg(long)]
    pub max_concurrent: Option<u64>,
}

/// `campaign watch`.
#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The campaign's id.
    pub id: uuid::Uuid,
    /// Least time between two reads of the stats, in milliseconds: they are read when the
    /// event stream says the campaign changed (polled at this interval if the API refuses
    /// the stream).
    #[arg(long, default_value_t = 1000)]
    pub interval_ms: u64,
    /// Give up (exit code 1) after this many seconds; 0 waits as long as it takes.
    #[arg(long, default_value_t = 0)]
    pub timeout_secs: u64,
}

/// `ringmaster outdial ...`.
#[derive(Subcommand, Debug)]
pub enum OutdialCommand {
    /// The outdials, newest first.
    List(ListArgs),
    /// Creates an outdial.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
    },
    /// Imports a CSV file of targets (streamed, with a progress bar).
    Import {
        /// The outdial's id.
        id: String,
        /// The CSV file (a header row naming `destination` or `phone_number`).
        file: PathBuf,
    },
}

/// `ringmaster campaigncall ...`.
#[derive(Subcommand, Debug)]
pub enum CampaigncallCommand {
    /// Dial attempts, newest first.
    List {
        /// Only this campaign's.
        #[arg(long)]
        campaign: Option<String>,
        /// Only those whose flow collected these digits.
        #[arg(long)]
        digits: Option<String>,
        #[command(flatten)]
        list: ListArgs,
    },
}

/// `ringmaster agent|queue|outplan list`.
#[derive(Subcommand, Debug)]
pub enum SimpleCommand {
    /// The resources, newest first.
    List(ListArgs),
}

/// A client command and where to send it.
#[derive(Debug)]
pub enum Request {
    /// `campaign ...`.
    Campaign(CampaignCommand),
    /// `outdial ...`.
    Outdial(OutdialCommand),
    /// `campaigncall ...`.
    Campaigncall(CampaigncallCommand),
    /// `agent list`.
    Agent(SimpleCommand),
    /// `queue list`.
    Queue(SimpleCommand),
    /// `outplan list`.
    Outplan(SimpleCommand),
}

const CAMPAIGN_COLUMNS: &[&str] = &["id", "name", "status", "outdial_id", "tm_create"];
const CAMPAIGN_FIELDS: &[&str] = &[
    "id",
    "name",
    "detail",
    "status",
    "paused_reason",
    "outplan_id",
    "outdial_id",
    "queue_id",
    "flow_id",
    "trunk",
    "end_handle",
    "tm_create",
    "tm_update",
];
const CALL_COLUMNS: &[&str] = &[
    "id",
    "destination.target",
    "status",
    "disposition",
    "sip_code",
    "talk_ms",
    "tm_create",
];

/// Runs a client command against the API at `origin` (used when `--url` is not given).
pub async fn run(request: Request, conn: Connection, origin: String) -> Result<(), CliError> {
    let token = conn.token.clone().unwrap_or_default();
    if token.is_empty() {
        return Err(CliError::Usage(
            "no API token: pass --token or set RINGMASTER_TOKEN".into(),
        ));
    }
    let client = Client::new(conn.url.as_deref().unwrap_or(&origin), &token)?;
    let json_out = conn.json;
    match request {
        Request::Campaign(c) => campaign(&client, c, json_out).await,
        Request::Outdial(OutdialCommand::List(l)) => {
            let items = client.list("/outdials", l.limit).await?;
            print_list(&items, &["id", "name", "detail", "tm_create"], json_out);
            Ok(())
        }
        Request::Outdial(OutdialCommand::Create { name }) => {
            let created = client.post("/outdials", &json!({ "name": name })).await?;
            print_one(&created, &["id", "name"], json_out);
            Ok(())
        }
        Request::Outdial(OutdialCommand::Import { id, file }) => {
            live::import(&client, &id, &file, json_out).await
        }
        Request::Campaigncall(CampaigncallCommand::List {
            campaign,
            digits,
            list,
        }) => {
            let mut path = match campaign {
                Some(c) => format!("/campaigns/{c}/campaigncalls"),
                None => "/campaigncalls".into(),
            };
            if let Some(d) = digits {
                path.push_str(&format!("?digits={d}"));
            }
            let items = client.list(&path, list.limit).await?;
            print_list(&items, CALL_COLUMNS, json_out);
            Ok(())
        }
        Request::Agent(SimpleCommand::List(l)) => {
            let items = client.list("/agents", l.limit).await?;
            print_list(&items, &["id", "username", "name", "status"], json_out);
            Ok(())
        }
        Request::Queue(SimpleCommand::List(l)) => {
            let items = client.list("/queues", l.limit).await?;
            print_list(
                &items,
                &["id", "name", "routing_method", "tm_create"],
                json_out,
            );
            Ok(())
        }
        Request::Outplan(SimpleCommand::List(l)) => {
            let items = client.list("/outplans", l.limit).await?;
            print_list(&items, &["id", "name", "tm_create"], json_out);
            Ok(())
        }
    }
}

async fn campaign(
    client: &Client,
    command: CampaignCommand,
    json_out: bool,
) -> Result<(), CliError> {
    match command {
        CampaignCommand::List(l) => {
            let items = client.list("/campaigns", l.limit).await?;
            print_list(&items, CAMPAIGN_COLUMNS, json_out);
        }
        CampaignCommand::Get { id } => {
            let c = client.get(&format!("/campaigns/{id}")).await?;
            print_one(&c, CAMPAIGN_FIELDS, json_out);
        }
        CampaignCommand::Create(args) => {
            let body = create_body(args)?;
            let c = client.post("/campaigns", &body).await?;
            print_one(&c, CAMPAIGN_FIELDS, json_out);
        }
        CampaignCommand::Start { id } => set_status(client, &id, "run", json_out).await?,
        CampaignCommand::Stop { id } => set_status(client, &id, "stop", json_out).await?,
        CampaignCommand::Watch(w) => live::watch(client, &w, json_out).await?,
        CampaignCommand::Export { id, output } => live::export(client, &id, output).await?,
    }
    Ok(())
}

async fn set_status(
    client: &Client,
    id: &str,
    status: &str,
    json_out: bool,
) -> Result<(), CliError> {
    let c = client
        .put(
            &format!("/campaigns/{id}/status"),
            &json!({ "status": status }),
        )
        .await?;
    print_one(&c, &["id", "name", "status"], json_out);
    Ok(())
}

/// The body of `campaign create`: the file's object, then the flags over it.
fn create_body(args: CreateCampaign) -> Result<Value, CliError> {
    let mut body = match &args.file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::File {
                path: path.display().to_string(),
                source,
            })?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(map)) => map,
                Ok(_) => {
                    return Err(CliError::Usage(format!(
                        "{}: must hold a JSON object",
                        path.display()
                    )))
                }
                Err(e) => return Err(CliError::Usage(format!("{}: {e}", path.display()))),
            }
        }
        None => Map::new(),
    };
    let flags = [
        ("name", args.name),
        ("detail", args.detail),
        ("outplan_id", args.outplan_id),
        ("outdial_id", args.outdial_id),
        ("flow_id", args.flow_id),
        ("queue_id", args.queue_id),
        ("trunk", args.trunk),
        ("end_handle", args.end_handle),
    ];
    for (key, value) in flags {
        if let Some(v) = value {
            body.insert(key.into(), Value::String(v));
        }
    }
    if let Some(n) = args.max_concurrent {
        body.insert("max_concurrent".into(), json!(n));
    }
    if body.is_empty() {
        return Err(CliError::Usage(
            "campaign create needs --file or flags (--name, --outplan-id, --outdial-id, ...)"
                .into(),
        ));
    }
    Ok(Value::Object(body))
}

fn print_list(items: &[Value], columns: &[&str], json_out: bool) {
    if json_out {
        println!("{}", Value::Array(items.to_vec()));
    } else {
        print!("{}", table::render(items, columns));
    }
}

fn print_one(item: &Value, fields: &[&str], json_out: bool) {
    if json_out {
        println!("{item}");
    } else {
        print!("{}", table::render_one(item, fields));
    }
}
