//! The request timeout: a request not answered in time (a body trickling in,
//! say) is refused with 408 in the `{code, message}` shape. A streamed answer
//! (the event stream) counts as answered once its headers are out.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

pub async fn request_timeout(
    State(limit): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::refused(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            "The request took too long",
        )
        .into_response(),
    }
}
