//! Paths under `/api/auth/invite/` that are not an invite's link: Better Auth's
//! plugin names routes there (`list`), so they are kept from `{token}`, where a
//! lookup would count a failed guess and set an invite cookie.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::any;
use axum::Router;

use super::error::ApiError;
use super::HttpState;

pub fn routes() -> Router<HttpState> {
    Router::new().route("/invite/list", any(reserved))
}

async fn reserved() -> impl IntoResponse {
    ApiError::refused(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "`/invite/list` is reserved for listing invites and not served here; \
         the invites are listed at `GET /api/ledger/invites`",
    )
}
