//! RTP port allocation from the `[media] rtp_ports` range.

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

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

/// Ports taken by something else tried per [`PortPool::bind`] before giving up.
const FOREIGN_TRIES: usize = 16;

/// Datagrams read off a kept socket before it is used again; one holding more is closed and
/// its port bound afresh.
const DRAIN_MAX: usize = 64;

/// The range's even ports as a queue of free ones: a call takes the port free the longest
/// (so a port is not reused while stray packets of its last call may still arrive) and gives
/// it back when its [`PortLease`] drops. Binding is O(1) however full the range is, and
/// [`available`](PortPool::available) lets the dialer pace on free ports instead of failing
/// calls once the range runs out.
///
/// A port whose socket no media session took (the call was never answered, or its flow
/// needed no media) comes back with the socket still bound, and the next call on that port
/// uses it after reading off whatever arrived meanwhile: most attempts are never answered,
/// and a socket, a bind and a close for each was a large part of an attempt's cost. At most
/// `keep_max` sockets are kept open this way (see [`PortPool::new`]).
#[derive(Debug)]
pub struct PortPool {
    range: PortRange,
    keep_max: usize,
    free: Mutex<Free>,
}

#[derive(Debug, Default)]
struct Free {
    ports: VecDeque<(u16, Option<Kept>)>,
    /// How many of `ports` hold a socket.
    kept: usize,
}

/// A bound socket and the address it is bound on.
#[derive(Debug)]
struct Kept {
    socket: std::net::UdpSocket,
    ip: IpAddr,
}

/// A port taken from a [`PortPool`], with its socket once bound; dropping it gives the port
/// back, with the socket if it is still here.
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<PortPool>,
    port: u16,
    socket: Option<Kept>,
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

    /// Takes the socket for a media session: it is closed when the session is over, and the
    /// port goes back without it.
    pub fn take_socket(&mut self) -> Option<std::net::UdpSocket> {
        self.socket.take().map(|k| k.socket)
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.give_back(self.port, self.socket.take());
    }
}

impl PortPool {
    /// Every even port of `range` free, in a random rotation (two nodes on one host started
    /// together do not collide port by port). Up to half the process's open-file limit, less
    /// what the rest of the node needs, goes to kept sockets.
    pub fn new(range: PortRange) -> Arc<PortPool> {
        let keep_max = (open_files_limit() / 2).saturating_sub(256);
        PortPool::keeping(range, keep_max)
    }

    /// A pool that keeps at most `keep_max` sockets open between calls.
    pub fn keeping(range: PortRange, keep_max: usize) -> Arc<PortPool> {
        let mut ports: VecDeque<(u16, Option<Kept>)> =
            range.even_ports().map(|p| (p, None)).collect();
        let len = ports.len();
        ports.rotate_left(rand::random::<usize>() % len.max(1));
        Arc::new(PortPool {
            range,
            keep_max,
            free: Mutex::new(Free { ports, kept: 0 }),
        })
    }

    /// Ports free (some may turn out taken by other processes).
    pub fn available(&self) -> usize {
        self.queue().ports.len()
    }

    /// Free ports whose socket is kept open.
    pub fn kept(&self) -> usize {
        self.queue().kept
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Free> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn give_back(&self, port: u16, socket: Option<Kept>) {
        let mut free = self.queue();
        let socket = socket.filter(|_| free.kept < self.keep_max);
        free.kept += usize::from(socket.is_some());
        free.ports.push_back((port, socket));
    }

    /// Takes the port free the longest, without binding it yet.
    pub fn take(self: &Arc<Self>) -> Option<PortLease> {
        let (port, socket) = {
            let mut free = self.queue();
            let (port, socket) = free.ports.pop_front()?;
            free.kept -= usize::from(socket.is_some());
            (port, socket)
        };
        Some(PortLease {
            pool: self.clone(),
            port,
            socket,
        })
    }

    /// A lease of the port free the longest with its socket bound on `ip`. A port some other
    /// process holds goes to the back of the queue and the next one is tried.
    pub fn bind(self: &Arc<Self>, ip: IpAddr) -> Result<PortLease, PortError> {
        for _ in 0..FOREIGN_TRIES {
            let Some(lease) = self.take() else {
                break;
            };
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
/// when the port is taken by someone else (the lease is dropped, and the port goes to the
/// back of the queue).
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
            lease.socket = Some(Kept { socket, ip });
            Ok(Some(lease))
        }
        None => Ok(None),
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
        let first = pool.queue().ports.front().unwrap().0;
        let Ok(squatter) = std::net::UdpSocket::bind(SocketAddr::new(ip, first)) else {
            return; // taken already by another process: nothing to show
        };
        let lease = pool.bind(ip).expect("the other port");
        assert_ne!(lease.port(), first);
        assert_eq!(pool.available(), 1, "the squatted port stays in the pool");
        drop(squatter);
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
}
