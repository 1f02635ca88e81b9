//! The long client commands: a CSV import uploaded with a progress bar, a campaign watched
//! until it ends, a campaign's calls exported to a file. Bars are drawn on stderr, and only
//! when it is a terminal.

use super::{table, CliError, Client, WatchArgs};
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

/// `campaign watch`: reads the stats every interval, the bar at the campaign's progress,
/// until the campaign stops or finishes; prints the last stats.
pub async fn watch(client: &Client, args: &WatchArgs, json_out: bool) -> Result<(), CliError> {
    let path = format!("/campaigns/{}/stats", args.id);
    let deadline =
        (args.timeout_secs > 0).then(|| Instant::now() + Duration::from_secs(args.timeout_secs));
    let progress = bar(100, "{spinner} [{bar:40}] {pos}% {msg}");
    let stats = loop {
        let stats = client.get(&path).await?;
        progress.set_position(stats["progress"].as_u64().unwrap_or(0));
        progress.set_message(summary(&stats));
        if ended(&stats) {
            break stats;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            progress.finish_and_clear();
            let status = stats["status"].as_str().unwrap_or_default().to_string();
            return Err(CliError::Timeout(status));
        }
        progress.tick();
        tokio::time::sleep(Duration::from_millis(args.interval_ms.max(50))).await;
    };
    progress.finish_and_clear();
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
