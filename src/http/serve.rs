//! Serving connections with every wait bounded: a client
//! has `header_read_timeout` to send its headers, a request `request_timeout`
//! to be answered, a connection with nothing moving is closed after
//! `idle_timeout`, at most `max_connections` are served at once (the rest wait
//! in the listen queue, holding no file of ours), at most
//! `max_connections_per_address` from one client address (`per_address`), and a stop waits at most
//! `shutdown_grace` for requests in flight.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use super::per_address::{self, PerAddress};
use super::refusals::JsonRefusals;
use crate::config::Config;

/// The limits of `serve`.
#[derive(Debug, Clone)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// Connections at once from one client address (`per_address`).
    pub max_connections_per_address: usize,
    /// Peers not limited per address: proxies, whose connections are many clients'.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub shutdown_grace: Duration,
}

impl ServeLimits {
    pub fn from_config(config: &Config) -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_millis(config.header_read_timeout_ms),
            request_timeout: Duration::from_millis(config.request_timeout_ms),
            idle_timeout: Duration::from_millis(config.idle_timeout_ms),
            max_connections: config.max_connections.max(1),
            max_connections_per_address: config.max_connections_per_address.max(1),
            trusted_proxies: config.trusted_proxies.clone(),
            shutdown_grace: Duration::from_millis(config.shutdown_grace_ms),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets requests
/// in flight finish for up to the grace period and drops what is left.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let router = router.layer(axum::middleware::from_fn_with_state(
        limits.request_timeout,
        super::timeout::request_timeout,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = PerAddress::new(
        limits.max_connections_per_address,
        limits.trusted_proxies.clone(),
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Some(counted) = per_address.admit(peer.ip()) else {
            // Answered without waiting (a new socket's buffer takes it), then
            // closed: the slot goes back at once.
            let _ = stream.try_write(per_address::REFUSAL);
            continue;
        };
        let router = router.clone();
        let limits = limits.clone();
        let stop = stop_rx.clone();
        connections.spawn(async move {
            serve_connection(stream, peer, router, &limits, stop).await;
            drop((slot, counted));
        });
    }
    // Connections the kernel has already taken are requests a client (or a
    // proxy) has already sent: serve them rather than reset them with the
    // listener. Each answers its request and closes (the stop below).
    for (stream, peer) in already_accepted(listener) {
        let (router, limits, stop) = (router.clone(), limits.clone(), stop_rx.clone());
        connections
            .spawn(async move { serve_connection(stream, peer, router, &limits, stop).await });
    }
    let _ = stop_tx.send(true);
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!(
            left = connections.len(),
            "shutdown grace period over; closing the remaining connections"
        );
    }
    connections.shutdown().await;
}

/// The connections waiting in `listener`'s queue, taken without waiting.
fn already_accepted(listener: TcpListener) -> Vec<(TcpStream, SocketAddr)> {
    let Ok(listener) = listener.into_std() else {
        return Vec::new();
    };
    let mut taken = Vec::new();
    // The listener is non-blocking: `accept` fails with `WouldBlock` once the queue is empty.
    while let Ok((stream, peer)) = listener.accept() {
        let stream = stream
            .set_nonblocking(true)
            .and_then(|()| TcpStream::from_std(stream));
        if let Ok(stream) = stream {
            taken.push((stream, peer));
        }
    }
    taken
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: &ServeLimits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Activity::default();
    let io = TokioIo::new(Watched {
        inner: JsonRefusals::new(stream),
        activity: activity.clone(),
    });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request)
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(io, service)
        .with_upgrades();
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        let idle_deadline = activity.last() + limits.idle_timeout;
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%peer, error = %error, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if !closing => {
                if changed.is_err() || *stop.borrow() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
            _ = tokio::time::sleep_until(idle_deadline), if !closing => {
                if activity.last() + limits.idle_timeout <= Instant::now() {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// When bytes last moved on a connection.
#[derive(Clone)]
struct Activity {
    since: Instant,
    millis: Arc<AtomicU64>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            since: Instant::now(),
            millis: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Activity {
    fn touch(&self) {
        let elapsed = self.since.elapsed().as_millis() as u64;
        self.millis.store(elapsed, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.since + Duration::from_millis(self.millis.load(Ordering::Relaxed))
    }
}

/// A stream that notes when bytes move, for the idle timeout.
struct Watched<T> {
    inner: T,
    activity: Activity,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
