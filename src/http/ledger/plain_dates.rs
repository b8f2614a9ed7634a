//! The audit API's time parameters take a plain date (`2026-03-01`), meaning
//! its midnight UTC, besides an RFC 3339 time: the query is rewritten before
//! the handlers read it. A value that is neither is refused saying so, instead
//! of with a parser's message.

use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};

use crate::error::ServiceError;
use crate::http::error::ApiError;

/// Every time parameter of `/api/ledger`.
const TIME_PARAMETERS: [&str; 9] = [
    "as_of",
    "from",
    "to",
    "created_from",
    "created_to",
    "used_from",
    "used_to",
    "closed_from",
    "closed_to",
];

pub async fn rewrite(mut request: Request, next: Next) -> Response {
    let Some(query) = request.uri().query() else {
        return next.run(request).await;
    };
    let mut changed = false;
    let mut pairs = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let mut value = value.into_owned();
        if TIME_PARAMETERS.contains(&key.as_ref()) && value.parse::<DateTime<Utc>>().is_err() {
            if NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_err() || value.len() != 10 {
                return refused(&key).into_response();
            }
            value.push_str("T00:00:00Z");
            changed = true;
        }
        pairs.push((key.into_owned(), value));
    }
    if changed {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let path = request.uri().path().to_string();
        if let Ok(uri) = format!("{path}?{query}").parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    next.run(request).await
}

fn refused(parameter: &str) -> ApiError {
    ServiceError::bad_request(
        "VALIDATION_ERROR",
        format!(
            "`{parameter}` must be an RFC 3339 time (2026-03-01T09:30:00Z) or a date \
             (2026-03-01, its midnight UTC)"
        ),
    )
    .into()
}
