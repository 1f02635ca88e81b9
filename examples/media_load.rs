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
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let socket = bind_far_end()?;
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

fn bind_far_end() -> anyhow::Result<UdpSocket> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
    socket.set_recv_buffer_size(64 * 1024 * 1024)?;
    socket.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.set_nonblocking(true)?;
    let socket: UdpSocket = socket.into();
    // Kernel arrival timestamps: the reader can drain in batches without blocking on the
    // socket (a blocked reader costs every sender a wake-up) and without blurring the times.
    let on: libc::c_int = 1;
    // SAFETY: a valid socket, option and int-sized value.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            &on as *const libc::c_int as *const libc::c_void,
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    anyhow::ensure!(
        rc == 0,
        "SO_TIMESTAMPNS: {}",
        std::io::Error::last_os_error()
    );
    Ok(socket)
}

/// Records every packet (with its kernel arrival time) until `stop`, draining every 2 ms.
fn receive(socket: UdpSocket, stop: Arc<AtomicBool>, capacity: usize) -> Vec<Arrival> {
    let mut out = Vec::with_capacity(capacity);
    let mut buf = [0u8; 1500];
    let mut control = [0u64; 16];
    while !stop.load(Ordering::Relaxed) {
        while let Some((n, at)) = recv_timestamped(&socket, &mut buf, &mut control) {
            if let Some((h, _)) = parse_rtp(&buf[..n]) {
                out.push((h.ssrc, h.sequence_number, at));
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    out
}

/// One datagram and its `SCM_TIMESTAMPNS` arrival time in ns; `None` when none is waiting.
fn recv_timestamped(
    socket: &UdpSocket,
    buf: &mut [u8],
    control: &mut [u64; 16],
) -> Option<(usize, u64)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: msghdr is plain data; every pointer set below outlives the call.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(control) as _;
    // SAFETY: a valid socket and a msghdr pointing at live buffers.
    let n = unsafe { libc::recvmsg(socket.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return None;
    }
    let mut at = 0u64;
    // SAFETY: walking the control messages the kernel wrote into `control`.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::timespec);
                at = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Some((n as usize, at))
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

/// CPU seconds all cores spent busy (not idle or waiting for IO), from `/proc/stat`.
fn machine_busy_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else {
        return 0.0;
    };
    let Some(line) = stat.lines().next() else {
        return 0.0;
    };
    let ticks: Vec<f64> = line
        .split_ascii_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal ...
    let busy: f64 = ticks
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .take(6)
        .sum();
    busy / 100.0
}

/// CPU seconds (user + system) of each thread of this process, with its name.
fn cpu_by_thread() -> Vec<(String, f64)> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the name.
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        out.push((name, ticks / 100.0));
    }
    out
}
