use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::HttpState;
use crate::app::App;
use crate::projections;
use crate::reactors;

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
/// The reactors are shown (lag, pending, parked) but never make it unready: a
/// parked delivery needs an operator (`reactors retry`), not another replica.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Ready: each projection's and reactor's status; `notReady` is empty"),
        (status = 503, description = "The database is unreachable or a projection lags: `notReady` says which")))]
async fn readyz(State(app): State<App>) -> (StatusCode, Json<Value>) {
    let read = async {
        let projections = projections::status(&app.pool, &projections::all()).await?;
        let reactors = reactors::status(&app.pool).await?;
        anyhow::Ok((projections, reactors))
    };
    match read.await {
        Ok((statuses, reactors)) => {
            let not_ready: Vec<String> = statuses
                .iter()
                .filter(|s| s.lag != 0)
                .map(|s| format!("projection {} lags by {} events", s.name, s.lag))
                .collect();
            let caught_up = not_ready.is_empty();
            let status = if caught_up {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (
                status,
                Json(json!({
                    "database": "ok",
                    "caughtUp": caught_up,
                    "notReady": not_ready,
                    "projections": statuses,
                    "reactors": reactors,
                })),
            )
        }
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "database": "unreachable",
                    "caughtUp": false,
                    "notReady": ["database unreachable"],
                })),
            )
        }
    }
}
