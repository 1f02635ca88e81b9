//! The driver task: receive, feed the core, drain its transmits and events, sleep until its
//! next deadline.

use super::tcp::{self, TcpEvent};
use super::Command;
use crate::fast::FastMap;
use crate::sip::endpoint::{
    CallEvent, CallHandle, Endpoint, EndpointConfig, EndpointEvent, LegEnd, ProbeHandle, Transmit,
};
use crate::sip::registrar::Registration;
use crate::sip::uri::TransportKind;
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{broadcast, mpsc, oneshot};

/// Most datagrams handled per wake-up before the driver looks at its other inputs.
const UDP_BATCH: usize = 256;
/// At shutdown, how long messages already queued for TCP peers may take to be written.
const TCP_CLOSE_GRACE: Duration = Duration::from_secs(1);
/// At shutdown, how long requests already sent (a hung-up call's BYE) may take to be answered,
/// re-sent as their timers say: a call is over for its owner once its BYE is sent, and a
/// process exiting right after must not leave the far end's side of the call up.
const REQUEST_GRACE: Duration = Duration::from_secs(5);

struct Driver {
    endpoint: Endpoint,
    udp: UdpSocket,
    calls: FastMap<CallHandle, mpsc::Sender<CallEvent>>,
    probes: FastMap<ProbeHandle, oneshot::Sender<Option<u16>>>,
    tcp: tcp::Pool,
    registrations: broadcast::Sender<Registration>,
}

pub(super) async fn run(
    config: EndpointConfig,
    udp: UdpSocket,
    listener: Option<TcpListener>,
    mut commands: mpsc::Receiver<Command>,
    registrations: broadcast::Sender<Registration>,
) {
    let (tcp_events_tx, mut tcp_events) = mpsc::channel::<TcpEvent>(4096);
    let pool = tcp::Pool::new(tcp_events_tx.clone());
    if let Some(l) = listener {
        tokio::spawn(tcp::accept_loop(l, tcp_events_tx, pool.writer_token()));
    }
    let mut d = Driver {
        endpoint: Endpoint::new(config),
        udp,
        calls: FastMap::default(),
        probes: FastMap::default(),
        tcp: pool,
        registrations,
    };
    let mut buf = vec![0u8; 65_536];
    // Once asked to stop: whom to tell, and when to stop at the latest.
    let mut stopping: Option<(oneshot::Sender<()>, Instant)> = None;
    let stopped = loop {
        if let Some((_, until)) = &stopping {
            if !d.endpoint.requests_pending() || Instant::now() >= *until {
                break stopping.take().map(|(done, _)| done);
            }
        }
        let deadline = match (&stopping, d.endpoint.poll_timeout()) {
            (Some((_, until)), Some(at)) => Some(at.min(*until)),
            (Some((_, until)), None) => Some(*until),
            (None, at) => at,
        };
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = d.udp.recv_from(&mut buf) => match r {
                Ok((n, from)) => {
                    let now = Instant::now();
                    d.endpoint.handle_datagram(now, from, TransportKind::Udp, &buf[..n]);
                    for _ in 0..UDP_BATCH {
                        match d.udp.try_recv_from(&mut buf) {
                            Ok((n, from)) => d.endpoint.handle_datagram(now, from, TransportKind::Udp, &buf[..n]),
                            Err(_) => break,
                        }
                    }
                }
                Err(e) => tracing::debug!(error = %e, "UDP receive error"),
            },
            cmd = commands.recv(), if stopping.is_none() => match cmd {
                Some(Command::Shutdown(done)) => stopping = Some((done, Instant::now() + REQUEST_GRACE)),
                None => break None,
                Some(cmd) => d.command(cmd),
            },
            Some(ev) = tcp_events.recv() => d.tcp_event(ev),
            _ = sleep => {}
        }
        d.endpoint.handle_timeout(Instant::now());
        d.flush().await;
    };
    // Connections accepted but not yet handed over hold writers too: let them go.
    drop(tcp_events);
    d.tcp.close(TCP_CLOSE_GRACE).await;
    if let Some(done) = stopped {
        let _ = done.send(());
    }
}

impl Driver {
    fn command(&mut self, cmd: Command) {
        let now = Instant::now();
        match cmd {
            Command::Dial(spec, handle, tx) => {
                match self.endpoint.place_call_as(now, handle, *spec) {
                    Ok(()) => {
                        self.calls.insert(handle, tx);
                    }
                    Err(e) => {
                        let _ = tx.try_send(CallEvent::Ended(LegEnd::not_placed(format!(
                            "invalid call: {e}"
                        ))));
                    }
                }
            }
            Command::Hangup(h) => self.endpoint.hangup(now, h),
            Command::Probe(uri, peer, transport, reply) => {
                match self.endpoint.probe(now, &uri, peer, transport) {
                    Ok(p) => {
                        self.probes.insert(p, reply);
                    }
                    Err(_) => {
                        let _ = reply.send(None);
                    }
                }
            }
            Command::EndDialog(record, reply) => match self.endpoint.end_dialog(now, &record) {
                Ok(p) => {
                    self.probes.insert(p, reply);
                }
                Err(e) => {
                    tracing::warn!(call_id = %record.call_id, error = %e, "cannot build a BYE for a stored dialog");
                    let _ = reply.send(None);
                }
            },
            Command::Stats(reply) => {
                let _ = reply.send(self.endpoint.stats());
            }
            Command::SetCredential(credential) => self.endpoint.set_credential(now, *credential),
            Command::RemoveCredential(username) => self.endpoint.remove_credential(&username),
            Command::Bindings(username, reply) => {
                let _ = reply.send(self.endpoint.bindings(&username));
            }
            Command::Shutdown(_) => {}
        }
    }

    fn tcp_event(&mut self, ev: TcpEvent) {
        let now = Instant::now();
        match ev {
            TcpEvent::Frame(peer, frame) => {
                self.endpoint
                    .handle_datagram(now, peer, TransportKind::Tcp, &frame)
            }
            TcpEvent::Accepted(peer, writer) => self.tcp.insert(peer, writer),
            TcpEvent::Failed(peer) => {
                self.tcp.remove(peer);
                self.endpoint.handle_transport_error(now, peer);
            }
            TcpEvent::Closed(peer) => self.tcp.remove(peer),
        }
    }

    async fn flush(&mut self) {
        while let Some(Transmit {
            transport,
            destination,
            payload,
        }) = self.endpoint.poll_transmit()
        {
            match transport {
                TransportKind::Udp => self.send_udp(destination, payload).await,
                TransportKind::Tcp => self.tcp.send(destination, payload).await,
            }
        }
        while let Some(ev) = self.endpoint.poll_event() {
            match ev {
                EndpointEvent::Call(h, ev) => {
                    let ended = matches!(ev, CallEvent::Ended(_));
                    if let Some(tx) = self.calls.get(&h) {
                        if tx.try_send(ev).is_err() {
                            tracing::warn!(?h, "call event not delivered: listener gone or full");
                        }
                    }
                    if ended {
                        self.calls.remove(&h);
                    }
                }
                EndpointEvent::Probe(p, code) => {
                    if let Some(tx) = self.probes.remove(&p) {
                        let _ = tx.send(code);
                    }
                }
                EndpointEvent::Registration {
                    owner,
                    username,
                    contacts,
                } => {
                    // No subscriber yet is fine: the bindings stay readable.
                    let _ = self.registrations.send(Registration {
                        owner,
                        username,
                        contacts,
                    });
                }
            }
        }
    }

    async fn send_udp(&mut self, to: SocketAddr, payload: Bytes) {
        match self.udp.try_send_to(&payload, to) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if let Err(e) = self.udp.send_to(&payload, to).await {
                    tracing::debug!(%to, error = %e, "UDP send failed");
                }
            }
            Err(e) => {
                // ICMP unreachable surfaces here on Linux as ECONNREFUSED for a later send.
                tracing::debug!(%to, error = %e, "UDP send failed");
            }
        }
    }
}
