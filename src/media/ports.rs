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

/// The range's even ports as a queue of free ones: a call takes the port free the longest
/// (so a port is not reused while stray packets of its last call may still arrive) and gives
/// it back when its [`PortLease`] drops. Binding is O(1) however full the range is, and
/// [`available`](PortPool::available) lets the dialer pace on free ports instead of failing
/// calls once the range runs out.
#[derive(Debug)]
pub struct PortPool {
    range: PortRange,
    free: Mutex<VecDeque<u16>>,
}

/// A port taken from a [`PortPool`]; dropping it gives the port back.
#[derive(Debug)]
pub struct PortLease {
    pool: Arc<PortPool>,
    port: u16,
}

impl PortLease {
    /// The port held.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.give_back(self.port);
    }
}

impl PortPool {
    /// Every even port of `range` free, in a random rotation (two nodes on one host started
    /// together do not collide port by port).
    pub fn new(range: PortRange) -> Arc<PortPool> {
        let mut free: VecDeque<u16> = range.even_ports().collect();
        let len = free.len();
        free.rotate_left(rand::random::<usize>() % len.max(1));
        Arc::new(PortPool {
            range,
            free: Mutex::new(free),
        })
    }

    /// Ports free (some may turn out taken by other processes).
    pub fn available(&self) -> usize {
        self.queue().len()
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, VecDeque<u16>> {
        self.free.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn give_back(&self, port: u16) {
        self.queue().push_back(port);
    }

    /// Takes the port free the longest, without binding it yet.
    pub fn take(self: &Arc<Self>) -> Option<PortLease> {
        let port = self.queue().pop_front()?;
        Some(PortLease {
            pool: self.clone(),
            port,
        })
    }

    /// Binds a UDP socket on `ip` at the port free the longest. A port some other process
    /// holds goes to the back of the queue and the next one is tried. The socket is
    /// non-blocking and not yet registered with the runtime: a call whose flow never needs
    /// media never pays for that.
    pub fn bind(
        self: &Arc<Self>,
        ip: IpAddr,
    ) -> Result<(std::net::UdpSocket, PortLease), PortError> {
        for _ in 0..FOREIGN_TRIES {
            let Some(lease) = self.take() else {
                break;
            };
            if let Some(socket) = try_bind(ip, lease.port)? {
                return Ok((socket, lease));
            }
        }
        Err(self.range.exhausted())
    }

    /// Binds the port `lease` holds, or another one (as [`bind`](PortPool::bind)) when some
    /// other process holds it.
    pub fn bind_leased(
        self: &Arc<Self>,
        lease: PortLease,
        ip: IpAddr,
    ) -> Result<(std::net::UdpSocket, PortLease), PortError> {
        match try_bind(ip, lease.port)? {
            Some(socket) => Ok((socket, lease)),
            None => {
                drop(lease);
                self.bind(ip)
            }
        }
    }
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
        let pool = PortPool::new(range);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(pool.available(), 4);
        let mut held = Vec::new();
        while let Ok((socket, lease)) = pool.bind(ip) {
            assert_eq!(socket.local_addr().unwrap().port(), lease.port());
            assert_eq!(lease.port() % 2, 0);
            held.push((socket, lease));
            assert!(held.len() <= 4);
        }
        // Another process may hold one of them; at least most must be ours.
        assert!(held.len() >= 3, "{}", held.len());
        assert!(matches!(pool.bind(ip), Err(PortError::Exhausted { .. })));
        let (socket, lease) = held.remove(0);
        let freed = lease.port();
        drop(socket);
        drop(lease);
        let (_, again) = pool.bind(ip).expect("the freed port");
        assert_eq!(again.port(), freed);
    }

    #[test]
    fn a_port_held_elsewhere_is_skipped_and_kept_for_later() {
        let range: PortRange = "47321-47324".parse().unwrap();
        let pool = PortPool::new(range);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        // Whichever port comes first is taken by someone else.
        let first = *pool.queue().front().unwrap();
        let Ok(squatter) = std::net::UdpSocket::bind(SocketAddr::new(ip, first)) else {
            return; // taken already by another process: nothing to show
        };
        let (_socket, lease) = pool.bind(ip).expect("the other port");
        assert_ne!(lease.port(), first);
        assert_eq!(pool.available(), 1, "the squatted port stays in the pool");
        drop(squatter);
    }
}
