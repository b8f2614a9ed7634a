//! One log line and one metrics sample per request: method, route template,
//! status, latency and request id. The route template (`/api/auth/invite/{token}`)
//! stands for the path and the query is never logged, so no token reaches the log.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const REQUEST_ID: &str = "x-request-id";

/// Requests that matched no route share one label, whatever their path.
const UNMATCHED: &str = "unmatched";

/// Methods outside HTTP's standard ones share one label.
const OTHER_METHOD: &str = "other";

pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED, MatchedPath::as_str)
        .to_string();
    let request_id = request_id(&request);
    // Whatever a handler logs (a 500's cause, say) carries these fields too.
    let span = tracing::info_span!("request", %method, %route, %request_id);
    let mut response = next.run(request).instrument(span.clone()).await;
    let latency = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = latency.as_secs_f64() * 1000.0,
            "answered"
        )
    });
    super::metrics::record_request(&method, &route, status, latency);
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The method as a label: the standard ones by name, any other as one value,
/// since each label value is a series kept for the process's lifetime and a
/// made-up method costs a client nothing to send.
fn method_label(method: &Method) -> &'static str {
    static STANDARD: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    STANDARD
        .iter()
        .find(|standard| *standard == method)
        .map_or(OTHER_METHOD, |standard| standard.as_str())
}

/// The caller's `x-request-id` when it is a plain short one (a proxy's), else a new one.
fn request_id(request: &Request) -> String {
    request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}
