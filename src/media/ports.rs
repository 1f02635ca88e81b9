//! RTP port allocation from the `[media] rtp_ports` range.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// Random even ports tried before scanning the whole range.
const RANDOM_TRIES: usize = 8;

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

    fn even_count(&self) -> usize {
        self.even_ports().count()
    }

    /// Binds a UDP socket on `ip` at an even port of the range: a few random picks first
    /// (cheap when the range is mostly free), then a scan from a random start.
    pub fn bind(&self, ip: IpAddr) -> Result<tokio::net::UdpSocket, PortError> {
        let count = self.even_count();
        let start = self.first + self.first % 2;
        let nth = |i: usize| start + (i % count) as u16 * 2;
        for _ in 0..RANDOM_TRIES {
            if let Some(socket) = try_bind(ip, nth(rand::random::<usize>() % count))? {
                return Ok(socket);
            }
        }
        let offset = rand::random::<usize>() % count;
        for i in 0..count {
            if let Some(socket) = try_bind(ip, nth(offset + i))? {
                return Ok(socket);
            }
        }
        Err(PortError::Exhausted {
            first: self.first,
            last: self.last,
        })
    }
}

/// `Ok(None)` when the port is taken.
fn try_bind(ip: IpAddr, port: u16) -> Result<Option<tokio::net::UdpSocket>, PortError> {
    match std::net::UdpSocket::bind(SocketAddr::new(ip, port)) {
        Ok(socket) => {
            socket.set_nonblocking(true).map_err(PortError::Bind)?;
            tokio::net::UdpSocket::from_std(socket)
                .map(Some)
                .map_err(PortError::Bind)
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

    #[tokio::test]
    async fn binds_even_ports_until_the_range_is_exhausted() {
        // Four even ports in a high range that nothing else on the machine uses.
        let range: PortRange = "47301-47308".parse().unwrap();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mut held = Vec::new();
        while let Ok(socket) = range.bind(ip) {
            let port = socket.local_addr().unwrap().port();
            assert_eq!(port % 2, 0);
            assert!((47301..=47308).contains(&port));
            held.push(socket);
            assert!(held.len() <= 4);
        }
        // Another process may hold one of them; at least most must be ours.
        assert!(held.len() >= 3, "{}", held.len());
        assert!(matches!(range.bind(ip), Err(PortError::Exhausted { .. })));
    }
}
