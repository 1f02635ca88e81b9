//! SIP over TCP: one reader task per connection frames the stream by Content-Length
//! (RFC 3261 §18.3) and forwards whole messages to the driver; one writer task drains the
//! connection's outgoing queue. Connections are opened on first send and reused both ways.

use crate::sip::framing::{self, Frame};
use bytes::{Buf, Bytes, BytesMut};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Messages queued per connection before senders see it as congested.
const WRITE_QUEUE: usize = 1024;
/// How long a sender waits for room in a congested connection's queue before giving the
/// connection up as failed.
const SEND_WAIT: Duration = Duration::from_secs(1);

/// What connection tasks tell the driver.
pub(super) enum TcpEvent {
    /// A whole SIP message arrived from a peer.
    Frame(SocketAddr, Bytes),
    /// A peer connected to us; here is how to write to it.
    Accepted(SocketAddr, mpsc::Sender<Bytes>),
    /// We could not connect to or write to a peer.
    Failed(SocketAddr),
    /// The peer closed the connection.
    Closed(SocketAddr),
}

/// The driver's view of open connections.
pub(super) struct Pool {
    writers: HashMap<SocketAddr, mpsc::Sender<Bytes>>,
    events: mpsc::Sender<TcpEvent>,
    /// Cloned into every connection's writer task; `all_written` yields `None` once the last
    /// clone is gone, that is once every writer has ended.
    writing: mpsc::Sender<()>,
    all_written: mpsc::Receiver<()>,
}

impl Pool {
    pub(super) fn new(events: mpsc::Sender<TcpEvent>) -> Pool {
        let (writing, all_written) = mpsc::channel(1);
        Pool {
            writers: HashMap::new(),
            events,
            writing,
            all_written,
        }
    }

    /// What the accept loop hands to the writers of inbound connections (weak: it does not
    /// keep `close` waiting, and lets the loop stop once the pool is closed).
    pub(super) fn writer_token(&self) -> mpsc::WeakSender<()> {
        self.writing.downgrade()
    }

    /// Closes every connection once what is queued on it has been written, waiting at most
    /// `grace`: a message queued just before shutdown (the ACK of a final response, the 200 of
    /// a BYE) still reaches its peer.
    pub(super) async fn close(self, grace: Duration) {
        let Pool {
            writers,
            writing,
            mut all_written,
            ..
        } = self;
        drop(writers); // each writer drains its queue, then ends
        drop(writing);
        let _ = tokio::time::timeout(grace, all_written.recv()).await;
    }

    pub(super) fn insert(&mut self, peer: SocketAddr, writer: mpsc::Sender<Bytes>) {
        self.writers.insert(peer, writer);
    }

    pub(super) fn remove(&mut self, peer: SocketAddr) {
        self.writers.remove(&peer);
    }

    /// Queues a message to `peer`, connecting first when no connection is open. When the
    /// connection's queue is full the sender waits for room, as a UDP send waits for the socket
    /// buffer: over TCP nothing retransmits a message dropped here. A connection that makes no
    /// room within `SEND_WAIT` is given up as failed, which fails its transactions.
    pub(super) async fn send(&mut self, peer: SocketAddr, payload: Bytes) {
        let payload = match self.writers.get(&peer) {
            None => payload,
            Some(w) => match w.try_send(payload) {
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(p)) => {
                    let w = w.clone();
                    if w.send_timeout(p, SEND_WAIT).await.is_err() {
                        tracing::warn!(%peer, "TCP connection congested; giving it up");
                        self.writers.remove(&peer);
                        let _ = self.events.try_send(TcpEvent::Failed(peer));
                    }
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(p)) => {
                    self.writers.remove(&peer);
                    p
                }
            },
        };
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        let _ = tx.try_send(payload);
        self.writers.insert(peer, tx);
        let events = self.events.clone();
        let writing = self.writing.clone();
        tokio::spawn(async move {
            match TcpStream::connect(peer).await {
                Ok(stream) => serve(stream, peer, rx, events, writing).await,
                Err(e) => {
                    tracing::debug!(%peer, error = %e, "TCP connect failed");
                    let _ = events.send(TcpEvent::Failed(peer)).await;
                }
            }
        });
    }
}

/// Accepts inbound connections for as long as the driver lives.
pub(super) async fn accept_loop(
    listener: TcpListener,
    events: mpsc::Sender<TcpEvent>,
    writing: mpsc::WeakSender<()>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let Some(writing) = writing.upgrade() else {
                    return; // the pool is closed
                };
                let (tx, rx) = mpsc::channel(WRITE_QUEUE);
                if events.send(TcpEvent::Accepted(peer, tx)).await.is_err() {
                    return;
                }
                tokio::spawn(serve(stream, peer, rx, events.clone(), writing));
            }
            Err(e) => tracing::debug!(error = %e, "TCP accept failed"),
        }
    }
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    mut outgoing: mpsc::Receiver<Bytes>,
    events: mpsc::Sender<TcpEvent>,
    writing: mpsc::Sender<()>,
) {
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let write_events = events.clone();
    let writer_task = tokio::spawn(async move {
        let _writing = writing;
        while let Some(msg) = outgoing.recv().await {
            if writer.write_all(&msg).await.is_err() {
                let _ = write_events.send(TcpEvent::Failed(peer)).await;
                return;
            }
        }
    });
    let mut buf = BytesMut::with_capacity(8192);
    'read: loop {
        match reader.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => loop {
                match framing::next_frame(&buf) {
                    Ok(Frame::Complete { len }) => {
                        let frame = buf.split_to(len).freeze();
                        if events.send(TcpEvent::Frame(peer, frame)).await.is_err() {
                            break 'read;
                        }
                    }
                    Ok(Frame::KeepAlive { len }) => buf.advance(len),
                    Ok(Frame::Incomplete) => break,
                    Err(e) => {
                        tracing::warn!(%peer, error = %e, "unframeable SIP stream; closing");
                        break 'read;
                    }
                }
            },
        }
    }
    writer_task.abort();
    let _ = events.send(TcpEvent::Closed(peer)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A process ends right after shutdown: whatever the driver queued for a TCP peer before
    /// (the ACK of a final response) must already be written when `close` returns.
    #[test]
    fn close_writes_everything_queued_before_it_returns() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        let peer = listener.local_addr().expect("address");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (events, _events_rx) = mpsc::channel(16);
        runtime.block_on(async move {
            let mut pool = Pool::new(events);
            for i in 0..50 {
                pool.send(peer, Bytes::from(format!("message {i:02}\r\n")))
                    .await;
            }
            pool.close(Duration::from_secs(5)).await;
        });
        drop(runtime); // cancels every task still running, as the end of the process would
        listener.set_nonblocking(true).expect("nonblocking");
        let mut stream = listener
            .accept()
            .map(|(s, _)| s)
            .expect("the pool connected before close returned");
        stream.set_nonblocking(false).expect("blocking");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let mut got = String::new();
        stream
            .read_to_string(&mut got)
            .expect("read until the pool closed");
        let want: String = (0..50).map(|i| format!("message {i:02}\r\n")).collect();
        assert_eq!(got, want);
    }

    /// A burst larger than a connection's queue (the BYEs of thousands of calls ending at once)
    /// waits for the writer instead of losing messages: over TCP nothing would resend them.
    #[test]
    fn a_burst_beyond_the_queue_is_written_whole_and_in_order() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        let peer = listener.local_addr().expect("address");
        let burst = 3 * WRITE_QUEUE;
        let reader = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("the pool connected");
            stream
                .set_read_timeout(Some(Duration::from_secs(10)))
                .expect("timeout");
            let mut got = String::new();
            stream
                .read_to_string(&mut got)
                .expect("read until the pool closed");
            got
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (events, _events_rx) = mpsc::channel(16);
        runtime.block_on(async move {
            let mut pool = Pool::new(events);
            for i in 0..burst {
                pool.send(peer, Bytes::from(format!("message {i:05}\r\n")))
                    .await;
            }
            pool.close(Duration::from_secs(5)).await;
        });
        drop(runtime);
        let want: String = (0..burst).map(|i| format!("message {i:05}\r\n")).collect();
        assert_eq!(reader.join().expect("reader"), want);
    }
}
