//! `/metrics` in Prometheus' text format: requests by route and status with
//! latency histograms (recorded by `observe`); the connection pool's use, each
//! projection's lag and each reactor's lag and pending and parked deliveries
//! (read when scraped).

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::HttpState;
use crate::app::App;
use crate::projections;
use crate::reactors;

const REQUESTS: &str = "http_requests_total";
const REQUEST_SECONDS: &str = "http_request_duration_seconds";

/// From 1 ms to 10 s: a read answers in about a millisecond, a sign-up in tens.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

pub fn routes() -> Router<HttpState> {
    Router::new().route("/metrics", get(scrape))
}

/// The process's one recorder, installed by the first router built.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &LATENCY_BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder came first: then nothing is recorded here.
        if let Err(error) = metrics::set_global_recorder(recorder) {
            tracing::warn!(%error, "metrics recorder not installed");
        }
        // Documented counters exist from the start, at 0, for alerts on their rate.
        metrics::counter!(crate::commands::refusals::UNRECORDED).absolute(0);
        handle
    })
}

pub fn record_request(method: &str, route: &str, status: u16, latency: Duration) {
    let labels = [
        ("method", method.to_string()),
        ("route", route.to_string()),
        ("status", status.to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(REQUEST_SECONDS, &labels).record(latency.as_secs_f64());
}

async fn scrape(State(app): State<App>) -> impl IntoResponse {
    let pool = &app.pool;
    let idle = pool.num_idle() as f64;
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(f64::from(pool.size()) - idle);
    metrics::gauge!("db_pool_max_connections").set(f64::from(pool.options().get_max_connections()));
    match projections::status(pool, &projections::all()).await {
        Ok(statuses) => {
            for status in statuses {
                metrics::gauge!("projection_lag_events", "projection" => status.name)
                    .set(status.lag as f64);
            }
        }
        Err(error) => tracing::warn!(%error, "projection lag not read for /metrics"),
    }
    match reactors::status(pool).await {
        Ok(statuses) => {
            for status in statuses {
                let reactor = status.name;
                metrics::gauge!("reactor_lag_events", "reactor" => reactor.clone())
                    .set(status.lag as f64);
                for (state, count) in [("pending", status.pending), ("parked", status.parked)] {
                    metrics::gauge!("reactor_deliveries", "reactor" => reactor.clone(), "state" => state)
                        .set(count as f64);
                }
            }
        }
        Err(error) => tracing::warn!(%error, "reactor status not read for /metrics"),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
}
