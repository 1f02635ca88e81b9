//! Relay load: N relays (`media::relay`) on loopback, each between a fake callee and a fake
//! agent that send G.711 at 20 ms both ways (the agent on PCMA for a share of the calls, so
//! those are transcoded). Two plain UDP sockets play every callee and every agent; one
//! thread sends each call's packets on its own 20 ms grid (calls spread over the interval,
//! as answered calls are; the packets due together in one `sendmmsg`), another reads what the relays send with kernel arrival times.
//! Prints one JSON line: loss, the time through the relay (send → kernel arrival at the far
//! side) and its variation between consecutive packets of a stream (the jitter the relay
//! adds), the relay's own receive-to-send time, and CPU.
//!
//! Usage: relay_load CALLS [SECONDS] [TRANSCODED_PERCENT]
//!        (CALLS ≤ 3000, SECONDS 2..=30, default 10 s and 50 %; loopback only)

#[path = "support/load_timing.rs"]
mod load_timing;

use load_timing::{bind_timestamped, machine_busy_seconds, recv_timestamped};
#[path = "support/process.rs"]
mod process;
use process::cpu_by_thread;
use ringmaster::media::g711::Codec;
use ringmaster::media::relay::{self, Leg, RelayConfig, Side};
use ringmaster::sdp::{Direction, RemoteMedia};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Packet interval.
const PTIME: Duration = Duration::from_millis(20);
/// Which call and direction a relay port's packets belong to: `call * 2 + direction`
/// (0: callee → agent, arriving at the agent; 1: agent → callee).
type StreamId = u32;
/// One received packet: stream, sequence number, kernel arrival time in ns.
type Arrival = (StreamId, u16, u64);

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let seconds: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(10);
    let transcoded_pct: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(50);
    anyhow::ensure!((1..=3000).contains(&calls), "CALLS must be 1..=3000");
    anyhow::ensure!((2..=30).contains(&seconds), "SECONDS must be 2..=30");
    anyhow::ensure!(transcoded_pct <= 100, "TRANSCODED_PERCENT must be 0..=100");
    ringmaster::media::ports::raise_open_files_limit();
    let packets = (seconds * 1000 / PTIME.as_millis() as u64) as usize;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("relay-worker")
        .build()?;
    let callee_end = bind_timestamped()?;
    let agent_end = bind_timestamped()?;
    let (callee_addr, agent_addr) = (callee_end.local_addr()?, agent_end.local_addr()?);

    // The relays, and which stream each relay port's packets are.
    let mut stream_of_port = vec![u32::MAX; 65536];
    let mut targets = Vec::with_capacity(calls);
    let mut transcoded = 0;
    let handles = runtime.block_on(async {
        let mut handles = Vec::with_capacity(calls);
        for call in 0..calls {
            let a = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let b = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let (a_addr, b_addr) = (a.local_addr()?, b.local_addr()?);
            // Spread evenly: call i is transcoded when the running share steps up at it.
            let agent_codec = if (call + 1) * transcoded_pct / 100 != call * transcoded_pct / 100 {
                transcoded += 1;
                Codec::Pcma
            } else {
                Codec::Pcmu
            };
            stream_of_port[b_addr.port() as usize] = call as u32 * 2;
            stream_of_port[a_addr.port() as usize] = call as u32 * 2 + 1;
            targets.push((a_addr, b_addr, agent_codec));
            let (handle, events) = relay::spawn(
                Leg::new(a, None, far_end(callee_addr, Codec::Pcmu)),
                Leg::new(b, None, far_end(agent_addr, agent_codec)),
                RelayConfig::default(),
            );
            drop(events);
            handles.push(handle);
        }
        anyhow::Ok(handles)
    })?;

    let send_times: Arc<Vec<AtomicU64>> = Arc::new(
        (0..calls * 2 * packets)
            .map(|_| AtomicU64::new(0))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let (callee_end, agent_end) = (Arc::new(callee_end), Arc::new(agent_end));
    let receiver = {
        let (stop, sockets) = (stop.clone(), [callee_end.clone(), agent_end.clone()]);
        let capacity = calls * 2 * packets + 1024;
        std::thread::Builder::new()
            .name("relay-load-rx".into())
            .spawn(move || receive(&sockets, &stream_of_port, &stop, capacity))?
    };
    let cpu_before = cpu_by_thread();
    let busy_before = machine_busy_seconds();
    let wall = Instant::now();
    let sender = {
        let send_times = send_times.clone();
        let (callee_end, agent_end) = (callee_end.clone(), agent_end.clone());
        std::thread::Builder::new()
            .name("relay-load-tx".into())
            .spawn(move || send(&callee_end, &agent_end, &targets, packets, &send_times))?
    };
    let (sent, send_failed, late_ms, sender_cpu) = sender
        .join()
        .map_err(|_| anyhow::anyhow!("sender panicked"))?;
    std::thread::sleep(Duration::from_millis(300));
    let cpu_after = cpu_by_thread();
    let busy_after = machine_busy_seconds();
    let elapsed = wall.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let arrivals = receiver
        .join()
        .map_err(|_| anyhow::anyhow!("receiver panicked"))?;

    // The relays' own view: receive-to-send time, and what they dropped.
    let mut relay_delay = [0u64; relay::stats::DELAY_BUCKETS_US.len() + 1];
    let (mut relayed, mut dropped) = (0u64, 0u64);
    for h in &handles {
        for side in Side::BOTH {
            let s = h.counters().leg(side).snapshot();
            relayed += s.sent;
            dropped += s.dropped() + s.send_failed;
            for (total, n) in relay_delay.iter_mut().zip(s.delay) {
                *total += n;
            }
        }
        let _ = h.stop();
    }
    let relay_p99 = relay::stats::LegStats {
        delay: relay_delay,
        ..Default::default()
    }
    .delay_quantile_us(0.99);
    drop(runtime);

    let figures = analyse(arrivals, &send_times, packets);
    let pct = |v: &[f64], p: f64| {
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let ms = |v: &[f64]| {
        serde_json::json!({
            "p50": round3(pct(v, 0.50)), "p99": round3(pct(v, 0.99)),
            "max": round3(v.last().copied().unwrap_or(0.0)),
        })
    };
    let cpu = |name: &str| {
        let before: f64 = cpu_before.iter().filter(|t| t.0 == name).map(|t| t.1).sum();
        let after: f64 = cpu_after.iter().filter(|t| t.0 == name).map(|t| t.1).sum();
        ((after - before) / elapsed * 100.0).round()
    };
    let own_cpu: f64 = {
        let before: f64 = cpu_before.iter().map(|t| t.1).sum();
        let after: f64 = cpu_after.iter().map(|t| t.1).sum();
        (after - before) / elapsed * 100.0
    };
    println!(
        "{}",
        serde_json::json!({
            "calls": calls,
            "transcoded_calls": transcoded,
            "seconds": seconds,
            "packets_per_second": calls * 2 * 50,
            "packets_sent": sent,
            "send_failed": send_failed,
            "packets_received": figures.received,
            "lost": sent.saturating_sub(figures.received),
            "relayed": relayed,
            "dropped_by_relays": dropped,
            "misaligned": figures.misaligned,
            "delay_ms": ms(&figures.delays),
            "added_jitter_ms": ms(&figures.jitter),
            "relay_receive_to_send_p99_us": relay_p99,
            "sender_late_max_ms": round3(late_ms),
            "cpu_pct": {
                "relay_workers": cpu("relay-worker"),
                "sender": (sender_cpu / elapsed * 100.0).round(),
                "receiver": cpu("relay-load-rx"),
                "others": ((busy_after - busy_before - sender_cpu) / elapsed * 100.0 - own_cpu).max(0.0).round(),
            },
        })
    );
    Ok(())
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn far_end(addr: SocketAddr, codec: Codec) -> RemoteMedia {
    RemoteMedia {
        addr,
        codec,
        telephone_event: Some(101),
        direction: Direction::SendRecv,
        on_hold: false,
    }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Sends `packets` packets each way for every call on its own 20 ms grid (the calls spread
/// evenly over the interval); records each packet's send time. The packets due together go
/// out in one `sendmmsg` per socket, so the sender's own cost stays small next to the
/// relays'. Returns packets sent, sends refused, how late (ms) the sender fell behind its
/// grid at worst, and its CPU seconds.
fn send(
    callee_end: &UdpSocket,
    agent_end: &UdpSocket,
    targets: &[(SocketAddr, SocketAddr, Codec)],
    packets: usize,
    send_times: &[AtomicU64],
) -> (u64, u64, f64, f64) {
    let calls = targets.len();
    let start = Instant::now() + Duration::from_millis(50);
    let (mut sent, mut failed, mut late) = (0u64, 0u64, Duration::ZERO);
    let mut batches = [Batch::new(), Batch::new()];
    for k in 0..packets {
        let mut call = 0;
        while call < calls {
            let due = start + PTIME * k as u32 + PTIME * call as u32 / calls as u32;
            let now = Instant::now();
            if due > now + HORIZON {
                std::thread::sleep(due - now);
                continue;
            }
            late = late.max(now.saturating_duration_since(due));
            // Every call due within the horizon goes in this batch (a little early rather
            // than a thread that spins between calls; the send time is what is measured).
            while call < calls && batches[0].len < BATCH {
                let due = start + PTIME * k as u32 + PTIME * call as u32 / calls as u32;
                if due > now + HORIZON {
                    break;
                }
                let (to_a, to_b, agent_codec) = targets[call];
                batches[0].push(to_a, Codec::Pcmu, k, (call * 2) as u32);
                batches[1].push(to_b, agent_codec, k, (call * 2 + 1) as u32);
                call += 1;
            }
            let at = now_ns();
            for (batch, socket) in batches.iter_mut().zip([callee_end, agent_end]) {
                for &stream in &batch.streams[..batch.len] {
                    send_times[stream as usize * packets + k].store(at, Ordering::Relaxed);
                }
                let (ok, refused) = batch.flush(socket);
                sent += ok;
                failed += refused;
            }
        }
    }
    (
        sent,
        failed,
        late.as_secs_f64() * 1000.0,
        thread_cpu_seconds(),
    )
}

/// The sender sends what is due this soon, then sleeps until the next call is.
const HORIZON: Duration = Duration::from_millis(1);

/// Packets sent with one `sendmmsg`.
const BATCH: usize = 64;

/// Packets waiting to go out on one socket together.
struct Batch {
    len: usize,
    packets: Box<[[u8; 12 + 160]; BATCH]>,
    to: [libc::sockaddr_in; BATCH],
    streams: [StreamId; BATCH],
}

impl Batch {
    fn new() -> Batch {
        Batch {
            len: 0,
            packets: Box::new([[0u8; 12 + 160]; BATCH]),
            // SAFETY: plain data.
            to: unsafe { std::mem::zeroed() },
            streams: [0; BATCH],
        }
    }

    fn push(&mut self, to: SocketAddr, codec: Codec, k: usize, stream: StreamId) {
        let i = self.len;
        fill(&mut self.packets[i], codec, k, stream);
        let SocketAddr::V4(v4) = to else {
            return;
        };
        self.to[i] = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        self.streams[i] = stream;
        self.len += 1;
    }

    /// Sends the batch; returns packets sent and refused.
    fn flush(&mut self, socket: &UdpSocket) -> (u64, u64) {
        let n = std::mem::take(&mut self.len);
        let mut iov: Vec<libc::iovec> = (0..n)
            .map(|i| libc::iovec {
                iov_base: self.packets[i].as_mut_ptr() as *mut libc::c_void,
                iov_len: 12 + 160,
            })
            .collect();
        // SAFETY: plain data; every pointer set below outlives the call.
        let mut msgs: Vec<libc::mmsghdr> = (0..n).map(|_| unsafe { std::mem::zeroed() }).collect();
        for (i, m) in msgs.iter_mut().enumerate() {
            m.msg_hdr.msg_name = &mut self.to[i] as *mut libc::sockaddr_in as *mut libc::c_void;
            m.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            m.msg_hdr.msg_iov = &mut iov[i];
            m.msg_hdr.msg_iovlen = 1;
        }
        let mut done = 0;
        while done < n {
            // SAFETY: `msgs[done..]` are valid headers pointing at live buffers.
            let rc = unsafe {
                libc::sendmmsg(
                    socket.as_raw_fd(),
                    msgs[done..].as_mut_ptr(),
                    (n - done) as libc::c_uint,
                    0,
                )
            };
            if rc <= 0 {
                break;
            }
            done += rc as usize;
        }
        (done as u64, (n - done) as u64)
    }
}

/// CPU seconds (user + system) of the calling thread.
fn thread_cpu_seconds() -> f64 {
    // SAFETY: plain data filled in by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// Packet `k` of a stream: sequence number `k`, timestamp `k × 160`, a tone's bytes.
fn fill(packet: &mut [u8; 12 + 160], codec: Codec, k: usize, ssrc: u32) {
    packet[0] = 0x80;
    packet[1] = codec.payload_type();
    packet[2..4].copy_from_slice(&(k as u16).to_be_bytes());
    packet[4..8].copy_from_slice(&((k * 160) as u32).to_be_bytes());
    packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
    for (i, b) in packet[12..].iter_mut().enumerate() {
        let sample = ((i as f64 * 2.0 * std::f64::consts::PI / 20.0).sin() * 8000.0) as i16;
        *b = codec.encode(sample);
    }
}

/// Reads both far ends until `stop`, every millisecond, with kernel arrival times.
fn receive(
    sockets: &[Arc<UdpSocket>; 2],
    stream_of_port: &[u32],
    stop: &AtomicBool,
    capacity: usize,
) -> Vec<Arrival> {
    let mut out = Vec::with_capacity(capacity);
    let mut buf = [0u8; 1500];
    let mut control = [0u64; 16];
    while !stop.load(Ordering::Relaxed) {
        for socket in sockets {
            while let Some((n, port, at)) = recv_timestamped(socket, &mut buf, &mut control) {
                let stream = stream_of_port[port as usize];
                if n >= 12 && stream != u32::MAX {
                    out.push((stream, u16::from_be_bytes([buf[2], buf[3]]), at));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    out
}

/// What the receivers saw, in ms.
struct Figures {
    received: u64,
    /// Packets that could not be matched to their send time.
    misaligned: u64,
    /// Send → arrival, every packet, sorted.
    delays: Vec<f64>,
    /// |change in delay| between consecutive packets of a stream, sorted.
    jitter: Vec<f64>,
}

fn analyse(mut arrivals: Vec<Arrival>, send_times: &[AtomicU64], packets: usize) -> Figures {
    let received = arrivals.len() as u64;
    arrivals.sort_unstable_by_key(|a| (a.0, a.2));
    let mut delays = Vec::with_capacity(arrivals.len());
    let mut jitter = Vec::with_capacity(arrivals.len());
    let mut misaligned = 0;
    let mut i = 0;
    while i < arrivals.len() {
        let stream = arrivals[i].0;
        // The relay's stream numbers its first packet at random: the first to arrive is
        // packet 0 (a loss there shows in `lost` anyway).
        let first_seq = arrivals[i].1;
        let mut previous: Option<(usize, f64)> = None;
        while i < arrivals.len() && arrivals[i].0 == stream {
            let (_, seq, at) = arrivals[i];
            i += 1;
            let k = seq.wrapping_sub(first_seq) as usize;
            let sent = if k < packets {
                send_times[stream as usize * packets + k].load(Ordering::Relaxed)
            } else {
                0
            };
            if sent == 0 || at < sent {
                misaligned += 1;
                continue;
            }
            let delay = (at - sent) as f64 / 1e6;
            delays.push(delay);
            if let Some((pk, pd)) = previous {
                if k == pk + 1 {
                    jitter.push((delay - pd).abs());
                }
            }
            previous = Some((k, delay));
        }
    }
    delays.sort_by(f64::total_cmp);
    jitter.sort_by(f64::total_cmp);
    Figures {
        received,
        misaligned,
        delays,
        jitter,
    }
}
