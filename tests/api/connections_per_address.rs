//! One client address cannot take every connection: past
//! `MAX_CONNECTIONS_PER_ADDRESS` its new connections are refused at once, so
//! others (a `/healthz` probe) are still served.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::bounded::{bounded, limits};
use crate::helpers::TestServer;
use invite_ledger::http::serve::ServeLimits;

/// A connection from `from` (any 127.x.y.z is this machine) to `to`.
async fn connect_from(from: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0)).unwrap();
    socket.connect(to).await.unwrap()
}

#[tokio::test]
async fn a_crowd_from_one_address_leaves_room_for_others() {
    let server = TestServer::start().await;
    let bounded = bounded(
        &server,
        ServeLimits {
            max_connections: 8,
            max_connections_per_address: 4,
            ..limits()
        },
    )
    .await;
    let crowd_address = Ipv4Addr::new(127, 0, 0, 1);
    let mut crowd = Vec::new();
    for _ in 0..20 {
        let mut stream = connect_from(crowd_address, bounded.addr).await;
        // Headers never finished: each connection would hold its slot.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\n")
            .await
            .unwrap();
        crowd.push(stream);
    }

    let probe = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let status = probe
        .get(format!("http://{}/healthz", bounded.addr))
        .send()
        .await
        .expect("a probe from another address is served")
        .status();
    assert_eq!(status, 200);

    // The crowd's connections past its share were refused, not queued.
    let mut refused = 0;
    for stream in &mut crowd {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_millis(300), stream.read(&mut buf)).await;
        match read {
            Ok(Ok(0)) | Ok(Err(_)) => refused += 1,
            Ok(Ok(n)) => {
                let answer = String::from_utf8_lossy(&buf[..n]).to_string();
                assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
                refused += 1;
            }
            Err(_) => {}
        }
    }
    assert_eq!(refused, 16, "connections beyond 4 from one address");
}
