//! `/metrics` answers in Prometheus' text format: requests by route and status
//! with latency histograms, the connection pool and each projection's lag.

use crate::helpers::TestServer;

/// The value of the sample whose name and labels are exactly `series`.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

#[tokio::test]
async fn metrics_are_scraped_in_prometheus_text_format() {
    let server = TestServer::start().await;
    let client = server.client();
    for _ in 0..3 {
        client.get("/healthz").await.ok();
    }
    client
        .get("/api/auth/invite/get?token=NoSuchTokenHere")
        .await
        .err(400, "INVALID_TOKEN");

    let response = reqwest::get(format!("http://{}/metrics", server.addr))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let scrape = response.text().await.unwrap();

    let healthz = r#"{method="GET",route="/healthz",status="200"}"#;
    assert_eq!(
        sample(&scrape, &format!("http_requests_total{healthz}")),
        Some(3.0),
        "{scrape}"
    );
    let unknown_token = r#"{method="GET",route="/api/auth/invite/get",status="400"}"#;
    assert_eq!(
        sample(&scrape, &format!("http_requests_total{unknown_token}")),
        Some(1.0),
        "{scrape}"
    );
    assert!(!scrape.contains("NoSuchTokenHere"), "{scrape}");
    assert!(
        scrape.contains("# TYPE http_request_duration_seconds histogram"),
        "{scrape}"
    );
    let every = r#"http_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="+Inf"}"#;
    assert_eq!(sample(&scrape, every), Some(3.0), "{scrape}");
    assert_eq!(
        sample(
            &scrape,
            r#"http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}"#
        ),
        Some(3.0),
        "{scrape}"
    );

    let max = sample(&scrape, "db_pool_max_connections").expect("pool size");
    let in_use = sample(&scrape, r#"db_pool_connections{state="in_use"}"#).expect("in use");
    let idle = sample(&scrape, r#"db_pool_connections{state="idle"}"#).expect("idle");
    assert!(
        max >= 1.0 && in_use >= 0.0 && idle >= 0.0 && in_use + idle <= max,
        "{scrape}"
    );
    for projection in ["invite", "invite_use", "user_account"] {
        let lag = sample(
            &scrape,
            &format!(r#"projection_lag_events{{projection="{projection}"}}"#),
        );
        assert!(lag.is_some_and(|lag| lag >= 0.0), "{projection}: {scrape}");
    }
    for state in ["pending", "parked"] {
        let series = format!(r#"reactor_deliveries{{reactor="email",state="{state}"}}"#);
        assert!(sample(&scrape, &series).is_some(), "{series}: {scrape}");
    }
    assert!(
        sample(&scrape, r#"reactor_lag_events{reactor="email"}"#).is_some(),
        "{scrape}"
    );
}

#[tokio::test]
async fn the_pool_is_sized_by_database_max_connections() {
    let server = TestServer::start_with(&["--database-max-connections", "7"]).await;
    let scrape = reqwest::get(format!("http://{}/metrics", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&scrape, "db_pool_max_connections"),
        Some(7.0),
        "{scrape}"
    );
}

/// Made-up HTTP methods cost nothing to send; were each its own label value, a
/// stranger could grow `/metrics` (and the server's memory) without bound.
#[tokio::test]
async fn made_up_methods_share_one_label_value() {
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    for n in 0..20 {
        let method = reqwest::Method::from_bytes(format!("MADEUP{n}").as_bytes()).unwrap();
        let status = http
            .request(method, format!("http://{}/healthz", server.addr))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 405);
    }
    let scrape = reqwest::get(format!("http://{}/metrics", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!scrape.contains("MADEUP"), "{scrape}");
    let other = r#"http_requests_total{method="other",route="/healthz",status="405"}"#;
    assert_eq!(sample(&scrape, other), Some(20.0), "{scrape}");
}

/// A documented counter is there from the start, at 0, so an alert on its
/// rate has a series to read before the first refusal goes unrecorded.
#[tokio::test]
async fn documented_counters_start_at_zero() {
    let server = TestServer::start().await;
    let scrape = reqwest::get(format!("http://{}/metrics", server.addr))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        sample(&scrape, "invite_refusals_unrecorded_total"),
        Some(0.0),
        "{scrape}"
    );
}
