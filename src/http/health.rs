use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::HttpState;
use crate::app::App;
use crate::projections;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "`{\"status\": \"ok\"}`")))]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers and every projection has applied the log.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Ready: each projection's status, no lag"),
        (status = 503, description = "The database is unreachable or a projection lags")))]
async fn readyz(State(app): State<App>) -> (StatusCode, Json<Value>) {
    match projections::status(&app.pool, &projections::all()).await {
        Ok(statuses) => {
            let caught_up = statuses.iter().all(|s| s.lag == 0);
            let status = if caught_up {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (
                status,
                Json(json!({ "database": "ok", "caughtUp": caught_up, "projections": statuses })),
            )
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "database": "unreachable", "caughtUp": false })),
            )
        }
    }
}
