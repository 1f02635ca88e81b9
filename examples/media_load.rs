//! Media load: N concurrent media sessions on loopback, each playing a speech prompt to a
//! far end that records when every packet arrives (kernel receive timestamps). Prints one JSON line with the send jitter
//! (|inter-arrival − 20 ms| over every packet of every stream), loss and CPU.
//!
//! Usage: media_load SESSIONS [SECONDS]   (SESSIONS ≤ 5000, SECONDS ≤ 30; loopback only)

use ringmaster::media::g711::Codec;
use ringmaster::media::session::parse_rtp;
use ringmaster::media::{self, SessionConfig};
use ringmaster::sdp::{Direction, RemoteMedia};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/load_timing.rs"]
mod load_timing;
use load_timing::{bind_timestamped, machine_busy_seconds, recv_timestamped};
#[path = "support/process.rs"]
mod process;
use process::cpu_by_thread;

/// Far-end sockets, each read by its own thread.
const RECEIVERS: usize = 2;

/// One received packet: stream (SSRC), sequence number, kernel arrival time in ns.
type Arrival = (u32, u16, u64);

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sessions: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let seconds: u64 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(10);
    anyhow::ensure!((1..=5000).contains(&sessions), "SESSIONS must be 1..=5000");
    anyhow::ensure!((2..=30).contains(&seconds), "SECONDS must be 2..=30");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("media-worker")
        .build()?;
    let cache = std::env::temp_dir().join("ringmaster-tts");
    let speech = runtime.block_on(media::tts(
        "This is a test of ringmaster. Please stay on the line.",
        "en-US",
        "female",
        &cache,
    ))?;
    // Repeat the speech to the run's length.
    let total = seconds as usize * 8000;
    let prompt: Arc<[i16]> = speech.iter().copied().cycle().take(total).collect();

    let stop = Arc::new(AtomicBool::new(false));
    let mut far_addrs = Vec::new();
    let mut threads = Vec::new();
    for _ in 0..RECEIVERS {
        let socket = bind_timestamped()?;
        far_addrs.push(socket.local_addr()?);
        let stop = stop.clone();
        let capacity = sessions / RECEIVERS * (seconds as usize + 2) * 50 + 1024;
        threads.push(
            std::thread::Builder::new()
                .name("media-rx".into())
                .spawn(move || receive(socket, stop, capacity))?,
        );
    }

    let cpu_before = cpu_by_thread();
    let busy_before = machine_busy_seconds();
    let wall = Instant::now();
    let handles = runtime.block_on(async {
        let mut handles = Vec::with_capacity(sessions);
        // Calls are answered at random moments, so their 20 ms clocks are out of phase:
        // start the sessions spread over one packet interval rather than all at once.
        let per_ms = sessions.div_ceil(20);
        for i in 0..sessions {
            if i > 0 && i % per_ms == 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let remote = far_end(far_addrs[i % RECEIVERS]);
            let (handle, events) = media::spawn(socket, remote, SessionConfig::default());
            drop(events);
            handle.play(i as u64, prompt.clone(), false)?;
            handles.push(handle);
        }
        tokio::time::sleep(Duration::from_secs(seconds) + Duration::from_millis(200)).await;
        anyhow::Ok(handles)
    })?;
    let cpu_after = cpu_by_thread();
    let busy_after = machine_busy_seconds();
    let elapsed = wall.elapsed().as_secs_f64();
    let sent: u64 = handles
        .iter()
        .map(|h| h.counters().sent.load(Ordering::Relaxed))
        .sum();
    for h in &handles {
        let _ = h.close();
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let mut arrivals = Vec::new();
    for t in threads {
        arrivals.extend(t.join().map_err(|_| anyhow::anyhow!("receiver panicked"))?);
    }
    drop(runtime);

    if std::env::var_os("MEDIA_LOAD_STALLS").is_some() {
        print_stalls(&arrivals);
    }
    let (jitter, received) = jitter_ms(arrivals);
    let pct = |p: f64| {
        jitter
            .get(((jitter.len() as f64 * p) as usize).min(jitter.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let cpu = |name: &str| {
        let before: f64 = cpu_before.iter().filter(|t| t.0 == name).map(|t| t.1).sum();
        let after: f64 = cpu_after.iter().filter(|t| t.0 == name).map(|t| t.1).sum();
        (after - before) / elapsed * 100.0
    };
    let own_cpu: f64 = {
        let before: f64 = cpu_before.iter().map(|t| t.1).sum();
        let after: f64 = cpu_after.iter().map(|t| t.1).sum();
        (after - before) / elapsed * 100.0
    };
    println!(
        "{}",
        serde_json::json!({
            "sessions": sessions,
            "seconds": seconds,
            "packets_sent": sent,
            "packets_received": received,
            "loss_pct": if sent > 0 { (sent.saturating_sub(received)) as f64 * 100.0 / sent as f64 } else { 0.0 },
            "jitter_ms": { "p50": round3(pct(0.50)), "p99": round3(pct(0.99)), "max": round3(jitter.last().copied().unwrap_or(0.0)) },
            "cpu_pct": {
                "media_workers": cpu("media-worker").round(),
                "receivers": cpu("media-rx").round(),
                // Everything else the machine ran meanwhile (other processes, interrupts).
                "others": ((busy_after - busy_before) / elapsed * 100.0 - own_cpu).max(0.0).round(),
            },
        })
    );
    Ok(())
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn far_end(addr: SocketAddr) -> RemoteMedia {
    RemoteMedia {
        addr,
        codec: Codec::Pcmu,
        telephone_event: Some(101),
        direction: Direction::SendRecv,
        on_hold: false,
    }
}

/// Records every packet (with its kernel arrival time) until `stop`, draining every 2 ms.
fn receive(socket: UdpSocket, stop: Arc<AtomicBool>, capacity: usize) -> Vec<Arrival> {
    let mut out = Vec::with_capacity(capacity);
    let mut buf = [0u8; 1500];
    let mut control = [0u64; 16];
    while !stop.load(Ordering::Relaxed) {
        while let Some((n, _, at)) = recv_timestamped(&socket, &mut buf, &mut control) {
            if let Some((h, _)) = parse_rtp(&buf[..n]) {
                out.push((h.ssrc, h.sequence_number, at));
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    out
}

/// Sorted |inter-arrival − 20 ms| in ms over consecutive packets of each stream, and the
/// number of packets received.
fn jitter_ms(mut arrivals: Vec<Arrival>) -> (Vec<f64>, u64) {
    let received = arrivals.len() as u64;
    arrivals.sort_unstable_by_key(|a| (a.0, a.2));
    let mut jitter = Vec::with_capacity(arrivals.len());
    for pair in arrivals.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.0 != b.0 || b.1 != a.1.wrapping_add(1) {
            continue;
        }
        let gap_ms = (b.2 - a.2) as f64 / 1e6;
        jitter.push((gap_ms - 20.0).abs());
    }
    jitter.sort_by(f64::total_cmp);
    (jitter, received)
}

/// With `MEDIA_LOAD_STALLS` set: how late packets (gap over 25 ms) spread over the run, in
/// 100 ms bins, to tell one machine-wide stall from many streams late on their own.
fn print_stalls(arrivals: &[Arrival]) {
    let mut sorted = arrivals.to_vec();
    sorted.sort_unstable_by_key(|a| (a.0, a.2));
    let base = sorted.iter().map(|a| a.2).min().unwrap_or(0);
    let mut bins = std::collections::BTreeMap::<u64, u32>::new();
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.0 == b.0 && b.2 - a.2 > 25_000_000 {
            *bins.entry((b.2 - base) / 100_000_000).or_default() += 1;
        }
    }
    eprintln!("late packets by 100 ms bin since the first packet: {bins:?}");
}
