//! Every wait of the HTTP server is bounded: half-sent headers, a trickling
//! body, an idle keep-alive connection, a flood of connections and a stop
//! with a request still in flight.

use std::time::Duration;

use crate::helpers::bounded::{bounded, limits, read_until_closed, DEADLINE};
use crate::helpers::TestServer;
use invite_ledger::http::serve::ServeLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn half_sent_headers_are_cut_off() {
    let server = TestServer::start().await;
    let bounded = bounded(
        &server,
        ServeLimits {
            header_read_timeout: Duration::from_millis(300),
            ..limits()
        },
    )
    .await;
    let mut stream = TcpStream::connect(bounded.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .unwrap();
    read_until_closed(&mut stream).await;
}

#[tokio::test]
async fn a_trickling_body_is_answered_408_in_the_error_shape() {
    let server = TestServer::start().await;
    let bounded = bounded(
        &server,
        ServeLimits {
            request_timeout: Duration::from_millis(300),
            ..limits()
        },
    )
    .await;
    let mut stream = TcpStream::connect(bounded.addr).await.unwrap();
    stream
        .write_all(
            b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"REQUEST_TIMEOUT\""), "{answer}");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let server = TestServer::start().await;
    let bounded = bounded(
        &server,
        ServeLimits {
            idle_timeout: Duration::from_millis(300),
            ..limits()
        },
    )
    .await;
    let mut stream = TcpStream::connect(bounded.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let server = TestServer::start().await;
    let bounded = bounded(
        &server,
        ServeLimits {
            max_connections: 1,
            ..limits()
        },
    )
    .await;
    let mut holder = TcpStream::connect(bounded.addr).await.unwrap();
    holder
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    let url = format!("http://{}/healthz", bounded.addr);
    let waiting = tokio::spawn(async move { reqwest::get(url).await.map(|r| r.status()) });
    // While the one slot is taken, the second connection is not served...
    let early = tokio::time::timeout(Duration::from_millis(500), async {
        while !waiting.is_finished() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(early.is_err(), "served beyond the connection cap");
    // ...and it is as soon as the slot is free.
    drop(holder);
    let status = tokio::time::timeout(DEADLINE, waiting)
        .await
        .expect("served once a slot is free")
        .unwrap()
        .unwrap();
    assert_eq!(status.as_u16(), 200);
}

#[tokio::test]
async fn a_stop_waits_no_longer_than_the_grace_period() {
    let server = TestServer::start().await;
    let mut bounded = bounded(
        &server,
        ServeLimits {
            shutdown_grace: Duration::from_millis(300),
            ..limits()
        },
    )
    .await;
    let mut half_sent = TcpStream::connect(bounded.addr).await.unwrap();
    half_sent
        .write_all(
            b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 10\r\n\
              Expect: 100-continue\r\n\r\n",
        )
        .await
        .unwrap();
    // `100 Continue` comes when the handler starts reading the body: the
    // request is in flight. Its body never comes: without a bound, the stop
    // would wait for it forever.
    let mut seen = Vec::new();
    let continued = tokio::time::timeout(DEADLINE, async {
        let mut buf = [0u8; 256];
        while !String::from_utf8_lossy(&seen).contains("100 Continue") {
            let n = half_sent.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the body was asked for");
            seen.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(continued.is_ok(), "the handler never asked for the body");
    half_sent.write_all(b"{").await.unwrap();
    bounded.stop.take().unwrap().send(()).unwrap();
    tokio::time::timeout(DEADLINE, &mut bounded.task)
        .await
        .expect("the server stopped within its grace period")
        .unwrap();
    read_until_closed(&mut half_sent).await;
}
