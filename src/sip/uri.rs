//! Small, allocation-free readers of the URI text inside headers (Contact, Record-Route, trunk
//! URIs): what a driver needs to know where to send a request.

use std::net::{IpAddr, SocketAddr};

/// The transport a URI asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// SIP over UDP (unreliable: transactions retransmit).
    Udp,
    /// SIP over TCP (reliable: Content-Length framing).
    Tcp,
}

impl TransportKind {
    /// The token used in Via headers (`UDP`, `TCP`).
    pub fn via_token(self) -> &'static str {
        match self {
            TransportKind::Udp => "UDP",
            TransportKind::Tcp => "TCP",
        }
    }

    /// Whether the transport itself delivers reliably (timers A, E, G are not used).
    pub fn is_reliable(self) -> bool {
        matches!(self, TransportKind::Tcp)
    }
}

/// The URI inside a name-addr (`"Bob" <sip:b@h>;tag=1` → `sip:b@h`), or the value itself.
pub fn uri_of(name_addr: &str) -> &str {
    match (name_addr.find('<'), name_addr.find('>')) {
        (Some(l), Some(r)) if l < r => &name_addr[l + 1..r],
        _ => name_addr.split(';').next().unwrap_or(name_addr).trim(),
    }
}

/// The host and port of a `sip:`/`sips:` URI; the port defaults to 5060.
pub fn host_port(uri: &str) -> Option<(&str, u16)> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))?;
    let rest = rest.split(['?']).next()?;
    let hostport = match rest.rfind('@') {
        Some(i) => &rest[i + 1..],
        None => rest,
    };
    let hostport = hostport.split(';').next()?;
    if let Some(v6) = hostport.strip_prefix('[') {
        let end = v6.find(']')?;
        let host = &v6[..end];
        if host.is_empty() {
            return None;
        }
        let port = match v6[end + 1..].strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => 5060,
        };
        return Some((host, port));
    }
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 5060),
    };
    (!host.is_empty()).then_some((host, port))
}

/// The socket address of a URI whose host is an IP literal.
pub fn socket_addr(uri: &str) -> Option<SocketAddr> {
    let (host, port) = host_port(uri)?;
    let ip: IpAddr = host.parse().ok()?;
    Some(SocketAddr::new(ip, port))
}

/// The `transport` URI parameter, defaulting to UDP.
pub fn transport(uri: &str) -> TransportKind {
    let params = uri.split(['?']).next().unwrap_or(uri);
    let is_tcp = params.split(';').skip(1).any(|p| {
        p.split_once('=').is_some_and(|(k, v)| {
            k.trim().eq_ignore_ascii_case("transport") && v.trim().eq_ignore_ascii_case("tcp")
        })
    });
    if is_tcp {
        TransportKind::Tcp
    } else {
        TransportKind::Udp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_uris_resolve_to_addresses_and_transports() {
        let c = "<sip:callee@127.0.0.1:5090;transport=TCP>;expires=60";
        let uri = uri_of(c);
        assert_eq!(uri, "sip:callee@127.0.0.1:5090;transport=TCP");
        assert_eq!(socket_addr(uri), Some("127.0.0.1:5090".parse().unwrap()));
        assert_eq!(transport(uri), TransportKind::Tcp);
        assert_eq!(
            host_port("sip:[2001:db8::1]:5070"),
            Some(("2001:db8::1", 5070))
        );
        assert_eq!(
            host_port("sip:trunk.example.com"),
            Some(("trunk.example.com", 5060))
        );
        assert_eq!(transport("sip:h"), TransportKind::Udp);
        assert_eq!(host_port("tel:+15551234567"), None);
        assert_eq!(host_port("sip:"), None, "a URI without a host");
        assert_eq!(host_port("sip:+1555@:5070"), None);
        assert_eq!(host_port("sip:[]:5070"), None);
    }
}
