//! Accepting connections. Each is served by hyper with a deadline for its
//! request head, which also runs while a kept-alive connection waits for
//! its next request: a client that sends nothing, or dribbles a header,
//! loses its connection instead of holding it (and a file descriptor)
//! forever. A peer address holds at most so many connections at once;
//! more are closed as they are accepted. At shutdown the listener closes
//! and every connection drains: answers in flight are sent, idle
//! connections close, and what has not finished within [`DRAIN`] is closed.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

/// Serves `app` on `listener` until `shutdown` completes, then drains.
pub(super) async fn accept(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    per_peer: usize,
    shutdown: impl Future<Output = ()>,
) {
    let peers: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    // `stop` tells connections to drain; `open` is held by each connection,
    // so its sender closes when the last one ends.
    let (stop, stopping) = watch::channel(false);
    let (open, held) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors, or a connection reset before it
                // was accepted: the listener itself is fine.
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(peer) = Peer::enter(&peers, remote.ip(), per_peer) else {
            tracing::warn!("{} holds {per_peer} connections already: one more closed", remote.ip());
            drop(stream);
            continue;
        };
        let service = app.clone().map_request(move |mut request: axum::http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo::<SocketAddr>(remote));
            request.map(axum::body::Body::new)
        });
        let mut stopping = stopping.clone();
        let held = held.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut connection = pin!(connection);
            let mut draining = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = stopping.changed(), if !draining => {
                        draining = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(held);
            drop(peer);
        });
    }
    drop(listener);
    stop.send_replace(true);
    drop(held);
    // A client that never reads a large answer would hold its connection,
    // and the server, forever: draining is bounded.
    if tokio::time::timeout(DRAIN, open.closed()).await.is_err() {
        let left = open.receiver_count();
        eprintln!("runbox: {left} connection(s) did not finish within {DRAIN:?} of the shutdown: closed");
    }
}

/// How long connections have to finish their answers at shutdown (the
/// running steps stop at once, so a synchronous answer is ready in
/// milliseconds); Kubernetes waits 30 s before it kills.
const DRAIN: Duration = Duration::from_secs(10);

/// One connection of a peer, counted while it is open.
struct Peer {
    peers: Arc<Mutex<HashMap<IpAddr, usize>>>,
    ip: IpAddr,
}

impl Peer {
    /// Counts a new connection from `ip`, unless it holds `max` already.
    fn enter(peers: &Arc<Mutex<HashMap<IpAddr, usize>>>, ip: IpAddr, max: usize) -> Option<Peer> {
        let mut open = peers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Peer { peers: Arc::clone(peers), ip })
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let mut open = self.peers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}
