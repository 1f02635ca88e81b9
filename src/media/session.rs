//! One call leg's media: a tokio task that owns the leg's RTP socket, paces outgoing packets
//! at 20 ms, detects RFC 4733 digits, analyses the far end's audio for an answering machine
//! when asked, and watches for a silent far end. The call talks to it
//! through a [`MediaHandle`] and hears from it on a bounded event channel; RTP itself never
//! leaves the task.

use crate::media::amd;
use crate::media::dtmf::Detector;
use crate::media::event::MediaEvent;
use crate::media::ids::{MediaTime, SeqNo, Ssrc};
use crate::media::outbound::{Outbound, MAX_PACKET};
use crate::media::peer::Peer;
use crate::media::ports::PortLease;
use crate::media::relay::stats::Reception;
use crate::sdp::RemoteMedia;
use rtp::header::Header;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::ReadBuf;
use tokio::net::UdpSocket;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, MissedTickBehavior};
use webrtc_util::marshal::Unmarshal;

/// Packet interval.
pub const PTIME: Duration = Duration::from_millis(20);
/// When the task falls this far behind its clock, it skips ahead instead of bursting.
const MAX_CATCH_UP: Duration = Duration::from_millis(100);
/// Commands waiting for the task.
const COMMAND_CAPACITY: usize = 32;
/// Events waiting for the call.
const EVENT_CAPACITY: usize = 64;
/// Receive buffer: larger than any sane RTP packet.
const RECV_BUFFER: usize = 2048;
/// Packets may arrive this late before the time they would have covered counts as silence
/// for answering-machine detection, ms.
const AMD_JITTER_MS: u64 = 100;
/// An RTP timestamp further than this from the first packet's (a minute) is not placed.
const AMD_MAX_OFFSET_MS: u64 = 60_000;
/// One packet's worth of audio, ms.
const FRAME_MS: u64 = amd::FRAME_MS;
/// Datagrams from strangers are logged at most this often per session.
const FOREIGN_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// How a session behaves.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// No packet from the far end for this long → [`MediaEvent::RtpTimeout`].
    pub rtp_timeout: Duration,
    /// Symmetric RTP: the first packet from the SDP's IP may name the port the far end
    /// really uses, which then gets our packets (see [`Peer`]). Off: only the SDP's
    /// address and port are heard and sent to.
    pub latching: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            rtp_timeout: Duration::from_secs(30),
            latching: false,
        }
    }
}

/// The session has ended; the command was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("media session closed")]
pub struct SessionClosed;

/// Commands from the call to its session.
#[derive(Debug)]
enum MediaCommand {
    Play {
        id: u64,
        samples: Arc<[i16]>,
        interruptible: bool,
    },
    StopPlayback,
    UpdateRemote(RemoteMedia),
    SendDigits {
        digits: String,
        duration_ms: u32,
        interval_ms: u32,
    },
    DetectMachine {
        id: u64,
        settings: amd::Settings,
    },
    Close,
    HandOver(oneshot::Sender<Handover>),
}

/// What a session gives up when its leg joins a [relay](super::relay): the socket (and its
/// port), the far end as negotiated and learnt, and where its stream had got to, so the far
/// end keeps hearing one stream.
#[derive(Debug)]
pub struct Handover {
    /// The leg's RTP socket.
    pub socket: UdpSocket,
    /// The port the socket holds, when it came from the pool.
    pub port: Option<PortLease>,
    /// The far end's SDP as last applied.
    pub remote: RemoteMedia,
    /// Whose datagrams were taken (with what latching learnt).
    pub peer: Peer,
    /// The stream's SSRC.
    pub ssrc: Ssrc,
    /// The next sequence number.
    pub seq: SeqNo,
    /// The next slot's media time.
    pub time: MediaTime,
}

/// Counters a session keeps (relaxed atomics: read them for statistics, not for ordering).
#[derive(Debug, Default)]
pub struct MediaCounters {
    /// RTP packets sent.
    pub sent: AtomicU64,
    /// RTP packets received and accepted.
    pub received: AtomicU64,
    /// Datagrams dropped as malformed (not RTP version 2, truncated, bad padding).
    pub malformed: AtomicU64,
    /// Datagrams dropped because they came from somewhere other than the negotiated far end.
    pub foreign: AtomicU64,
    /// Packets the socket refused to send (an unreachable far end, a full buffer).
    pub send_failed: AtomicU64,
    /// Events dropped because the call was not reading them.
    pub events_dropped: AtomicU64,
    /// Something for the task in the command channel (a command, or a handle dropped): set
    /// after it, cleared by the task before it reads the channel. Beside `sent`, which the
    /// task changes at each slot anyway, so that a slot with nothing to take costs no read
    /// of the channel.
    waiting: AtomicBool,
}

impl MediaCounters {
    /// Whether the command channel may hold something, clearing the mark.
    fn take_waiting(&self) -> bool {
        self.waiting.load(Ordering::Relaxed) && self.waiting.swap(false, Ordering::Acquire)
    }

    fn mark_waiting(&self) {
        self.waiting.store(true, Ordering::Release);
    }
}

/// The call's side of a media session. Dropping every clone closes the session.
#[derive(Debug, Clone)]
pub struct MediaHandle {
    commands: mpsc::Sender<MediaCommand>,
    counters: Arc<MediaCounters>,
}

impl MediaHandle {
    /// Plays 8 kHz mono samples, replacing any prompt already playing.
    pub fn play(
        &self,
        id: u64,
        samples: Arc<[i16]>,
        interruptible: bool,
    ) -> Result<(), SessionClosed> {
        self.send(MediaCommand::Play {
            id,
            samples,
            interruptible,
        })
    }

    /// Stops the current prompt (reported as interrupted).
    pub fn stop_playback(&self) -> Result<(), SessionClosed> {
        self.send(MediaCommand::StopPlayback)
    }

    /// Applies the far end's new SDP (a re-INVITE or UPDATE the call accepted): packets go to
    /// its address with its payload types from the next slot on, with the same SSRC and
    /// running sequence numbers. Only the new address is heard from then on (with latching
    /// on, its first packet from the SDP's IP decides the port again).
    /// A far end that will not receive (`sendonly`, `inactive`, `c=0.0.0.0`) gets no packets
    /// and holds the prompt where it is until an update lets it receive again; one that will
    /// not send (`recvonly`, `inactive`) cannot time out until an update says it sends again,
    /// and the RTP timeout then counts from that update.
    pub fn update_remote(&self, remote: RemoteMedia) -> Result<(), SessionClosed> {
        self.send(MediaCommand::UpdateRemote(remote))
    }

    /// Sends digits as RFC 4733 events, each `duration_ms` long with `interval_ms` between.
    pub fn send_digits(
        &self,
        digits: &str,
        duration_ms: u32,
        interval_ms: u32,
    ) -> Result<(), SessionClosed> {
        self.send(MediaCommand::SendDigits {
            digits: digits.to_string(),
            duration_ms,
            interval_ms,
        })
    }

    /// Starts answering-machine detection on the far end's audio from now on (replacing one
    /// under way); its result comes as [`MediaEvent::MachineDetected`].
    pub fn detect_machine(&self, id: u64, settings: amd::Settings) -> Result<(), SessionClosed> {
        self.send(MediaCommand::DetectMachine { id, settings })
    }

    /// Ends the session and releases its socket.
    pub fn close(&self) -> Result<(), SessionClosed> {
        self.send(MediaCommand::Close)
    }

    /// Ends the session and hands its socket, port, far end and stream position over (to
    /// a relay): a prompt still playing finishes as interrupted, and the session's other
    /// handles see it closed.
    pub async fn hand_over(&self) -> Result<Handover, SessionClosed> {
        let (tx, rx) = oneshot::channel();
        self.send(MediaCommand::HandOver(tx))?;
        rx.await.map_err(|_| SessionClosed)
    }

    /// The session's counters.
    pub fn counters(&self) -> &MediaCounters {
        &self.counters
    }

    fn send(&self, command: MediaCommand) -> Result<(), SessionClosed> {
        // Commands are a handful per call; a full queue means the task is gone or stuck.
        self.commands.try_send(command).map_err(|_| SessionClosed)?;
        self.counters.mark_waiting();
        Ok(())
    }
}

impl Drop for MediaHandle {
    fn drop(&mut self) {
        // The last handle gone closes the session: the task looks at the channel.
        self.counters.mark_waiting();
    }
}

/// Starts the media task for one call leg. It owns `socket` until `close`, or until every
/// handle is dropped. Must be called inside a tokio runtime.
pub fn spawn(
    socket: UdpSocket,
    remote: RemoteMedia,
    config: SessionConfig,
) -> (MediaHandle, mpsc::Receiver<MediaEvent>) {
    spawn_holding(socket, None, remote, config)
}

/// [`spawn`] for a socket bound at a port of a [`PortPool`](super::ports::PortPool): the
/// task holds `port` until it ends, and then gives the port back with the socket, for the
/// next call on that port to use again (or, handed over, the relay holds both).
pub fn spawn_holding(
    socket: UdpSocket,
    port: Option<PortLease>,
    remote: RemoteMedia,
    config: SessionConfig,
) -> (MediaHandle, mpsc::Receiver<MediaEvent>) {
    let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
    let counters = Arc::new(MediaCounters::default());
    let outbound = Outbound::new(
        Ssrc(rand::random()),
        SeqNo(rand::random()),
        MediaTime(rand::random()),
        remote.codec,
        remote.telephone_event,
        remote.wants_audio(),
    );
    let task = Task {
        socket,
        reception: Reception::default(),
        epoch: Instant::now(),
        peer: Peer::new(remote.addr, remote.on_hold, config.latching),
        remote: remote.clone(),
        foreign_unlogged: 0,
        foreign_logged_at: None,
        event_pt: remote.telephone_event,
        watch_silence: remote.will_send(),
        timeout: config.rtp_timeout,
        last_heard: Instant::now(),
        timed_out: false,
        outbound,
        detector: Detector::new(),
        amd: None,
        events: event_tx,
        counters: counters.clone(),
        port,
    };
    tokio::spawn(task.run(command_rx));
    (
        MediaHandle {
            commands: command_tx,
            counters,
        },
        event_rx,
    )
}

/// The session task's state.
struct Task {
    socket: UdpSocket,
    /// The far end's stream, for loss and jitter.
    reception: Reception,
    /// Origin of arrival times for jitter.
    epoch: Instant,
    /// Whose datagrams are taken, and where packets go.
    peer: Peer,
    /// The far end's SDP as last applied (for a hand-over).
    remote: RemoteMedia,
    /// Datagrams from strangers not yet logged.
    foreign_unlogged: u64,
    /// When strangers were last logged.
    foreign_logged_at: Option<Instant>,
    event_pt: Option<u8>,
    /// Whether the far end said it sends, so that its silence means trouble.
    watch_silence: bool,
    timeout: Duration,
    /// When the far end was last heard (or began to be watched).
    last_heard: Instant,
    /// `RtpTimeout` was reported for the current silence.
    timed_out: bool,
    outbound: Outbound,
    detector: Detector,
    /// Answering-machine detection under way.
    amd: Option<Box<MachineDetection>>,
    events: mpsc::Sender<MediaEvent>,
    counters: Arc<MediaCounters>,
    /// Given back with `socket` when the task ends.
    port: Option<PortLease>,
}

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<MediaCommand>) {
        let mut clock = tokio::time::interval(PTIME);
        clock.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut recv_buf = [0u8; RECV_BUFFER];
        let mut send_buf = [0u8; MAX_PACKET];
        self.last_heard = Instant::now();
        let mut hand_over = None;
        'run: loop {
            tokio::select! {
                // The clock first, then the socket: a flood of inbound datagrams must not
                // delay outgoing packets.
                biased;
                due = clock.tick() => {
                    // Commands are taken at each slot, just before its packet: packets only
                    // leave at slots, so what a command changes goes out at the same slot as
                    // had it been taken when it came. The task does not wake for the command
                    // channel, and reads it only when a handle has marked something waiting.
                    while self.counters.take_waiting() {
                        match commands.try_recv() {
                            Ok(MediaCommand::Close) | Err(TryRecvError::Disconnected) => {
                                break 'run
                            }
                            Ok(MediaCommand::HandOver(reply)) => {
                                hand_over = Some(reply);
                                break 'run;
                            }
                            Ok(command) => {
                                self.command(command);
                                // Read again: there may be more.
                                self.counters.mark_waiting();
                            }
                            Err(TryRecvError::Empty) => {}
                        }
                    }
                    let now = Instant::now();
                    if now.duration_since(due) > MAX_CATCH_UP {
                        // Far behind (a stalled runtime): skip this slot rather than burst a
                        // backlog of stale audio; media time still moves on.
                        let mut skip = [0u8; MAX_PACKET];
                        self.outbound.tick(&mut skip, &mut |e| emit(&self.events, &self.counters, e));
                        continue;
                    }
                    self.send_slot(&mut send_buf).await;
                    self.amd_tick(now);
                    if self.watch_silence
                        && !self.timed_out
                        && now.duration_since(self.last_heard) >= self.timeout
                    {
                        self.timed_out = true;
                        self.emit(MediaEvent::RtpTimeout);
                    }
                }
                received = std::future::poll_fn(|cx| {
                    // Polled in place: no waiter to register and unlink at each wake-up.
                    let mut buf = ReadBuf::new(&mut recv_buf);
                    self.socket
                        .poll_recv_from(cx, &mut buf)
                        .map_ok(|from| (buf.filled().len(), from))
                }) => {
                    if let Ok((len, from)) = received {
                        if self.receive(&recv_buf[..len], from) {
                            self.last_heard = Instant::now();
                            self.timed_out = false;
                        }
                    }
                }
            }
        }
        if self.foreign_unlogged > 0 {
            self.log_foreign(None);
        }
        crate::metrics::global().rtp(self.totals());
        // Report a prompt cut short by the close, so nobody waits on it.
        let (events, counters) = (&self.events, &self.counters);
        self.outbound.stop(&mut |e| emit(events, counters, e));
        if let Some(reply) = hand_over {
            let (ssrc, seq, time) = self.outbound.position();
            // Unanswered, the socket and port drop here: closed, then given back.
            let _ = reply.send(Handover {
                socket: self.socket,
                port: self.port,
                remote: self.remote,
                peer: self.peer,
                ssrc,
                seq,
                time,
            });
        } else if let Some(port) = self.port {
            // The socket goes back with its port rather than being closed: the next call on
            // the port needs no new socket.
            port.end_with(self.socket);
        }
    }

    fn command(&mut self, command: MediaCommand) {
        let (events, counters) = (&self.events, &self.counters);
        let mut emit = |e| emit(events, counters, e);
        match command {
            MediaCommand::Play {
                id,
                samples,
                interruptible,
            } => self.outbound.play(id, samples, interruptible, &mut emit),
            MediaCommand::StopPlayback => self.outbound.stop(&mut emit),
            MediaCommand::UpdateRemote(remote) => {
                self.remote = remote.clone();
                self.peer.update(remote.addr, remote.on_hold);
                self.event_pt = remote.telephone_event;
                self.outbound.update(
                    remote.codec,
                    remote.telephone_event,
                    remote.wants_audio(),
                    &mut emit,
                );
                let watch = remote.will_send();
                if watch && !self.watch_silence {
                    // The far end sends again: its silence counts from now.
                    self.last_heard = Instant::now();
                    self.timed_out = false;
                }
                self.watch_silence = watch;
            }
            MediaCommand::SendDigits {
                digits,
                duration_ms,
                interval_ms,
            } => self
                .outbound
                .send_digits(&digits, duration_ms, interval_ms, &mut emit),
            MediaCommand::DetectMachine { id, settings } => {
                self.amd = Some(Box::new(MachineDetection {
                    id,
                    detector: amd::Detector::new(settings),
                    started: Instant::now(),
                    first: None,
                    samples: Vec::with_capacity(RECV_BUFFER),
                }));
            }
            MediaCommand::Close | MediaCommand::HandOver(_) => {}
        }
    }

    /// Time without the far end's audio counts as silence for the detection under way.
    fn amd_tick(&mut self, now: Instant) {
        let Some(run) = self.amd.as_mut() else {
            return;
        };
        let elapsed = now.saturating_duration_since(run.started).as_millis() as u64;
        let detection = run.detector.advance(elapsed.saturating_sub(AMD_JITTER_MS));
        self.amd_result(detection);
    }

    /// The far end's audio packet, for the detection under way.
    fn amd_audio(&mut self, header: &Header, payload: &[u8]) {
        let Some(run) = self.amd.as_mut() else {
            return;
        };
        let Some(codec) = crate::sdp::Codec::from_payload_type(header.payload_type) else {
            return;
        };
        // Placed on the media clock: the first packet's arrival, then its RTP timestamps.
        let started = run.started;
        let (first_ts, first_at) = *run.first.get_or_insert_with(|| {
            let at = Instant::now()
                .saturating_duration_since(started)
                .as_millis() as u64;
            (header.timestamp, at.saturating_sub(FRAME_MS))
        });
        let offset = u64::from(header.timestamp.wrapping_sub(first_ts)) / 8;
        if offset > AMD_MAX_OFFSET_MS {
            // A timestamp from before the first packet (reordered), or a jump: not placed.
            return;
        }
        run.samples.clear();
        run.samples.extend(payload.iter().map(|&b| codec.decode(b)));
        let detection = run.detector.feed(first_at + offset, &run.samples);
        self.amd_result(detection);
    }

    fn amd_result(&mut self, detection: Option<amd::Detection>) {
        let (Some(detection), Some(run)) = (detection, self.amd.as_ref()) else {
            return;
        };
        let id = run.id;
        self.amd = None;
        self.emit(MediaEvent::MachineDetected { id, detection });
    }

    async fn send_slot(&mut self, buf: &mut [u8; MAX_PACKET]) {
        let (events, counters) = (&self.events, &self.counters);
        let len = self.outbound.tick(buf, &mut |e| emit(events, counters, e));
        let Some(target) = self.peer.target() else {
            return;
        };
        if len == 0 {
            return;
        }
        // Awaiting a UDP send returns at once unless the kernel buffer is full; a plain
        // try_send would also fail before the reactor has first seen the socket writable.
        match self.socket.send_to(&buf[..len], target).await {
            Ok(_) => {
                self.counters.sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => {
                self.counters.send_failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// What the session sent and heard, for the node's metrics.
    fn totals(&self) -> crate::metrics::RtpTotals {
        let received = self.counters.received.load(Ordering::Relaxed);
        crate::metrics::RtpTotals {
            sent: self.counters.sent.load(Ordering::Relaxed),
            received,
            lost: self.reception.lost(),
            jitter_us: (received > 0).then(|| self.reception.jitter_units() * 1000 / 8),
        }
    }

    /// Handles one datagram; returns whether it was the far end's RTP.
    fn receive(&mut self, datagram: &[u8], from: SocketAddr) -> bool {
        if !self.peer.accepts(from) {
            // Not the negotiated far end: its digits are not the callee's, and it gets
            // nothing back.
            self.counters.foreign.fetch_add(1, Ordering::Relaxed);
            self.foreign_unlogged += 1;
            let now = Instant::now();
            if self
                .foreign_logged_at
                .is_none_or(|at| now.duration_since(at) >= FOREIGN_LOG_INTERVAL)
            {
                self.log_foreign(Some(from));
                self.foreign_logged_at = Some(now);
            }
            return false;
        }
        let Some((header, payload)) = parse_rtp(datagram) else {
            self.counters.malformed.fetch_add(1, Ordering::Relaxed);
            return false;
        };
        self.counters.received.fetch_add(1, Ordering::Relaxed);
        self.peer.heard(from);
        self.reception.packet(header.ssrc, header.sequence_number);
        if Some(header.payload_type) != self.event_pt {
            let arrival = self.epoch.elapsed().as_micros() as u64 * 8 / 1000;
            self.reception.audio(header.timestamp, arrival);
        } else {
            if let Some(digit) = self.detector.feed(header.timestamp, payload) {
                self.emit(MediaEvent::Digit(digit));
                let (events, counters) = (&self.events, &self.counters);
                self.outbound.barge_in(&mut |e| emit(events, counters, e));
            }
        }
        self.amd_audio(&header, payload);
        true
    }

    fn emit(&self, event: MediaEvent) {
        emit(&self.events, &self.counters, event);
    }

    /// One line for the datagrams from strangers since the last one (`from`: the latest).
    fn log_foreign(&mut self, from: Option<SocketAddr>) {
        let port = self.socket.local_addr().map(|a| a.port()).unwrap_or(0);
        tracing::warn!(
            rtp_port = port,
            peer = ?self.peer.target(),
            from = ?from,
            dropped = self.foreign_unlogged,
            total = self.counters.foreign.load(Ordering::Relaxed),
            "RTP from an address other than the far end's dropped"
        );
        self.foreign_unlogged = 0;
    }
}

/// Answering-machine detection running on a session.
struct MachineDetection {
    id: u64,
    detector: amd::Detector,
    started: Instant,
    /// The first packet's RTP timestamp and where it was placed, ms.
    first: Option<(u32, u64)>,
    /// Decoded samples of the packet at hand.
    samples: Vec<i16>,
}

/// Hands an event to the call without ever blocking the media clock.
fn emit(events: &mpsc::Sender<MediaEvent>, counters: &MediaCounters, event: MediaEvent) {
    if events.try_send(event).is_err() {
        counters.events_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// Splits a datagram into its RTP header and payload (padding removed); `None` if it is not
/// a well-formed RTP version 2 packet.
pub fn parse_rtp(datagram: &[u8]) -> Option<(Header, &[u8])> {
    let mut reader = datagram;
    let header = Header::unmarshal(&mut reader).ok()?;
    if header.version != 2 {
        return None;
    }
    let mut payload = reader;
    if header.padding {
        let pad = *payload.last()? as usize;
        if pad == 0 || pad > payload.len() {
            return None;
        }
        payload = &payload[..payload.len() - pad];
    }
    Some((header, payload))
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
