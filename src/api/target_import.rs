//! Streamed CSV imports: the body is parsed as it arrives and stored in batches, so that a file
//! of a million rows imports in one request with memory bounded by a few batches.
//!
//! ```text
//! body chunks ──(bounded channel)──► parser thread (CsvRecords) ──(batches)──► store
//! ```
//!
//! Each batch of [`BATCH_ROWS`] rows is one transaction. A request that fails midway (a
//! broken body, too many rows) keeps the batches stored before the failure; sending the file
//! again skips them as duplicates. The report lists at most [`MAX_LISTED`] refused and
//! duplicate rows each, and counts them all.

use super::error::ApiError;
use super::target_csv_stream::{CsvRecords, CsvRow};
use super::target_rows::{Import, ImportReport, InvalidRow};
use super::ApiState;
use crate::store::NewTarget;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use std::io::Read;
use tokio::sync::mpsc;

/// Rows stored per transaction.
pub const BATCH_ROWS: usize = 5_000;
/// Most refused (and most duplicate) rows an import report lists; the totals count them all.
pub const MAX_LISTED: usize = 1_000;
/// Longest line of a CSV import; a longer one refuses the import (400).
pub const MAX_LINE: usize = 1024 * 1024;
/// Body chunks in flight between the connection and the parser.
const CHUNKS_IN_FLIGHT: usize = 16;

/// What the parser hands the storing side.
enum Parsed {
    /// Rows read, in file order.
    Batch(Vec<NewTarget>, Vec<InvalidRow>),
    /// The file is refused from here on (its header, a broken body, a bound).
    Refused(ApiError),
    /// A record past the row bound, on this line.
    TooMany(usize),
}

/// Imports a CSV file arriving as `body` into `import`'s outdial.
pub async fn import_csv<S>(
    state: &ApiState,
    import: Import,
    body: S,
) -> Result<ImportReport, ApiError>
where
    S: Stream<Item = Result<Bytes, ApiError>> + Unpin,
{
    let max_rows = state.limits.import_csv_rows;
    let (chunk_tx, chunk_rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let (batch_tx, batch_rx) = mpsc::channel(2);
    let parser = tokio::task::spawn_blocking(move || {
        parse(import, ChunkReader::new(chunk_rx), max_rows, batch_tx)
    });
    let (fed, stored) = futures::join!(
        feed(body, chunk_tx, state.limits.import_csv_bytes),
        store(state, batch_rx, max_rows)
    );
    parser
        .await
        .map_err(|e| ApiError::Internal(format!("CSV parser: {e}")))?;
    fed?;
    stored
}

/// Passes the body's chunks to the parser, refusing a body past `limit` bytes. Stops early,
/// without error, when the parser stopped listening (it refused the file).
async fn feed<S>(
    mut body: S,
    chunks: mpsc::Sender<std::io::Result<Bytes>>,
    limit: usize,
) -> Result<(), ApiError>
where
    S: Stream<Item = Result<Bytes, ApiError>> + Unpin,
{
    let mut total = 0usize;
    while let Some(chunk) = body.next().await {
        let failed = match chunk {
            Ok(chunk) => {
                total += chunk.len();
                if total <= limit {
                    if chunks.send(Ok(chunk)).await.is_err() {
                        return Ok(());
                    }
                    continue;
                }
                ApiError::TooLarge(format!("body: larger than {limit} bytes"))
            }
            Err(e) => e,
        };
        // The parser stops on this error; the request answers with the original.
        let _ = chunks
            .send(Err(std::io::Error::other(failed.to_string())))
            .await;
        return Err(failed);
    }
    Ok(())
}

/// Reads the file row by row (on a blocking thread) and sends batches of rows.
fn parse(import: Import, input: ChunkReader, max_rows: usize, batches: mpsc::Sender<Parsed>) {
    let mut records = match CsvRecords::new(import, input) {
        Ok(r) => r,
        Err(e) => {
            let _ = batches.blocking_send(Parsed::Refused(e));
            return;
        }
    };
    let (mut targets, mut invalid) = (Vec::with_capacity(BATCH_ROWS), Vec::new());
    let last = loop {
        match records.next_row() {
            Ok(None) => break None,
            Ok(Some(_)) if records.rows() > max_rows => {
                break Some(Parsed::TooMany(records.rows()))
            }
            Ok(Some(CsvRow::Target(t))) => targets.push(*t),
            Ok(Some(CsvRow::Invalid(bad))) => invalid.push(bad),
            Err(e) => break Some(Parsed::Refused(e)),
        }
        if targets.len() + invalid.len() >= BATCH_ROWS {
            let full = Parsed::Batch(
                std::mem::replace(&mut targets, Vec::with_capacity(BATCH_ROWS)),
                std::mem::take(&mut invalid),
            );
            if batches.blocking_send(full).is_err() {
                return;
            }
        }
    };
    if !(targets.is_empty() && invalid.is_empty())
        && batches
            .blocking_send(Parsed::Batch(targets, invalid))
            .is_err()
    {
        return;
    }
    if let Some(last) = last {
        let _ = batches.blocking_send(last);
    }
}

/// Stores the batches as they come and builds the report.
async fn store(
    state: &ApiState,
    mut batches: mpsc::Receiver<Parsed>,
    max_rows: usize,
) -> Result<ImportReport, ApiError> {
    let mut report = ImportReport::default();
    while let Some(parsed) = batches.recv().await {
        match parsed {
            Parsed::Batch(targets, invalid) => {
                report.skipped_invalid_total += invalid.len();
                let room = MAX_LISTED.saturating_sub(report.skipped_invalid.len());
                report
                    .skipped_invalid
                    .extend(invalid.into_iter().take(room));
                if targets.is_empty() {
                    continue;
                }
                let inserted = state.store.insert_targets(targets).await?;
                report.created += inserted.created.len();
                report.skipped_duplicate_total += inserted.duplicates.len();
                let room = MAX_LISTED.saturating_sub(report.skipped_duplicate.len());
                report
                    .skipped_duplicate
                    .extend(inserted.duplicates.into_iter().take(room));
            }
            Parsed::Refused(e) => return Err(e),
            Parsed::TooMany(rows) => {
                return Err(ApiError::invalid(
                    "targets",
                    format!(
                        "at most {max_rows} rows per CSV import, got more ({rows} read); the \
                         first {max_rows} rows were stored ({} created): split the file",
                        report.created
                    ),
                ))
            }
        }
    }
    Ok(report)
}

/// The body as a `Read` for the parser thread: it waits for the next chunk, and refuses a
/// line longer than [`MAX_LINE`] so that one row cannot hold unbounded memory.
struct ChunkReader {
    chunks: mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
    line: usize,
}

impl ChunkReader {
    fn new(chunks: mpsc::Receiver<std::io::Result<Bytes>>) -> ChunkReader {
        ChunkReader {
            chunks,
            current: Bytes::new(),
            line: 0,
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        let taken = self.current.split_to(n);
        match taken.iter().rposition(|&b| b == b'\n') {
            Some(i) => self.line = n - i - 1,
            None => self.line += n,
        }
        if self.line > MAX_LINE {
            return Err(std::io::Error::other(format!(
                "a line is longer than {MAX_LINE} bytes"
            )));
        }
        buf[..n].copy_from_slice(&taken);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(chunks: Vec<std::io::Result<Bytes>>) -> ChunkReader {
        let (tx, rx) = mpsc::channel(chunks.len().max(1));
        for c in chunks {
            tx.try_send(c).expect("room");
        }
        ChunkReader::new(rx)
    }

    #[test]
    fn chunks_read_in_order_and_end_when_the_body_ends() {
        let mut r = reader(vec![
            Ok(Bytes::from_static(b"ab")),
            Ok(Bytes::new()),
            Ok(Bytes::from_static(b"c\nd")),
        ]);
        let mut text = String::new();
        r.read_to_string(&mut text).expect("readable");
        assert_eq!(text, "abc\nd");
    }

    #[test]
    fn a_line_past_the_bound_is_refused() {
        let long = Bytes::from(vec![b'x'; MAX_LINE + 1]);
        let mut r = reader(vec![Ok(long)]);
        let mut sink = Vec::new();
        let e = r.read_to_end(&mut sink).map_err(|e| e.to_string());
        assert_eq!(e, Err(format!("a line is longer than {MAX_LINE} bytes")));
    }
}
