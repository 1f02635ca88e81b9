//! The media of a bridged call: one tokio task owns both legs' RTP sockets (the callee's,
//! through the trunk, and the agent's) and relays RTP between them. Each direction goes out
//! as the relay's own stream (its SSRC, sequence numbers and timestamps running on across a
//! change of source), transcoded between PCMU and PCMA when the legs negotiated different
//! codecs, with RFC 4733 telephone-events carried over to the other leg's payload type.
//! Only each leg's negotiated far end is heard. The call sends commands (hold, resume, a new
//! remote, recording) and reads events; RTP never leaves the task, and relaying a packet
//! allocates nothing.

pub mod packet;
pub mod rewrite;
pub mod stats;
pub mod totals;
pub mod transcode;

use crate::media::dtmf::Detector;
use crate::media::g711::Codec;
use crate::media::ids::{MediaTime, SeqNo, Ssrc};
use crate::media::peer::Peer;
use crate::media::ports::PortLease;
use crate::media::recording::{Recorder, RecordingOutcome};
use crate::media::session::Handover;
use crate::sdp::RemoteMedia;
use packet::{RtpView, HEADER_LEN};
use rewrite::OutStream;
use stats::{LegCounters, Reception};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use uuid::Uuid;

/// Commands waiting for the task.
const COMMAND_CAPACITY: usize = 32;
/// Events waiting for the call.
const EVENT_CAPACITY: usize = 64;
/// Receive buffer: larger than any sane RTP packet.
const RECV_BUFFER: usize = 2048;
/// How often the task checks for silent legs and moves the recording's clock on.
const HOUSEKEEPING: Duration = Duration::from_millis(100);
/// Datagrams read off one socket in a row before the task looks at the rest again.
const BATCH: usize = 16;
/// Datagrams from strangers are logged at most this often per leg.
const FOREIGN_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// One of the two legs of a bridged call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The answered callee, through the trunk (channel 1 of a recording).
    Callee,
    /// The agent's softphone (channel 2 of a recording).
    Agent,
}

impl Side {
    /// Both sides, callee first.
    pub const BOTH: [Side; 2] = [Side::Callee, Side::Agent];

    fn index(self) -> usize {
        match self {
            Side::Callee => 0,
            Side::Agent => 1,
        }
    }
}

/// How a relay behaves.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// A leg whose far end sends nothing for this long → [`RelayEvent::RtpTimeout`].
    pub rtp_timeout: Duration,
    /// Symmetric RTP for legs built with [`Leg::new`] (see [`Peer`]).
    pub latching: bool,
    /// Where recordings are written (`<uuid>.wav`).
    pub recordings_dir: PathBuf,
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            rtp_timeout: Duration::from_secs(30),
            latching: false,
            recordings_dir: PathBuf::from("recordings"),
        }
    }
}

/// What the relay tells the call.
#[derive(Debug, Clone)]
pub enum RelayEvent {
    /// A far end sent an RFC 4733 digit (relayed to the other leg when it takes events).
    Digit {
        /// Who pressed it.
        side: Side,
        /// The digit.
        digit: char,
    },
    /// Nothing arrived from the leg's far end for `rtp_timeout` (once per silence).
    RtpTimeout {
        /// The silent leg.
        side: Side,
    },
    /// A recording ended: stopped, replaced, the relay stopped, or it failed (a full disk:
    /// the call goes on).
    Recording(RecordingOutcome),
}

/// The relay has ended; the command was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("media relay stopped")]
pub struct RelayClosed;

/// Commands from the call to its relay.
#[derive(Debug)]
enum RelayCommand {
    Hold(Side),
    Resume(Side),
    UpdateRemote(Side, RemoteMedia),
    StartRecording(Uuid),
    StopRecording,
    Stop,
}

/// Counters of a relay, per leg (relaxed atomics: for statistics, not ordering).
#[derive(Debug, Default)]
pub struct RelayCounters {
    legs: [LegCounters; 2],
    /// Events dropped because the call was not reading them.
    pub events_dropped: AtomicU64,
}

impl RelayCounters {
    /// One leg's counters.
    pub fn leg(&self, side: Side) -> &LegCounters {
        &self.legs[side.index()]
    }
}

/// The call's side of a relay. Dropping every clone stops it.
#[derive(Debug, Clone)]
pub struct RelayHandle {
    commands: mpsc::Sender<RelayCommand>,
    counters: Arc<RelayCounters>,
}

impl RelayHandle {
    /// Stops relaying to `side` (packets from it still reach the other leg).
    pub fn hold(&self, side: Side) -> Result<(), RelayClosed> {
        self.send(RelayCommand::Hold(side))
    }

    /// Relays to `side` again; its first packet carries the marker bit.
    pub fn resume(&self, side: Side) -> Result<(), RelayClosed> {
        self.send(RelayCommand::Resume(side))
    }

    /// Applies `side`'s new SDP (a re-INVITE or UPDATE the call accepted): its address is
    /// the only one heard and sent to from now on, its codec and telephone-event payload
    /// type are used from the next packet; a far end that will not receive gets nothing.
    pub fn update_remote(&self, side: Side, remote: RemoteMedia) -> Result<(), RelayClosed> {
        self.send(RelayCommand::UpdateRemote(side, remote))
    }

    /// Starts recording both legs to `<recordings_dir>/<id>.wav` (replacing a recording
    /// already running, which ends as if stopped) and returns the id.
    pub fn start_recording(&self) -> Result<Uuid, RelayClosed> {
        let id = Uuid::new_v4();
        self.send(RelayCommand::StartRecording(id))?;
        Ok(id)
    }

    /// Stops the recording; [`RelayEvent::Recording`] follows once the file is complete.
    pub fn stop_recording(&self) -> Result<(), RelayClosed> {
        self.send(RelayCommand::StopRecording)
    }

    /// Ends the relay: its ports go back to the pool, each with its socket.
    pub fn stop(&self) -> Result<(), RelayClosed> {
        self.send(RelayCommand::Stop)
    }

    /// Waits until the task has ended and given its ports back.
    pub async fn stopped(&self) {
        self.commands.closed().await;
    }

    /// The relay's counters.
    pub fn counters(&self) -> &RelayCounters {
        &self.counters
    }

    fn send(&self, command: RelayCommand) -> Result<(), RelayClosed> {
        self.commands.try_send(command).map_err(|_| RelayClosed)
    }
}

/// One leg as it joins the relay: its socket, port, negotiated far end and the stream the
/// far end has been hearing.
#[derive(Debug)]
pub struct Leg {
    socket: UdpSocket,
    port: Option<PortLease>,
    remote: RemoteMedia,
    peer: Option<Peer>,
    stream: OutStream,
}

impl Leg {
    /// A leg that had no media session: a fresh stream with random ids.
    pub fn new(socket: UdpSocket, port: Option<PortLease>, remote: RemoteMedia) -> Leg {
        Leg {
            socket,
            port,
            remote,
            peer: None,
            stream: OutStream::new(
                Ssrc(rand::random()),
                SeqNo(rand::random()),
                MediaTime(rand::random()),
            ),
        }
    }

    /// The leg a media session handed over: the far end keeps hearing the session's stream
    /// (same SSRC, sequence numbers and timestamps running on), and what the session learnt
    /// about the far end's address is kept.
    pub fn from_session(handover: Handover) -> Leg {
        Leg {
            socket: handover.socket,
            port: handover.port,
            remote: handover.remote,
            peer: Some(handover.peer),
            stream: OutStream::new(handover.ssrc, handover.seq, handover.time),
        }
    }
}

/// Starts the relay between `callee` and `agent`. It owns both sockets until `stop`, or
/// until every handle is dropped. Must be called inside a tokio runtime.
pub fn spawn(
    callee: Leg,
    agent: Leg,
    config: RelayConfig,
) -> (RelayHandle, mpsc::Receiver<RelayEvent>) {
    let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
    let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
    let counters = Arc::new(RelayCounters::default());
    let now = Instant::now();
    let [callee, agent] = [callee, agent].map(|leg| {
        let state = LegState {
            peer: leg
                .peer
                .unwrap_or_else(|| Peer::new(leg.remote.addr, leg.remote.on_hold, config.latching)),
            remote: leg.remote,
            out: leg.stream,
            reception: Reception::default(),
            detector: Detector::new(),
            held: false,
            last_heard: now,
            timed_out: false,
            foreign_unlogged: 0,
            foreign_logged_at: None,
        };
        (leg.socket, leg.port, state)
    });
    let task = Task {
        sockets: [callee.0, agent.0],
        legs: [callee.2, agent.2],
        counters: counters.clone(),
        events: event_tx,
        recorder: None,
        epoch: now,
        config,
        ports: [callee.1, agent.1],
    };
    totals::totals().started();
    tokio::spawn(task.run(command_rx));
    (
        RelayHandle {
            commands: command_tx,
            counters,
        },
        event_rx,
    )
}

/// What the relay knows about one leg.
struct LegState {
    remote: RemoteMedia,
    peer: Peer,
    /// The stream sent to this leg.
    out: OutStream,
    /// The far end's stream as it arrives.
    reception: Reception,
    detector: Detector,
    /// Put on hold by the call.
    held: bool,
    last_heard: Instant,
    timed_out: bool,
    foreign_unlogged: u64,
    foreign_logged_at: Option<Instant>,
}

impl LegState {
    /// Whether packets go to this leg now.
    fn receives(&self) -> bool {
        !self.held && self.remote.wants_audio()
    }
}

/// The relay task's state.
struct Task {
    sockets: [UdpSocket; 2],
    legs: [LegState; 2],
    counters: Arc<RelayCounters>,
    events: mpsc::Sender<RelayEvent>,
    recorder: Option<Recorder>,
    /// Origin of arrival times for jitter.
    epoch: Instant,
    config: RelayConfig,
    /// Given back with `sockets` when the task ends.
    ports: [Option<PortLease>; 2],
}

impl Task {
    async fn run(mut self, mut commands: mpsc::Receiver<RelayCommand>) {
        let mut clock = tokio::time::interval(HOUSEKEEPING);
        clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut callee_buf = [0u8; RECV_BUFFER];
        let mut agent_buf = [0u8; RECV_BUFFER];
        let mut send_buf = [0u8; RECV_BUFFER];
        let now = Instant::now();
        for leg in &mut self.legs {
            leg.last_heard = now;
        }
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(RelayCommand::Stop) | None => break,
                    Some(command) => self.command(command),
                },
                _ = clock.tick() => self.housekeeping(Instant::now()),
                received = self.sockets[0].recv_from(&mut callee_buf) => {
                    if let Ok((len, from)) = received {
                        self.on_datagram(0, len, from, &mut callee_buf, &mut send_buf).await;
                    }
                }
                received = self.sockets[1].recv_from(&mut agent_buf) => {
                    if let Ok((len, from)) = received {
                        self.on_datagram(1, len, from, &mut agent_buf, &mut send_buf).await;
                    }
                }
            }
        }
        for side in 0..2 {
            if self.legs[side].foreign_unlogged > 0 {
                self.log_foreign(side, None);
            }
        }
        if let Some(recorder) = self.recorder.take() {
            recorder.stop(Instant::now());
        }
        self.counters
            .legs
            .iter()
            .for_each(|leg| leg.report_metrics());
        totals::totals().ended(&self.counters);
        // Each socket goes back with its port (one with none is closed), then the command
        // channel is closed (which `stopped` awaits).
        let Task { sockets, ports, .. } = self;
        for (socket, port) in sockets.into_iter().zip(ports) {
            if let Some(port) = port {
                port.end_with(socket);
            }
        }
        drop(commands);
    }

    fn command(&mut self, command: RelayCommand) {
        match command {
            RelayCommand::Hold(side) => {
                let leg = &mut self.legs[side.index()];
                leg.held = true;
                leg.out.interrupt();
            }
            RelayCommand::Resume(side) => self.legs[side.index()].held = false,
            RelayCommand::UpdateRemote(side, remote) => {
                let leg = &mut self.legs[side.index()];
                leg.peer.update(remote.addr, remote.on_hold);
                if remote.will_send() && !leg.remote.will_send() {
                    // The far end sends again: its silence counts from now.
                    leg.last_heard = Instant::now();
                    leg.timed_out = false;
                }
                if !remote.wants_audio() {
                    leg.out.interrupt();
                }
                leg.remote = remote;
            }
            RelayCommand::StartRecording(id) => {
                let now = Instant::now();
                if let Some(previous) = self.recorder.take() {
                    previous.stop(now);
                }
                let events = self.events.clone();
                let counters = self.counters.clone();
                self.recorder = Some(Recorder::start(
                    &self.config.recordings_dir,
                    id,
                    now,
                    move |outcome| {
                        emit(&events, &counters, RelayEvent::Recording(outcome));
                    },
                ));
            }
            RelayCommand::StopRecording => {
                if let Some(recorder) = self.recorder.take() {
                    recorder.stop(Instant::now());
                }
            }
            RelayCommand::Stop => {}
        }
    }

    fn housekeeping(&mut self, now: Instant) {
        for side in Side::BOTH {
            let leg = &mut self.legs[side.index()];
            if leg.remote.will_send()
                && !leg.timed_out
                && now.duration_since(leg.last_heard) >= self.config.rtp_timeout
            {
                leg.timed_out = true;
                emit(
                    &self.events,
                    &self.counters,
                    RelayEvent::RtpTimeout { side },
                );
            }
        }
        if let Some(recorder) = self.recorder.as_mut() {
            if recorder.clock(now).is_err() {
                self.recorder = None;
            }
        }
    }

    /// Relays the datagram in `recv_buf` that arrived on leg `side`, then whatever else is
    /// already waiting on that socket (a few at most), without going back to `select!`.
    async fn on_datagram(
        &mut self,
        side: usize,
        len: usize,
        from: SocketAddr,
        recv_buf: &mut [u8; RECV_BUFFER],
        send_buf: &mut [u8; RECV_BUFFER],
    ) {
        let (mut len, mut from) = (len, from);
        for _ in 0..BATCH {
            let received_at = Instant::now();
            if let Some((out_len, target)) =
                self.relay(side, &recv_buf[..len], from, received_at, send_buf)
            {
                let other = 1 - side;
                let counters = &self.counters.legs[other];
                match self.sockets[other]
                    .send_to(&send_buf[..out_len], target)
                    .await
                {
                    Ok(_) => {
                        counters.sent.fetch_add(1, Ordering::Relaxed);
                        counters.add_delay(received_at.elapsed());
                    }
                    Err(_) => {
                        counters.send_failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            match self.sockets[side].try_recv_from(recv_buf) {
                Ok((l, f)) => (len, from) = (l, f),
                Err(_) => break,
            }
        }
    }

    /// What to send to the other leg for a datagram from leg `side`: the packet's length in
    /// `out` and where it goes, or `None` when nothing is relayed.
    fn relay(
        &mut self,
        side: usize,
        datagram: &[u8],
        from: SocketAddr,
        now: Instant,
        out: &mut [u8; RECV_BUFFER],
    ) -> Option<(usize, SocketAddr)> {
        let counters = &self.counters.legs[side];
        if !self.legs[side].peer.accepts(from) {
            // Not the negotiated far end: its digits are not the caller's, its audio is not
            // relayed, and it gets nothing back.
            counters.foreign.fetch_add(1, Ordering::Relaxed);
            let leg = &mut self.legs[side];
            leg.foreign_unlogged += 1;
            if leg
                .foreign_logged_at
                .is_none_or(|at| now.duration_since(at) >= FOREIGN_LOG_INTERVAL)
            {
                leg.foreign_logged_at = Some(now);
                self.log_foreign(side, Some(from));
            }
            return None;
        }
        let Some(packet) = RtpView::parse(datagram) else {
            counters.malformed.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let payload = &datagram[packet.payload_start..packet.payload_end];
        counters.received.fetch_add(1, Ordering::Relaxed);
        let (this, other) = split(&mut self.legs, side);
        this.peer.heard(from);
        this.last_heard = now;
        this.timed_out = false;
        this.reception.packet(packet.ssrc, packet.seq);
        counters
            .lost
            .store(this.reception.lost(), Ordering::Relaxed);

        let not_relayed = || {
            counters.not_relayed.fetch_add(1, Ordering::Relaxed);
            None
        };
        if Some(packet.payload_type) == this.remote.telephone_event {
            if let Some(digit) = this.detector.feed(packet.timestamp, payload) {
                let side = Side::BOTH[side];
                emit(
                    &self.events,
                    &self.counters,
                    RelayEvent::Digit { side, digit },
                );
            }
            let (Some(event_pt), true) = (other.remote.telephone_event, other.receives()) else {
                other.out.interrupt();
                return not_relayed();
            };
            let target = other.peer.target()?;
            let len = HEADER_LEN + payload.len();
            let out = out.get_mut(..len)?;
            other.out.rewrite(now, &packet, event_pt).write(out);
            out[HEADER_LEN..].copy_from_slice(payload);
            return Some((len, target));
        }
        let Some(codec) = Codec::from_payload_type(packet.payload_type) else {
            return not_relayed();
        };
        let arrival = now.duration_since(self.epoch).as_micros() as u64 * 8 / 1000;
        this.reception.audio(packet.timestamp, arrival);
        counters
            .jitter_us
            .store(this.reception.jitter_units() * 1000 / 8, Ordering::Relaxed);
        if let Some(recorder) = self.recorder.as_mut() {
            if recorder
                .audio(side, now, packet.ssrc, packet.timestamp, codec, payload)
                .is_err()
            {
                self.recorder = None;
            }
        }
        if !other.receives() {
            other.out.interrupt();
            return not_relayed();
        }
        let target = other.peer.target()?;
        let len = HEADER_LEN + payload.len();
        let out = out.get_mut(..len)?;
        let to = other.remote.codec;
        other
            .out
            .rewrite(now, &packet, to.payload_type())
            .write(out);
        transcode::transcode(codec, to, payload, &mut out[HEADER_LEN..]);
        Some((len, target))
    }

    /// One line for the datagrams from strangers on leg `side` since the last one.
    fn log_foreign(&mut self, side: usize, from: Option<SocketAddr>) {
        let port = self.sockets[side]
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(0);
        let leg = &mut self.legs[side];
        tracing::warn!(
            rtp_port = port,
            side = ?Side::BOTH[side],
            peer = ?leg.peer.target(),
            from = ?from,
            dropped = leg.foreign_unlogged,
            total = self.counters.legs[side].foreign.load(Ordering::Relaxed),
            "RTP from an address other than the far end's dropped"
        );
        leg.foreign_unlogged = 0;
    }
}

/// Leg `side` and the other one, both mutable.
fn split(legs: &mut [LegState; 2], side: usize) -> (&mut LegState, &mut LegState) {
    let [callee, agent] = legs;
    if side == 0 {
        (callee, agent)
    } else {
        (agent, callee)
    }
}

/// Hands an event to the call without ever blocking the relay.
fn emit(events: &mpsc::Sender<RelayEvent>, counters: &RelayCounters, event: RelayEvent) {
    if events.try_send(event).is_err() {
        counters.events_dropped.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
