//! Recording a bridged call: a two-channel WAV (channel 1 the callee, channel 2 the agent),
//! 8 kHz 16-bit PCM decoded from G.711. The relay hands each received packet's bytes to a
//! bounded queue without waiting; a writer task places them on the call's clock (silence
//! where nothing came, so both channels stay aligned to the wall clock), writes through
//! blocking IO off the runtime's workers, and fixes up the header when it stops. A failed
//! write (a full disk) ends the recording with an error, never the call.

use crate::media::g711::Codec;
use std::collections::VecDeque;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use uuid::Uuid;

/// Sample rate of recordings.
pub const RATE: u32 = 8000;
/// Channels of a recording: the callee, the agent.
pub const CHANNELS: u16 = 2;
/// Size of the WAV header written.
pub const HEADER_LEN: usize = 44;
/// Chunks waiting for the writer: about 5 s of both legs at 20 ms per packet.
const QUEUE: usize = 512;
/// Bytes of one packet carried per chunk; longer payloads go in several.
const CHUNK_BYTES: usize = 320;
/// Audio may arrive this late (in samples) and still be placed; older frames are written.
const LATENESS: u64 = RATE as u64;
/// Frames are written in batches of at least this many (0.5 s), or at the end.
const WRITE_BATCH: u64 = RATE as u64 / 2;
/// A packet whose RTP time puts it this far (in samples) from the wall clock starts again
/// from the wall clock (the sender jumped, or its clock drifts).
const MAX_DRIFT: i64 = RATE as i64 / 2;
/// The most data a WAV header can describe.
const MAX_DATA_BYTES: u64 = u32::MAX as u64 - 36;

/// Why a recording stopped early.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RecordingError {
    /// The file (or its folder) could not be created.
    #[error("cannot create the recording: {0}")]
    Create(#[source] Arc<std::io::Error>),
    /// Writing failed (a full disk, an IO error).
    #[error("cannot write the recording: {0}")]
    Write(#[source] Arc<std::io::Error>),
    /// The recording reached the 4 GiB a WAV file can hold.
    #[error("the recording reached the size limit of a WAV file")]
    TooLong,
}

/// How a recording ended.
#[derive(Debug, Clone)]
pub enum RecordingOutcome {
    /// Stopped and complete.
    Finished {
        /// The id the recording was started with.
        id: Uuid,
        /// The WAV file.
        path: PathBuf,
        /// Its length in frames (8,000 per second).
        frames: u64,
    },
    /// Stopped by an error; the file holds what was written, with a valid header if the
    /// header could still be written.
    Failed {
        /// The id the recording was started with.
        id: Uuid,
        /// The WAV file.
        path: PathBuf,
        /// What went wrong.
        error: RecordingError,
    },
}

/// What the relay hands the writer.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // boxing the audio would allocate once per packet
enum Chunk {
    Audio {
        channel: u8,
        pos: u64,
        codec: Codec,
        len: u16,
        bytes: [u8; CHUNK_BYTES],
    },
    /// The wall clock (in samples since the start): what is older than the lateness allowed
    /// can be written, silence where nothing came.
    Clock(u64),
    /// The end, at this wall-clock position.
    Stop(u64),
}

/// The writer stopped (it failed); the recording is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended;

/// The relay's side of a recording.
#[derive(Debug)]
pub struct Recorder {
    chunks: mpsc::Sender<Chunk>,
    started: Instant,
    place: [Placement; 2],
}

impl Recorder {
    /// Starts recording to `<dir>/<id>.wav`; `report` is called once with the outcome.
    /// Must be called inside a tokio runtime.
    pub fn start(
        dir: &Path,
        id: Uuid,
        now: Instant,
        report: impl FnOnce(RecordingOutcome) + Send + 'static,
    ) -> Recorder {
        let (tx, rx) = mpsc::channel(QUEUE);
        let path = dir.join(format!("{id}.wav"));
        tokio::spawn(async move {
            let outcome = match create(path.clone()).await {
                Err(error) => RecordingOutcome::Failed { id, path, error },
                Ok(file) => match write(file, rx).await {
                    Ok(frames) => RecordingOutcome::Finished { id, path, frames },
                    Err(error) => RecordingOutcome::Failed { id, path, error },
                },
            };
            if let RecordingOutcome::Failed { path, error, .. } = &outcome {
                tracing::warn!(path = %path.display(), %error, "recording stopped");
            }
            report(outcome);
        });
        Recorder {
            chunks: tx,
            started: now,
            place: [Placement::default(), Placement::default()],
        }
    }

    /// A packet from leg `channel` (0 the callee, 1 the agent) received at `now`. Never
    /// waits: a full queue loses the packet (silence in the file).
    pub fn audio(
        &mut self,
        channel: usize,
        now: Instant,
        ssrc: u32,
        timestamp: u32,
        codec: Codec,
        payload: &[u8],
    ) -> Result<(), Ended> {
        let wall = self.wall(now);
        let mut pos = self.place[channel & 1].place(wall, ssrc, timestamp);
        for piece in payload.chunks(CHUNK_BYTES) {
            let mut bytes = [0u8; CHUNK_BYTES];
            bytes[..piece.len()].copy_from_slice(piece);
            self.offer(Chunk::Audio {
                channel: (channel & 1) as u8,
                pos,
                codec,
                len: piece.len() as u16,
                bytes,
            })?;
            pos += piece.len() as u64;
        }
        Ok(())
    }

    /// Moves the recording's clock on (the relay calls it every 100 ms).
    pub fn clock(&mut self, now: Instant) -> Result<(), Ended> {
        let wall = self.wall(now);
        self.offer(Chunk::Clock(wall))
    }

    /// Ends the recording at `now`; the writer completes the file on its own.
    pub fn stop(self, now: Instant) {
        let wall = self.wall(now);
        // When the queue is full the writer ends at the last position it was given.
        let _ = self.chunks.try_send(Chunk::Stop(wall));
    }

    fn wall(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.started).as_micros() as u64 * u64::from(RATE) / 1_000_000
    }

    fn offer(&self, chunk: Chunk) -> Result<(), Ended> {
        match self.chunks.try_send(chunk) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Ended),
        }
    }
}

/// Where one leg's packets go in the recording: by RTP time within a source, anchored on
/// the wall clock when a source starts or strays (pure).
#[derive(Debug, Clone, Copy, Default)]
pub struct Placement {
    /// The source, an RTP timestamp of it and the position that timestamp was put at.
    anchor: Option<(u32, u32, u64)>,
}

impl Placement {
    /// The position (in samples since the start) of a packet with `ssrc` and `timestamp`
    /// that arrived at wall-clock position `wall`.
    pub fn place(&mut self, wall: u64, ssrc: u32, timestamp: u32) -> u64 {
        if let Some((source, anchor_ts, anchor_pos)) = self.anchor {
            if source == ssrc {
                let pos = anchor_pos as i64 + i64::from(timestamp.wrapping_sub(anchor_ts) as i32);
                if pos >= 0 && (pos - wall as i64).abs() <= MAX_DRIFT {
                    return pos as u64;
                }
            }
        }
        self.anchor = Some((ssrc, timestamp, wall));
        wall
    }
}

/// The frames not yet written: two channels, silence until audio is placed (pure).
#[derive(Debug, Default)]
pub struct Frames {
    /// Position of the first frame in `window` (every frame before it is written).
    base: u64,
    window: VecDeque<[i16; 2]>,
}

impl Frames {
    /// Places decoded `samples` of `channel` at `pos`; what falls before the frames already
    /// written is dropped.
    pub fn add(&mut self, channel: usize, pos: u64, samples: &[i16]) {
        let skip = self.base.saturating_sub(pos) as usize;
        if skip >= samples.len() {
            return;
        }
        let start = (pos + skip as u64 - self.base) as usize;
        let samples = &samples[skip..];
        let end = start + samples.len();
        if self.window.len() < end {
            self.window.resize(end, [0, 0]);
        }
        for (i, &s) in samples.iter().enumerate() {
            self.window[start + i][channel & 1] = s;
        }
    }

    /// Position one past the last frame placed (or written).
    pub fn end(&self) -> u64 {
        self.base + self.window.len() as u64
    }

    /// Position of the first frame not yet written.
    pub fn written(&self) -> u64 {
        self.base
    }

    /// Moves every frame before `pos` into `out` as interleaved little-endian samples,
    /// silence where nothing was placed; returns the number of frames.
    pub fn drain_until(&mut self, pos: u64, out: &mut Vec<u8>) -> u64 {
        if pos <= self.base {
            return 0;
        }
        let n = pos - self.base;
        if (self.window.len() as u64) < n {
            self.window.resize(n as usize, [0, 0]);
        }
        for [a, b] in self.window.drain(..n as usize) {
            out.extend_from_slice(&a.to_le_bytes());
            out.extend_from_slice(&b.to_le_bytes());
        }
        self.base = pos;
        n
    }
}

/// The 44-byte header of a 2-channel 16-bit 8 kHz PCM WAV holding `data_bytes` of samples.
pub fn header(data_bytes: u32) -> [u8; HEADER_LEN] {
    let block = CHANNELS * 2;
    let mut h = [0u8; HEADER_LEN];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.saturating_add(data_bytes)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes());
    h[22..24].copy_from_slice(&CHANNELS.to_le_bytes());
    h[24..28].copy_from_slice(&RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(RATE * u32::from(block)).to_le_bytes());
    h[32..34].copy_from_slice(&block.to_le_bytes());
    h[34..36].copy_from_slice(&16u16.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

/// Creates the folder and the file (blocking IO off the runtime's workers).
async fn create(path: PathBuf) -> Result<std::fs::File, RecordingError> {
    let created = tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::File::create_new(&path)
    })
    .await;
    match created {
        Ok(Ok(file)) => Ok(file),
        Ok(Err(e)) => Err(RecordingError::Create(Arc::new(e))),
        Err(e) => Err(RecordingError::Create(Arc::new(std::io::Error::other(e)))),
    }
}

/// The writer: takes chunks until `Stop` (or until the relay is gone), writes the frames
/// through `out` in batches, and fixes the header up at the end. Returns the frames written.
async fn write<W>(out: W, chunks: mpsc::Receiver<Chunk>) -> Result<u64, RecordingError>
where
    W: Write + Seek + Send + 'static,
{
    let mut sink = Sink {
        out: Some(out),
        data_bytes: 0,
    };
    sink.header().await?;
    let result = collect(&mut sink, chunks).await;
    // Whatever happened, make the header describe what is in the file.
    let fixed = sink.header().await;
    let frames = result?;
    fixed?;
    Ok(frames)
}

async fn collect<W>(
    sink: &mut Sink<W>,
    mut chunks: mpsc::Receiver<Chunk>,
) -> Result<u64, RecordingError>
where
    W: Write + Seek + Send + 'static,
{
    let mut frames = Frames::default();
    let mut decoded = [0i16; CHUNK_BYTES];
    let mut end = 0;
    loop {
        let until = match chunks.recv().await {
            Some(Chunk::Audio {
                channel,
                pos,
                codec,
                len,
                bytes,
            }) => {
                let len = usize::from(len).min(CHUNK_BYTES);
                for (d, &b) in decoded.iter_mut().zip(&bytes[..len]) {
                    *d = codec.decode(b);
                }
                frames.add(usize::from(channel), pos, &decoded[..len]);
                end = end.max(frames.end());
                // However the clock goes, do not hold more than a few seconds.
                frames.end().saturating_sub(LATENESS * 4)
            }
            Some(Chunk::Clock(wall)) => {
                end = end.max(wall);
                wall.saturating_sub(LATENESS)
            }
            Some(Chunk::Stop(wall)) => {
                let last = wall.max(frames.end());
                let mut buf = Vec::new();
                frames.drain_until(last, &mut buf);
                sink.run(buf).await?;
                return Ok(frames.written());
            }
            None => {
                let last = end.max(frames.end());
                let mut buf = Vec::new();
                frames.drain_until(last, &mut buf);
                sink.run(buf).await?;
                return Ok(frames.written());
            }
        };
        if until >= frames.written() + WRITE_BATCH {
            let mut buf = Vec::with_capacity(((until - frames.written()) * 4) as usize);
            frames.drain_until(until, &mut buf);
            sink.run(buf).await?;
        }
    }
}

/// The file, moved into a blocking thread for each write.
struct Sink<W> {
    out: Option<W>,
    data_bytes: u64,
}

impl<W: Write + Seek + Send + 'static> Sink<W> {
    /// Appends samples.
    async fn run(&mut self, bytes: Vec<u8>) -> Result<(), RecordingError> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self.data_bytes + bytes.len() as u64 > MAX_DATA_BYTES {
            return Err(RecordingError::TooLong);
        }
        self.data_bytes += bytes.len() as u64;
        self.blocking(move |out| out.write_all(&bytes)).await
    }

    /// Writes the header with the size of the samples in the file (whole frames: a write
    /// that failed half way may have left part of one), and flushes.
    async fn header(&mut self) -> Result<(), RecordingError> {
        self.blocking(move |out| {
            let end = out.seek(SeekFrom::End(0))?;
            let data = end.saturating_sub(HEADER_LEN as u64).min(MAX_DATA_BYTES);
            let data = data - data % u64::from(CHANNELS * 2);
            out.seek(SeekFrom::Start(0))?;
            out.write_all(&header(data as u32))?;
            out.flush()?;
            out.seek(SeekFrom::Start(HEADER_LEN as u64 + data))?;
            Ok(())
        })
        .await
    }

    /// Runs `op` on the file in a blocking thread.
    async fn blocking(
        &mut self,
        op: impl FnOnce(&mut W) -> std::io::Result<()> + Send + 'static,
    ) -> Result<(), RecordingError> {
        let Some(mut out) = self.out.take() else {
            // A write panicked earlier; the file is gone.
            return Err(RecordingError::Write(Arc::new(std::io::Error::other(
                "recording file lost",
            ))));
        };
        let joined = tokio::task::spawn_blocking(move || {
            let r = op(&mut out);
            (out, r)
        })
        .await;
        match joined {
            Ok((out, result)) => {
                self.out = Some(out);
                result.map_err(|e| RecordingError::Write(Arc::new(e)))
            }
            Err(e) => Err(RecordingError::Write(Arc::new(std::io::Error::other(e)))),
        }
    }
}

#[cfg(test)]
#[path = "recording_tests.rs"]
mod tests;
