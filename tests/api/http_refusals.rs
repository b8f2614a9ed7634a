//! Requests the HTTP layer refuses before any route sees them (a malformed
//! request line, a URI too long, headers too large) are answered with the same
//! `{code, message}` JSON as every other refusal, by the binary's serving loop.

use crate::helpers::bounded::{bounded, limits, read_until_closed};
use crate::helpers::TestServer;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Sends `request` raw and returns the status code and the JSON body.
async fn refusal(addr: std::net::SocketAddr, request: &[u8]) -> (u16, serde_json::Value) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let answer = read_until_closed(&mut stream).await;
    let (head, body) = answer.split_once("\r\n\r\n").expect("a whole answer");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head}"));
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    let body = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {answer}"));
    (status, body)
}

#[tokio::test]
async fn the_http_layers_own_refusals_are_json() {
    let server = TestServer::start().await;
    let bounded = bounded(&server, limits()).await;

    let (status, body) = refusal(bounded.addr, b"NOT A REQUEST LINE\r\n\r\n").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("MALFORMED_REQUEST")),
        "{body}"
    );
    assert!(body["message"].is_string(), "{body}");

    let uri = format!("/api/auth/invite/get?token={}", "a".repeat(70_000));
    let request = format!("GET {uri} HTTP/1.1\r\nhost: x\r\n\r\n");
    let (status, body) = refusal(bounded.addr, request.as_bytes()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (414, Some("URI_TOO_LONG")),
        "{body}"
    );

    let mut request = String::from("GET /healthz HTTP/1.1\r\nhost: x\r\n");
    for i in 0..120 {
        request.push_str(&format!("x-filler-{i}: {i}\r\n"));
    }
    request.push_str("\r\n");
    let (status, body) = refusal(bounded.addr, request.as_bytes()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (431, Some("REQUEST_HEADER_FIELDS_TOO_LARGE")),
        "{body}"
    );

    // An ordinary request on the same loop is untouched.
    let mut stream = TcpStream::connect(bounded.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
}
