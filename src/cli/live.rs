//! The long client commands: a CSV import uploaded with a progress bar, a campaign watched
//! until it ends, a campaign's calls exported to a file. Bars are drawn on stderr, and only
//! when it is a terminal.

use super::{sse, table, CliError, Client, WatchArgs};
use bytes::Bytes;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

fn bar(len: u64, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

fn file_error(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
    move |source| CliError::File {
        path: path.display().to_string(),
        source,
    }
}

/// `outdial import`: streams the file as `text/csv`, the bar following the bytes sent, then
/// prints the import report.
pub async fn import(
    client: &Client,
    id: &str,
    file: &Path,
    json_out: bool,
) -> Result<(), CliError> {
    let opened = tokio::fs::File::open(file)
        .await
        .map_err(file_error(file))?;
    let length = opened.metadata().await.map_err(file_error(file))?.len();
    let progress = bar(
        length,
        "{spinner} uploading {bytes}/{total_bytes} [{bar:40}] {percent}% {bytes_per_sec} eta {eta}",
    );
    let sent = progress.clone();
    let body = file_chunks(opened).map(move |chunk| {
        if let Ok(c) = &chunk {
            sent.inc(c.len() as u64);
        }
        chunk
    });
    let report = client
        .post_stream(&format!("/outdials/{id}/targets"), "text/csv", length, body)
        .await;
    progress.finish_and_clear();
    let report = report?;
    if json_out {
        println!("{report}");
        return Ok(());
    }
    println!(
        "created {}, refused {}, duplicates {}",
        report["created"], report["skipped_invalid_total"], report["skipped_duplicate_total"]
    );
    let refused = report["skipped_invalid"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !refused.is_empty() {
        print!("{}", table::render(&refused, &["row", "value", "reason"]));
    }
    Ok(())
}

/// A file read in 64 KiB chunks.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static {
    futures::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

/// Whether a campaign with these stats is over: not dialing, with nothing in flight.
fn ended(stats: &Value) -> bool {
    let status = stats["status"].as_str().unwrap_or_default();
    matches!(status, "stop" | "finished") && stats["dialing"].as_u64().unwrap_or(0) == 0
}

/// `campaign watch`: follows the campaign until it stops or finishes, the bar at its progress;
/// prints the last stats. The stats are re-read when the event stream says the campaign or
/// one of its calls changed, at most once an interval; they are polled every interval only
/// when the API refuses the stream.
pub async fn watch(client: &Client, args: &WatchArgs, json_out: bool) -> Result<(), CliError> {
    let deadline =
        (args.timeout_secs > 0).then(|| Instant::now() + Duration::from_secs(args.timeout_secs));
    let progress = bar(100, "{spinner} [{bar:40}] {pos}% {msg}");
    progress.enable_steady_tick(Duration::from_millis(100));
    let watching = Watching {
        client,
        args,
        deadline,
        progress: &progress,
    };
    let followed = match watching.follow().await {
        Ok(Followed::Ended(stats)) => Ok(stats),
        Ok(Followed::Refused) => watching.poll().await,
        Err(e) => Err(e),
    };
    progress.finish_and_clear();
    let stats = followed?;
    if json_out {
        println!("{stats}");
    } else {
        println!("{}", summary(&stats));
        let mut dispositions: Vec<Value> = stats["dispositions"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| serde_json::json!({"disposition": k, "attempts": v}))
                    .collect()
            })
            .unwrap_or_default();
        dispositions.sort_by_key(|d| std::cmp::Reverse(d["attempts"].as_u64()));
        print!(
            "{}",
            table::render(&dispositions, &["disposition", "attempts"])
        );
    }
    Ok(())
}

/// Consecutive failed connections to the event stream after which `watch` polls instead.
const MAX_RECONNECTS: u32 = 5;

/// How a follow of the event stream ended.
enum Followed {
    /// The campaign ended: its last stats.
    Ended(Value),
    /// The API refused the stream (or kept dropping it): poll instead.
    Refused,
}

/// One `campaign watch`.
struct Watching<'a> {
    client: &'a Client,
    args: &'a WatchArgs,
    deadline: Option<Instant>,
    progress: &'a ProgressBar,
}

impl Watching<'_> {
    /// Reads the stats and shows them; the stats when the campaign has ended.
    async fn read(&self) -> Result<(Value, bool), CliError> {
        let stats = self
            .client
            .get(&format!("/campaigns/{}/stats", self.args.id))
            .await?;
        self.progress
            .set_position(stats["progress"].as_u64().unwrap_or(0));
        self.progress.set_message(summary(&stats));
        let over = ended(&stats);
        Ok((stats, over))
    }

    fn spacing(&self) -> Duration {
        Duration::from_millis(self.args.interval_ms.max(50))
    }

    /// The timeout's error, with the campaign's status as last read.
    fn timed_out(stats: &Value) -> CliError {
        CliError::Timeout(stats["status"].as_str().unwrap_or_default().to_string())
    }

    /// Follows the event stream: after each (re)connection the stats are read, then again
    /// when an event concerns the campaign, at most once per interval. A dropped stream is
    /// resumed with `Last-Event-ID`.
    async fn follow(&self) -> Result<Followed, CliError> {
        let mut last_event: Option<String> = None;
        let mut failures = 0u32;
        let mut connected_once = false;
        loop {
            let response = match self
                .client
                .events("resource=campaign,campaigncall", last_event.as_deref())
                .await
            {
                Ok(response) => response,
                Err(CliError::Api { .. }) if !connected_once => return Ok(Followed::Refused),
                Err(e) => {
                    failures += 1;
                    if failures >= MAX_RECONNECTS {
                        tracing::debug!(error = %e, "event stream lost; polling");
                        return Ok(Followed::Refused);
                    }
                    tokio::time::sleep(self.spacing()).await;
                    continue;
                }
            };
            connected_once = true;
            // What changed before the stream opened is in this read; what changes after
            // comes as events.
            let (mut stats, over) = self.read().await?;
            if over {
                return Ok(Followed::Ended(stats));
            }
            let mut last_read = tokio::time::Instant::now();
            let mut changed = false;
            let mut parser = sse::Parser::default();
            let mut body = response.bytes_stream();
            let give_up = self.deadline.map(tokio::time::Instant::from_std);
            loop {
                tokio::select! {
                    chunk = body.next() => {
                        let Some(Ok(bytes)) = chunk else { break };
                        for message in parser.feed(&bytes) {
                            if message.id.is_some() {
                                last_event.clone_from(&message.id);
                                failures = 0;
                            }
                            changed |= concerns(&message, self.args.id);
                        }
                    }
                    _ = tokio::time::sleep_until(last_read + self.spacing()), if changed => {
                        let (now, over) = self.read().await?;
                        stats = now;
                        if over {
                            return Ok(Followed::Ended(stats));
                        }
                        last_read = tokio::time::Instant::now();
                        changed = false;
                    }
                    _ = sleep_until_or_never(give_up) => return Err(Self::timed_out(&stats)),
                }
            }
            failures += 1;
            if failures >= MAX_RECONNECTS {
                return Ok(Followed::Refused);
            }
        }
    }

    /// Reads the stats every interval until the campaign ends.
    async fn poll(&self) -> Result<Value, CliError> {
        loop {
            let (stats, over) = self.read().await?;
            if over {
                return Ok(stats);
            }
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Self::timed_out(&stats));
            }
            tokio::time::sleep(self.spacing()).await;
        }
    }
}

/// Sleeps until `at`, or forever when there is no `at`.
async fn sleep_until_or_never(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Whether an event of the stream says something about `campaign`: the campaign's own, or
/// one of its calls'.
fn concerns(message: &sse::Message, campaign: uuid::Uuid) -> bool {
    let Ok(event) = serde_json::from_str::<Value>(&message.data) else {
        return false;
    };
    let id = if message.event.starts_with("campaigncall_") {
        &event["data"]["campaign_id"]
    } else if message.event.starts_with("campaign_") {
        &event["resource_id"]
    } else {
        return false;
    };
    id.as_str()
        .and_then(|id| uuid::Uuid::parse_str(id).ok())
        .is_some_and(|id| id == campaign)
}

/// One line of a campaign's figures.
fn summary(stats: &Value) -> String {
    format!(
        "{} {}% of {}: {} queued, {} dialing, {} succeeded, {} failed, {} attempts",
        stats["status"].as_str().unwrap_or_default(),
        stats["progress"],
        stats["total"],
        stats["queued"],
        stats["dialing"],
        stats["succeeded"],
        stats["failed"],
        stats["attempts"],
    )
}

/// `campaign export`: the CSV as the API streams it, to a file or standard output.
pub async fn export(client: &Client, id: &str, output: Option<PathBuf>) -> Result<(), CliError> {
    let response = client
        .get_raw(&format!("/campaigns/{id}/campaigncalls.csv"))
        .await?;
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin> = match &output {
        Some(path) => Box::new(
            tokio::fs::File::create(path)
                .await
                .map_err(file_error(path))?,
        ),
        None => Box::new(tokio::io::stdout()),
    };
    let where_to = output.unwrap_or_else(|| PathBuf::from("standard output"));
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(CliError::Http)?;
        out.write_all(&chunk).await.map_err(file_error(&where_to))?;
    }
    out.flush().await.map_err(file_error(&where_to))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(event: &str, data: &str) -> sse::Message {
        sse::Message {
            id: None,
            event: event.to_string(),
            data: data.to_string(),
        }
    }

    #[test]
    fn an_event_concerns_the_campaign_whatever_the_case_its_id_was_typed_in() {
        let typed = uuid::Uuid::parse_str("5F0E8A2C-1B3D-4E5F-8A9B-0C1D2E3F4A5B").expect("id");
        let own = r#"{"resource_id":"5f0e8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}"#;
        let call = r#"{"data":{"campaign_id":"5f0e8a2c-1b3d-4e5f-8a9b-0c1d2e3f4a5b"}}"#;
        let other = r#"{"resource_id":"00000000-0000-4000-8000-000000000000"}"#;
        assert!(concerns(&message("campaign_updated", own), typed));
        assert!(concerns(&message("campaigncall_updated", call), typed));
        assert!(!concerns(&message("campaign_updated", other), typed));
        assert!(!concerns(&message("outdial_updated", own), typed));
        assert!(!concerns(&message("campaign_updated", "not json"), typed));
    }
}
