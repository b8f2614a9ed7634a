//! The binary's bounded serving loop (`http::serve`) on its own port, beside a
//! test server, on the same app.

use std::time::Duration;

use invite_ledger::http::serve::{serve, ServeLimits};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::TestServer;

/// Generous: the conditions below happen in well under a second.
pub const DEADLINE: Duration = Duration::from_secs(15);

pub fn limits() -> ServeLimits {
    ServeLimits {
        header_read_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(60),
        idle_timeout: Duration::from_secs(60),
        max_connections: 64,
        max_connections_per_address: 64,
        trusted_proxies: Vec::new(),
        shutdown_grace: Duration::from_secs(60),
    }
}

/// The bounded server on its own port, beside the test server, on the same app.
pub struct Bounded {
    pub addr: std::net::SocketAddr,
    pub stop: Option<oneshot::Sender<()>>,
    pub task: JoinHandle<()>,
}

pub async fn bounded(server: &TestServer, limits: ServeLimits) -> Bounded {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = invite_ledger::http::router(server.app.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, router, limits, async {
        let _ = stopped.await;
    }));
    Bounded {
        addr,
        stop: Some(stop),
        task,
    }
}

/// Reads until the server closes the connection; what it sent, or a panic
/// when it keeps the connection open past the deadline.
pub async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(DEADLINE, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&received).into_owned()
}
