//! The only IO of the SIP layer: sockets and the task that drives the sans-IO [`Endpoint`].
//!
//! One driver task owns the endpoint and the UDP socket; TCP connections each get a reader
//! task that frames the stream (Content-Length) and a writer task, both talking to the driver
//! over bounded channels. Callers use an [`EndpointHandle`].

mod driver;
mod tcp;

use crate::sip::dialog::DialogRecord;
use crate::sip::endpoint::{
    CallEvent, CallHandle, CallSpec, EndpointConfig, EndpointStats, Limits,
};
use crate::sip::registrar::{Binding, Credential, RegistrarConfig, Registration};
use crate::sip::transaction::TimerConfig;
use crate::sip::uri::TransportKind;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc, oneshot};

/// How to open the SIP sockets.
#[derive(Debug, Clone)]
pub struct TransportConfig {
    /// UDP address to bind (port 0 picks one).
    pub udp_bind: SocketAddr,
    /// TCP address to listen on, if any (port 0 picks one).
    pub tcp_bind: Option<SocketAddr>,
    /// The IP to advertise in Via/Contact when bound to a wildcard address.
    pub advertise: Option<IpAddr>,
    /// Kernel receive and send buffer size for the UDP socket (default 4 MiB: at thousands of
    /// calls per second the kernel default overflows in bursts while the CPU idles).
    pub udp_buffer_bytes: usize,
    /// RFC 3261 timers.
    pub timers: TimerConfig,
    /// The User-Agent we send.
    pub user_agent: String,
    /// The IPs our trunks send from: their requests are never rate-limited.
    pub trunks: Vec<IpAddr>,
    /// What requests from outside our dialogs and trunks may cost.
    pub limits: Limits,
    /// What the registrar enforces.
    pub registrar: RegistrarConfig,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            udp_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            tcp_bind: None,
            advertise: None,
            udp_buffer_bytes: 4 * 1024 * 1024,
            timers: TimerConfig::default(),
            user_agent: format!("ringmaster/{}", env!("CARGO_PKG_VERSION")),
            trunks: Vec::new(),
            limits: Limits::default(),
            registrar: RegistrarConfig::default(),
        }
    }
}

/// Errors of the transport layer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A socket could not be opened.
    #[error("cannot open SIP socket: {0}")]
    Io(#[from] io::Error),
    /// The driver task has stopped.
    #[error("SIP endpoint has stopped")]
    Stopped,
    /// The call could not be placed (its spec does not make a request); the reason says why.
    #[error("{0}")]
    NotPlaced(String),
}

/// A placed call: its handle and the stream of its events (ending with `CallEvent::Ended`).
pub struct PlacedCall {
    /// Identifies the call for `hangup`.
    pub handle: CallHandle,
    /// The call's events.
    pub events: mpsc::Receiver<CallEvent>,
}

pub(crate) enum Command {
    /// A call whose handle and event queue the caller made (`EndpointHandle::dial`).
    Dial(Box<CallSpec>, CallHandle, mpsc::Sender<CallEvent>),
    Hangup(CallHandle),
    Probe(
        String,
        SocketAddr,
        TransportKind,
        oneshot::Sender<Option<u16>>,
    ),
    /// A BYE for a dialog this endpoint does not hold (`EndpointHandle::end_dialog`).
    EndDialog(Box<DialogRecord>, oneshot::Sender<Option<u16>>),
    Stats(oneshot::Sender<EndpointStats>),
    SetCredential(Box<Credential>),
    RemoveCredential(String),
    Bindings(String, oneshot::Sender<Vec<Binding>>),
    Shutdown(oneshot::Sender<()>),
}

/// A cheap, clonable handle to a running SIP endpoint.
#[derive(Clone)]
pub struct EndpointHandle {
    commands: mpsc::Sender<Command>,
    udp: SocketAddr,
    tcp: Option<SocketAddr>,
    /// The next handle [`dial`](Self::dial) gives out (in `CallHandle::CALLER_MADE`'s space).
    next_call: Arc<AtomicU64>,
    /// Registration changes, for whoever subscribes.
    registrations: broadcast::Sender<Registration>,
}

/// Registration changes kept for a subscriber that falls behind; older ones are lost to it
/// (it sees `RecvError::Lagged` and can read the current bindings instead).
const REGISTRATION_EVENT_CAPACITY: usize = 1024;

/// Events buffered per call: a call reports at most a handful.
const CALL_EVENT_CAPACITY: usize = 16;

impl EndpointHandle {
    /// Places a call without waiting for the endpoint: the handle and the event queue are
    /// made here, so nothing comes back but the call's events. A call the endpoint cannot
    /// place (its URI does not parse) ends at once, [`LegEndCause::NotPlaced`] saying why; if
    /// the endpoint has stopped, the events end without `Ended`.
    ///
    /// [`LegEndCause::NotPlaced`]: crate::sip::endpoint::LegEndCause::NotPlaced
    pub fn dial(&self, spec: CallSpec) -> PlacedCall {
        let n = self.next_call.fetch_add(1, Ordering::Relaxed);
        let handle = CallHandle(CallHandle::CALLER_MADE | n);
        let (tx, events) = mpsc::channel(CALL_EVENT_CAPACITY);
        self.send_now(Command::Dial(Box::new(spec), handle, tx));
        PlacedCall { handle, events }
    }

    /// Hangs up a call (CANCEL while ringing, BYE once answered).
    pub async fn hangup(&self, handle: CallHandle) -> Result<(), TransportError> {
        self.send(Command::Hangup(handle)).await
    }

    /// [`hangup`](Self::hangup) without waiting.
    pub fn hangup_now(&self, handle: CallHandle) {
        self.send_now(Command::Hangup(handle));
    }

    /// Queues `command` at once when the driver's queue has room, else sends it from a task
    /// of its own on the current runtime.
    fn send_now(&self, command: Command) {
        match self.commands.try_send(command) {
            Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            Err(mpsc::error::TrySendError::Full(command)) => {
                let commands = self.commands.clone();
                tokio::spawn(async move {
                    let _ = commands.send(command).await;
                });
            }
        }
    }

    /// Sends an OPTIONS and waits for its final status (`None`: no answer).
    pub async fn probe(
        &self,
        uri: &str,
        peer: SocketAddr,
        transport: TransportKind,
    ) -> Result<Option<u16>, TransportError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Probe(uri.to_string(), peer, transport, tx))
            .await?;
        rx.await.map_err(|_| TransportError::Stopped)
    }

    /// Ends a dialog a previous process left up: sends a BYE built from `record` (CSeq one
    /// past the stored one) and waits for its final status (`None`: no answer within timer F,
    /// or the record cannot make a BYE).
    pub async fn end_dialog(&self, record: DialogRecord) -> Result<Option<u16>, TransportError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::EndDialog(Box::new(record), tx)).await?;
        rx.await.map_err(|_| TransportError::Stopped)
    }

    /// Adds or replaces who may register as `credential.username` (an agent's softphone).
    pub async fn set_credential(&self, credential: Credential) -> Result<(), TransportError> {
        self.send(Command::SetCredential(Box::new(credential)))
            .await
    }

    /// Removes a user's credential; its registered contacts are dropped with it.
    pub async fn remove_credential(&self, username: &str) -> Result<(), TransportError> {
        self.send(Command::RemoveCredential(username.to_string()))
            .await
    }

    /// The contacts `username` has registered now.
    pub async fn bindings(&self, username: &str) -> Result<Vec<Binding>, TransportError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Bindings(username.to_string(), tx))
            .await?;
        rx.await.map_err(|_| TransportError::Stopped)
    }

    /// Every registration change from now on: a user's whole set of contacts after each
    /// change (empty: offline).
    pub fn registrations(&self) -> broadcast::Receiver<Registration> {
        self.registrations.subscribe()
    }

    /// The endpoint's counters.
    pub async fn stats(&self) -> Result<EndpointStats, TransportError> {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stats(tx)).await?;
        rx.await.map_err(|_| TransportError::Stopped)
    }

    /// Stops the driver (calls in progress are abandoned) and returns once it has ended: after
    /// the requests already sent, such as the BYE of a call just hung up, are answered (re-sent
    /// meanwhile, at most 5 s), and what was queued for TCP peers is written (at most a
    /// second).
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    /// The bound UDP address.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    /// The bound TCP address, if listening.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    async fn send(&self, cmd: Command) -> Result<(), TransportError> {
        self.commands
            .send(cmd)
            .await
            .map_err(|_| TransportError::Stopped)
    }
}

/// Opens the sockets and spawns the driver task on the current tokio runtime.
pub async fn start(config: TransportConfig) -> Result<EndpointHandle, TransportError> {
    let udp = bind_udp(config.udp_bind, config.udp_buffer_bytes)?;
    let udp_addr = udp.local_addr()?;
    let tcp = match config.tcp_bind {
        Some(addr) => Some(tokio::net::TcpListener::bind(addr).await?),
        None => None,
    };
    let tcp_addr = match &tcp {
        Some(l) => Some(l.local_addr()?),
        None => None,
    };
    let advertise = |a: SocketAddr| match config.advertise {
        Some(ip) if a.ip().is_unspecified() => SocketAddr::new(ip, a.port()),
        _ => a,
    };
    let endpoint_config = EndpointConfig {
        udp: Some(advertise(udp_addr)),
        tcp: tcp_addr.map(advertise),
        timers: config.timers,
        user_agent: config.user_agent.clone(),
        trunks: config.trunks.clone(),
        limits: config.limits,
        registrar: config.registrar.clone(),
    };
    let (commands, rx) = mpsc::channel(1024);
    let (registrations, _) = broadcast::channel(REGISTRATION_EVENT_CAPACITY);
    tokio::spawn(driver::run(
        endpoint_config,
        udp,
        tcp,
        rx,
        registrations.clone(),
    ));
    Ok(EndpointHandle {
        commands,
        udp: udp_addr,
        tcp: tcp_addr,
        next_call: Arc::default(),
        registrations,
    })
}

fn bind_udp(addr: SocketAddr, buffer: usize) -> io::Result<tokio::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Best effort: the kernel caps these at net.core.{r,w}mem_max.
    let _ = socket.set_recv_buffer_size(buffer);
    let _ = socket.set_send_buffer_size(buffer);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    tokio::net::UdpSocket::from_std(socket.into())
}

/// The local IP the kernel would use to reach `peer` (no packet is sent).
pub fn local_ip_towards(peer: SocketAddr) -> io::Result<IpAddr> {
    let bind: SocketAddr = if peer.is_ipv4() {
        "0.0.0.0:0".parse().map_err(io::Error::other)?
    } else {
        "[::]:0".parse().map_err(io::Error::other)?
    };
    let s = std::net::UdpSocket::bind(bind)?;
    s.connect(peer)?;
    Ok(s.local_addr()?.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::endpoint::LegEndCause;
    use std::time::Duration;

    fn spec(request_uri: String, peer: SocketAddr) -> CallSpec {
        CallSpec {
            request_uri,
            from_uri: "sip:ringmaster@127.0.0.1".into(),
            contact_user: "ringmaster".into(),
            from_display: None,
            asserted_identity: false,
            peer,
            transport: TransportKind::Udp,
            credentials: None,
            dial_timeout: Duration::from_secs(30),
            sdp: None,
            extra_headers: Vec::new(),
            report_progress: false,
            until_first_response: None,
            call_id: None,
        }
    }

    #[tokio::test]
    async fn a_dialed_call_goes_out_under_the_handle_made_for_it() {
        let endpoint = start(TransportConfig::default()).await.expect("endpoint");
        let peer = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("peer");
        let to = peer.local_addr().expect("addr");
        let first = endpoint.dial(spec(format!("sip:+15550001@{to}"), to));
        let second = endpoint.dial(spec(format!("sip:+15550002@{to}"), to));
        assert_ne!(first.handle, second.handle);
        assert_ne!(first.handle.0 & CallHandle::CALLER_MADE, 0);
        let mut buf = [0u8; 4096];
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
            .await
            .expect("in time")
            .expect("an INVITE");
        let invite = String::from_utf8_lossy(&buf[..n]);
        assert!(invite.starts_with("INVITE sip:+1555000"), "{invite}");
        endpoint.shutdown().await;
    }

    #[tokio::test]
    async fn a_dialed_call_the_endpoint_cannot_place_ends_not_placed_saying_why() {
        let endpoint = start(TransportConfig::default()).await.expect("endpoint");
        let to: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        // No host: not a URI a request can carry.
        let mut placed = endpoint.dial(spec("sip:".into(), to));
        match placed.events.recv().await {
            Some(CallEvent::Ended(outcome)) => {
                assert!(
                    matches!(&outcome.cause, LegEndCause::NotPlaced { reason } if reason.starts_with("invalid call:")),
                    "{outcome:?}"
                );
            }
            other => panic!("expected the call's end, got {other:?}"),
        }
        assert!(placed.events.recv().await.is_none());
        endpoint.shutdown().await;
    }
}
