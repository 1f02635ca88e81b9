//! RTP port allocation from the `[media] rtp_ports` range.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An inclusive range of UDP ports for RTP; only even ports are used (RFC 3550: RTP on
/// even, RTCP on the odd one above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

/// Why a port range cannot be used or no port could be bound.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The range text is not `low-high` with `low <= high` and an even port inside.
    #[error("invalid RTP port range {0:?} (expected e.g. \"20000-30000\")")]
    InvalidRange(String),
    /// Every even port in the range is taken.
    #[error("no free RTP port in {first}-{last}")]
    Exhausted {
        /// Range start.
        first: u16,
        /// Range end.
        last: u16,
    },
    /// Binding failed for a reason other than the port being taken.
    #[error("cannot bind RTP socket: {0}")]
    Bind(std::io::Error),
}

impl PortRange {
    /// `first..=last`, which must hold at least one even port.
    pub fn new(first: u16, last: u16) -> Result<PortRange, PortError> {
        let even_first = first.saturating_add(first % 2);
        if first == 0 || first > last || even_first > last {
            return Err(PortError::InvalidRange(format!("{first}-{last}")));
        }
        Ok(PortRange { first, last })
    }

    /// The even ports, in order.
    fn even_ports(&self) -> impl Iterator<Item = u16> {
        let start = self.first + self.first % 2;
        (start..=self.last).step_by(2)
    }

    fn exhausted(&self) -> PortError {
        PortError::Exhausted {
            first: self.first,
            last: self.last,
        }
    }
}

/// Datagrams read off a kept socket before it is used again; one holding more is closed and
/// its port bound afresh.
const DRAIN_MAX: usize = 64;

/// A port another process held is offered again after this long.
const SQUAT_RETRY: Duration = Duration::from_secs(10);

/// How many sockets a [`PortPool`] keeps open between calls, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdleSockets {
    /// Kept sockets at most (the pool also stays under half the open-file limit).
    pub max: usize,
    /// A kept socket unused for this long is closed.
    pub idle: Duration,
}

impl Default for IdleSockets {
    fn default() -> Self {
        IdleSockets {
            max: 4096,
            idle: Duration::from_secs(30),
        }
    }
}

/// The range's even ports as a queue of free ones: a call takes the port free the longest
/// (so a port is not reused while stray packets of its last call may still arrive) and gives
/// it back when its [`PortLease`] drops. Binding is O(1) however full the range is, and
/// [`available`](PortPool::available) lets the dialer pace on free ports instead of failing
/// calls once the range runs out. A port some other process holds is set aside and offered
/// again [`SQUAT_RETRY`] later; the call binds the next free one instead.
///
/// A port comes back with its socket still bound, whether no media session took it (the
/// call was never answered, or its flow needed no media) or a session gave it back at its
/// end, and the next call on that port uses it after reading off whatever arrived meanwhile:
/// a socket, a bind and a close for each attempt was a large part of its cost. At most
/// [`IdleSockets::max`] sockets are kept open this way, each for [`IdleSockets::idle`] at
/// most: under load a port comes round again well within that, and an idle node closes them.
#[derive(Debug)]
pub struct PortPool {
    range: PortRange,
    limits: IdleSockets,
    free: Mutex<Free>,
}

#[derive(Debug, Default)]
struct Free {
    /// Free ports, the one free the longest first.
    ports: VecDeque<u16>,
    /// The sockets kept open for free ports.
    kept: HashMap<u16, Kept>,
    /// Kept sockets by when they came back, oldest first; an entry whose socket was taken
    /// since (its `since` no longer matches) is skipped.
    idle: VecDeque<(u16, Instant)>,
    /// Ports another process held, oldest first, with when they were found taken.
    aside: VecDeque<(u16, Instant)>,
}

impl Free {
    /// Offers again the ports set aside long enough, and closes the sockets unused too long.
    fn maintain(&mut self, now: Instant, idle: Duration) -> usize {
        while let Some(&(port, found)) = self.aside.front() {
            if now.saturating_duration_since(found) < SQUAT_RETRY {
                break;
            }
            self.aside.pop_front();
            self.ports.push_back(port);
        }
        let mut closed = 0;
        while let Some(&(port, since)) = self.idle.front() {
            let current = self.kept.get(&port).is_some_and(|k| k.since == since);
            if current && now.saturating_duration_since(since) < idle {
                break;
            }
            self.idle.pop_front();
            if current {
                // Dropped here: the socket is closed, the port stays free.
                self.kept.remove(&port);
                closed += 1;
            }
        }
        closed
    }
}

/// A bound socket, the address it is bound on, and since when it is unused.
#[derive(Debug)]
struct Kept {
    socket: std::net::UdpSocket,
    ip: IpAddr,
    since: Instant,
}

/// A port taken from a [`PortPool`], with its socket once bound; dropping it gives the port
/// back, with the socket if it is still here.
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<PortPool>,
    port: u16,
    socket: Option<Kept>,
    /// Another process holds the port: it goes aside rather than back in the queue.
    squatted: bool,
}

impl PortLease {
    /// The port held.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port's socket, once bound (non-blocking, not registered with any runtime).
    pub fn socket(&self) -> Option<&std::net::UdpSocket> {
        self.socket.as_ref().map(|k| &k.socket)
    }

    /// Takes the socket for a media session. The session gives it back when it is over
    /// ([`give_back_socket`](PortLease::give_back_socket)); a socket not given back is
    /// closed, and the port goes back without it.
    pub fn take_socket(&mut self) -> Option<std::net::UdpSocket> {
        self.socket.take().map(|k| k.socket)
    }

    /// The socket [`take_socket`](PortLease::take_socket) took, back from a session that is
    /// over (non-blocking, no longer registered with a runtime): the port returns with it,
    /// kept as the pool keeps any, and the next call on the port reads off what it holds
    /// before using it. A socket that is not bound at this lease's port is closed instead.
    pub fn give_back_socket(&mut self, socket: std::net::UdpSocket) {
        let Ok(local) = socket.local_addr() else {
            return;
        };
        if self.socket.is_none() && local.port() == self.port {
            self.socket = Some(Kept {
                socket,
                ip: local.ip(),
                since: Instant::now(),
            });
        }
    }

    /// Ends a media task's hold on the port: `socket`, the one it took, goes back with it
    /// ([`give_back_socket`](PortLease::give_back_socket)) rather than being closed.
    pub fn end_with(mut self, socket: tokio::net::UdpSocket) {
        if let Ok(socket) = socket.into_std() {
            self.give_back_socket(socket);
        }
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        let now = Instant::now();
        if self.squatted {
            self.pool.set_aside(self.port, now);
        } else {
            self.pool.give_back(self.port, self.socket.take(), now);
        }
    }
}

impl PortPool {
    /// Every even port of `range` free, in a random rotation (two nodes on one host started
    /// together do not collide port by port), keeping sockets open between calls within the
    /// default [`IdleSockets`].
    pub fn new(range: PortRange) -> Arc<PortPool> {
        PortPool::with_idle_sockets(range, IdleSockets::default())
    }

    /// A pool that keeps sockets open between calls within `limits`, and never more than
    /// half the process's open-file limit less what the rest of the node needs.
    pub fn with_idle_sockets(range: PortRange, limits: IdleSockets) -> Arc<PortPool> {
        let fd_share = (open_files_limit() / 2).saturating_sub(256);
        PortPool::build(
            range,
            IdleSockets {
                max: limits.max.min(fd_share),
                ..limits
            },
        )
    }

    /// A pool that keeps at most `keep_max` sockets open between calls (for the default idle
    /// time).
    pub fn keeping(range: PortRange, keep_max: usize) -> Arc<PortPool> {
        PortPool::build(
            range,
            IdleSockets {
                max: keep_max,
                ..IdleSockets::default()
            },
        )
    }

    fn build(range: PortRange, limits: IdleSockets) -> Arc<PortPool> {
        let mut ports: VecDeque<u16> = range.even_ports().collect();
        let len = ports.len();
        ports.rotate_left(rand::random::<usize>() % len.max(1));
        Arc::new(PortPool {
            range,
            limits,
            free: Mutex::new(Free {
                ports,
                ..Free::default()
            }),
        })
    }

    /// Ports free (without those another process was found holding lately).
    pub fn available(&self) -> usize {
        self.queue(Instant::now()).ports.len()
    }

    /// Free ports whose socket is kept open.
    pub fn kept(&self) -> usize {
        self.queue(Instant::now()).kept.len()
    }

    /// Closes the kept sockets unused for the pool's idle time as of `now`; returns how many.
    /// Every use of the pool does this too; [`spawn_idle_sweeper`](PortPool::spawn_idle_sweeper)
    /// does it for a pool left unused.
    pub fn close_idle(&self, now: Instant) -> usize {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.maintain(now, self.limits.idle)
    }

    /// Closes idle sockets every few seconds until the pool is dropped (the task then ends).
    /// Needs a tokio runtime.
    pub fn spawn_idle_sweeper(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let pool = Arc::downgrade(self);
        let every =
            (self.limits.idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(pool) = pool.upgrade() else { break };
                let closed = pool.close_idle(Instant::now());
                if closed > 0 {
                    tracing::debug!(closed, kept = pool.kept(), "idle RTP sockets closed");
                }
            }
        })
    }

    /// The free ports, brought up to date as of `now`.
    fn queue(&self, now: Instant) -> std::sync::MutexGuard<'_, Free> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.maintain(now, self.limits.idle);
        free
    }

    fn give_back(&self, port: u16, socket: Option<Kept>, now: Instant) {
        let mut free = self.queue(now);
        free.ports.push_back(port);
        if let Some(mut kept) = socket.filter(|_| free.kept.len() < self.limits.max) {
            kept.since = now;
            free.idle.push_back((port, now));
            free.kept.insert(port, kept);
        }
    }

    fn set_aside(&self, port: u16, now: Instant) {
        self.queue(now).aside.push_back((port, now));
    }

    /// Takes the port free the longest, without binding it yet.
    pub fn take(self: &Arc<Self>) -> Option<PortLease> {
        let (port, socket) = {
            let mut free = self.queue(Instant::now());
            let port = free.ports.pop_front()?;
            let socket = free.kept.remove(&port);
            (port, socket)
        };
        Some(PortLease {
            pool: self.clone(),
            port,
            socket,
            squatted: false,
        })
    }

    /// A lease of the port free the longest with its socket bound on `ip`. A port some other
    /// process holds is set aside (and offered again later) and the next one is tried.
    pub fn bind(self: &Arc<Self>, ip: IpAddr) -> Result<PortLease, PortError> {
        // Each round takes a port out of the queue for good (bound, or set aside).
        while let Some(lease) = self.take() {
            if let Some(bound) = ready(lease, ip)? {
                return Ok(bound);
            }
        }
        Err(self.range.exhausted())
    }

    /// `lease` with its socket bound on `ip`, or another port (as [`bind`](PortPool::bind))
    /// when some other process holds this one.
    pub fn bind_leased(
        self: &Arc<Self>,
        lease: PortLease,
        ip: IpAddr,
    ) -> Result<PortLease, PortError> {
        match ready(lease, ip)? {
            Some(bound) => Ok(bound),
            None => self.bind(ip),
        }
    }
}

/// `lease` with a socket bound on `ip`: the one it kept, emptied, or a new one; `Ok(None)`
/// when the port is taken by someone else (the lease is dropped, and the port set aside).
fn ready(mut lease: PortLease, ip: IpAddr) -> Result<Option<PortLease>, PortError> {
    if let Some(kept) = lease.socket.take() {
        if kept.ip == ip && drained(&kept.socket) {
            lease.socket = Some(kept);
            return Ok(Some(lease));
        }
        // Dropped here: closed before the port is bound again.
    }
    match try_bind(ip, lease.port)? {
        Some(socket) => {
            lease.socket = Some(Kept {
                socket,
                ip,
                since: Instant::now(),
            });
            Ok(Some(lease))
        }
        None => {
            lease.squatted = true;
            Ok(None)
        }
    }
}

/// Reads off what a kept socket received since its last call; false when it would not
/// empty (or reports an error): such a socket is closed rather than used.
fn drained(socket: &std::net::UdpSocket) -> bool {
    let mut buf = [0u8; 2048];
    for _ in 0..DRAIN_MAX {
        match socket.recv_from(&mut buf) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(_) => return false,
        }
    }
    false
}

/// `Ok(None)` when the port is taken.
fn try_bind(ip: IpAddr, port: u16) -> Result<Option<std::net::UdpSocket>, PortError> {
    match std::net::UdpSocket::bind(SocketAddr::new(ip, port)) {
        Ok(socket) => {
            socket.set_nonblocking(true).map_err(PortError::Bind)?;
            Ok(Some(socket))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Ok(None),
        Err(e) => Err(PortError::Bind(e)),
    }
}

/// The process's limit on open files (its soft limit; 1,024 when it cannot be read).
pub fn open_files_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
}

/// Raises the process's soft limit on open files to its hard limit: every call in flight
/// holds an RTP socket, and the common soft default of 1,024 would refuse calls long before
/// the RTP range or the trunk runs out. Returns the limit now in force.
pub fn raise_open_files_limit() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given; setrlimit only reads it.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                tracing::warn!(
                    soft = limit.rlim_cur,
                    hard = limit.rlim_max,
                    "cannot raise the open-file limit"
                );
            }
        }
    }
    open_files_limit()
}

impl FromStr for PortRange {
    type Err = PortError;

    fn from_str(s: &str) -> Result<PortRange, PortError> {
        let invalid = || PortError::InvalidRange(s.to_string());
        let (a, b) = s.split_once('-').ok_or_else(invalid)?;
        let first = a.trim().parse().map_err(|_| invalid())?;
        let last = b.trim().parse().map_err(|_| invalid())?;
        PortRange::new(first, last).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_bad_ones_are_refused() {
        assert_eq!(
            "20000-30000".parse::<PortRange>().unwrap(),
            PortRange::new(20000, 30000).unwrap()
        );
        for bad in [
            "",
            "20000",
            "30000-20000",
            "a-b",
            "0-10",
            "21-21",
            "1-70000",
        ] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_pool_hands_out_each_port_once_and_takes_it_back_at_the_end_of_the_queue() {
        let range: PortRange = "47311-47318".parse().unwrap();
        let pool = PortPool::keeping(range, 0);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(pool.available(), 4);
        let mut held = Vec::new();
        while let Ok(lease) = pool.bind(ip) {
            let socket = lease.socket().expect("bound");
            assert_eq!(socket.local_addr().unwrap().port(), lease.port());
            assert_eq!(lease.port() % 2, 0);
            held.push(lease);
            assert!(held.len() <= 4);
        }
        // Another process may hold one of them; at least most must be ours.
        assert!(held.len() >= 3, "{}", held.len());
        assert!(matches!(pool.bind(ip), Err(PortError::Exhausted { .. })));
        let freed = held.remove(0).port();
        let again = pool.bind(ip).expect("the freed port");
        assert_eq!(again.port(), freed);
    }

    #[test]
    fn a_port_held_elsewhere_is_skipped_and_kept_for_later() {
        let range: PortRange = "47321-47324".parse().unwrap();
        let pool = PortPool::new(range);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        // Whichever port comes first is taken by someone else.
        let first = *pool.queue(Instant::now()).ports.front().unwrap();
        let Ok(squatter) = std::net::UdpSocket::bind(SocketAddr::new(ip, first)) else {
            return; // taken already by another process: nothing to show
        };
        let lease = pool.bind(ip).expect("the other port");
        assert_ne!(lease.port(), first);
        assert_eq!(pool.available(), 0, "the squatted port is set aside");
        drop(squatter);
        pool.close_idle(Instant::now() + SQUAT_RETRY);
        assert_eq!(pool.available(), 1, "and offered again later");
        let again = pool.bind(ip).expect("the port, free now");
        assert_eq!(again.port(), first);
    }

    #[test]
    fn a_block_of_ports_held_elsewhere_does_not_fail_the_call() {
        // More squatted ports in a row than a call used to try before giving up.
        let range: PortRange = "47401-47450".parse().unwrap();
        let pool = PortPool::keeping(range, 0);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let order: Vec<u16> = pool.queue(Instant::now()).ports.iter().copied().collect();
        let squatters: Vec<std::net::UdpSocket> = order[..20]
            .iter()
            .filter_map(|&p| std::net::UdpSocket::bind((ip, p)).ok())
            .collect();
        if squatters.len() < 20 {
            return; // some of the range is taken by another process already
        }
        let lease = pool.bind(ip).expect("a port past the held ones");
        assert_eq!(lease.port(), order[20]);
        assert_eq!(pool.available(), order.len() - 21);
        drop(lease);
        // The next calls do not try the held ports again until they may be free.
        let next = pool.bind(ip).expect("a port");
        assert_eq!(next.port(), order[21]);
    }

    #[test]
    fn kept_sockets_are_closed_after_the_idle_time() {
        let range: PortRange = "47351-47356".parse().unwrap();
        let limits = IdleSockets {
            max: 8,
            idle: Duration::from_secs(30),
        };
        let pool = PortPool::build(range, limits);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let (Ok(a), Ok(b)) = (pool.bind(ip), pool.bind(ip)) else {
            return; // a port of the range is taken by another process
        };
        let port_a = a.port();
        let returned = Instant::now();
        drop(a);
        drop(b);
        assert_eq!(pool.kept(), 2);
        assert_eq!(pool.close_idle(returned + Duration::from_secs(29)), 0);
        assert_eq!(pool.kept(), 2, "within the idle time");
        assert_eq!(pool.close_idle(returned + Duration::from_secs(31)), 2);
        assert_eq!(pool.kept(), 0, "closed once idle too long");
        assert_eq!(pool.available(), 3, "the ports stay free");
        // Closed for real: the port binds again from outside the pool.
        assert!(std::net::UdpSocket::bind((ip, port_a)).is_ok());
    }

    #[test]
    fn a_socket_used_again_is_not_closed_by_its_earlier_idle_time() {
        let range: PortRange = "47361-47362".parse().unwrap();
        let pool = PortPool::build(range, IdleSockets::default());
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let Ok(lease) = pool.bind(ip) else {
            return;
        };
        let first = Instant::now();
        drop(lease);
        // Taken again and given back: its idle time starts again.
        let lease = pool.bind(ip).expect("the kept port");
        std::thread::sleep(Duration::from_millis(5));
        drop(lease);
        assert_eq!(pool.kept(), 1);
        let closed = pool.close_idle(first + Duration::from_secs(30));
        assert_eq!(closed, 0, "idle for less than 30 s since its last call");
        assert_eq!(pool.kept(), 1);
    }

    #[test]
    fn the_pool_keeps_no_more_idle_sockets_than_its_limit_nor_than_the_file_limit_allows() {
        let range: PortRange = "47371-47380".parse().unwrap();
        let pool = PortPool::build(
            range,
            IdleSockets {
                max: 2,
                idle: Duration::from_secs(30),
            },
        );
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let leases: Vec<PortLease> = (0..5).filter_map(|_| pool.bind(ip).ok()).collect();
        if leases.len() < 5 {
            return;
        }
        drop(leases);
        assert_eq!(pool.kept(), 2);
        assert_eq!(pool.available(), 5);
        let huge = PortPool::with_idle_sockets(
            range,
            IdleSockets {
                max: usize::MAX,
                idle: Duration::from_secs(30),
            },
        );
        assert!(huge.limits.max <= open_files_limit() / 2);
    }

    #[tokio::test(start_paused = true)]
    async fn the_sweeper_closes_idle_sockets_of_an_unused_pool_and_ends_with_it() {
        let range: PortRange = "47381-47382".parse().unwrap();
        let pool = PortPool::build(
            range,
            IdleSockets {
                max: 8,
                idle: Duration::from_millis(200),
            },
        );
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let Ok(lease) = pool.bind(ip) else {
            return;
        };
        drop(lease);
        assert_eq!(pool.kept(), 1);
        let sweeper = pool.spawn_idle_sweeper();
        // The pool reads the real clock: give it the idle time for real, a few times over.
        for _ in 0..40 {
            if pool.kept() == 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(pool.kept(), 0);
        drop(pool);
        tokio::time::timeout(Duration::from_secs(10), sweeper)
            .await
            .expect("the sweeper ends with its pool")
            .unwrap();
    }

    #[test]
    fn a_socket_no_session_took_comes_back_open_and_is_emptied_before_its_next_call() {
        let range: PortRange = "47331-47332".parse().unwrap();
        let pool = PortPool::keeping(range, 8);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let Ok(lease) = pool.bind(ip) else {
            return; // the one port is taken by another process
        };
        let port = lease.port();
        let first = lease.socket().unwrap().local_addr().unwrap();
        drop(lease);
        assert_eq!(pool.kept(), 1, "the socket came back with its port");
        // The last call's far end sends after the call (on loopback a datagram is queued at
        // the receiver by the time `send_to` returns).
        let far = std::net::UdpSocket::bind((ip, 0)).unwrap();
        for _ in 0..3 {
            far.send_to(b"late rtp", first).unwrap();
        }
        let lease = pool.bind(ip).expect("the kept port");
        assert_eq!(lease.port(), port);
        assert_eq!(pool.kept(), 0);
        let socket = lease.socket().unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(
            socket.recv_from(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock,
            "the late packets were read off before the port was used again"
        );
        // What arrives now is the new call's.
        far.send_to(b"new call", first).unwrap();
        socket.set_nonblocking(false).unwrap();
        socket
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let (n, _) = socket.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"new call");
    }

    #[test]
    fn the_open_file_limit_is_raised_to_the_hard_one() {
        let before = open_files_limit();
        let after = raise_open_files_limit();
        assert!(after >= before, "{before} -> {after}");
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct it is given.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        if limit.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(limit.rlim_cur, limit.rlim_max);
        }
    }

    #[test]
    fn a_socket_a_session_took_is_not_kept_nor_more_than_the_pool_may_hold() {
        let range: PortRange = "47341-47346".parse().unwrap();
        let pool = PortPool::keeping(range, 1);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let (Ok(mut a), Ok(b), Ok(c)) = (pool.bind(ip), pool.bind(ip), pool.bind(ip)) else {
            return; // a port of the range is taken by another process
        };
        let session_socket = a.take_socket().expect("bound");
        drop(session_socket);
        drop(a);
        assert_eq!(
            pool.kept(),
            0,
            "a port whose socket a session closed comes back bare"
        );
        drop(b);
        drop(c);
        assert_eq!(pool.kept(), 1, "one socket kept at most");
        assert_eq!(pool.available(), 3);
        // Bare or kept, every port binds again.
        let again: Vec<PortLease> = (0..3).map(|_| pool.bind(ip).expect("a port")).collect();
        assert!(again.iter().all(|l| l.socket().is_some()));
    }

    #[test]
    fn a_socket_given_back_is_kept_only_at_its_own_port() {
        let range: PortRange = "47393-47396".parse().unwrap();
        let pool = PortPool::keeping(range, 4);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let (Ok(mut a), Ok(mut b)) = (pool.bind(ip), pool.bind(ip)) else {
            return; // a port of the range is taken by another process
        };
        let (sa, sb) = (a.take_socket().unwrap(), b.take_socket().unwrap());
        // Given back crossed over: neither is the lease's own, so both are closed.
        a.give_back_socket(sb);
        b.give_back_socket(sa);
        assert!(a.socket().is_none() && b.socket().is_none());
        drop((a, b));
        assert_eq!((pool.kept(), pool.available()), (0, 2));
        let mut c = pool.bind(ip).expect("a port");
        let sc = c.take_socket().unwrap();
        c.give_back_socket(sc);
        drop(c);
        assert_eq!(pool.kept(), 1, "its own socket is kept");
    }
}
