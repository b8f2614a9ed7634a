use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::ToSchema;

use super::HttpState;
use crate::app::App;
use crate::projections::{self, ProjectionStatus};
use crate::reactors::{self, ReactorStatus};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// `{"status": "ok"}`.
#[derive(Serialize, ToSchema)]
pub struct Alive {
    status: &'static str,
}

/// Alive: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, body = Alive, description = "The process answers")))]
async fn healthz() -> Json<Alive> {
    Json(Alive { status: "ok" })
}

/// What `/readyz` answers, ready or not.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessAnswer {
    /// `ok` or `unreachable`.
    database: &'static str,
    /// No read model lags beyond `READY_MAX_LAG`.
    caught_up: bool,
    /// What keeps this replica out of rotation; empty when ready.
    not_ready: Vec<String>,
    /// Each read model's version, checkpoint and lag (absent when the database is unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    projections: Option<Vec<ProjectionStatus>>,
    /// Each reactor's lag and deliveries (absent when the database is unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    reactors: Option<Vec<ReactorStatus>>,
}

/// Ready when the database answers within `READY_TIMEOUT_MS` and no read model
/// is more than `READY_MAX_LAG` events behind the log. A few events of lag are
/// normal under load: requiring none would pull healthy replicas out of rotation.
/// The reactors are shown (lag, pending, parked) but never make it unready: a
/// parked delivery needs an operator (`reactors retry`), not another replica.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = ReadinessAnswer, description = "Ready: each projection's \
            and reactor's status; `notReady` is empty"),
        (status = 503, body = ReadinessAnswer, description = "The database is unreachable or \
            a projection lags beyond the threshold: `notReady` says which")))]
async fn readyz(State(app): State<App>) -> Response {
    let config = &app.settings.config;
    let limit = Duration::from_millis(config.ready_timeout_ms);
    let (readiness, body) = match tokio::time::timeout(limit, probe(&app)).await {
        Ok(Ok((statuses, reactors))) => {
            let not_ready: Vec<String> = statuses
                .iter()
                .filter(|s| s.lag > config.ready_max_lag)
                .map(|s| format!("projection {} lags by {} events", s.name, s.lag))
                .collect();
            let caught_up = not_ready.is_empty();
            let readiness = if caught_up {
                Readiness::Ready
            } else {
                Readiness::Lagging
            };
            (
                readiness,
                ReadinessAnswer {
                    database: "ok",
                    caught_up,
                    not_ready,
                    projections: Some(statuses),
                    reactors: Some(reactors),
                },
            )
        }
        Ok(Err(_)) | Err(_) => (
            Readiness::Unreachable,
            ReadinessAnswer {
                database: "unreachable",
                caught_up: false,
                not_ready: vec!["database unreachable".into()],
                projections: None,
                reactors: None,
            },
        ),
    };
    readiness.log_if_changed();
    let mut response = (readiness.status(), Json(body)).into_response();
    if readiness != Readiness::Ready {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

async fn probe(app: &App) -> anyhow::Result<(Vec<ProjectionStatus>, Vec<ReactorStatus>)> {
    crate::ledger::ping(&app.pool).await?;
    let projections = projections::status(&app.pool, &projections::all()).await?;
    let reactors = reactors::status(&app.pool).await?;
    Ok((projections, reactors))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Readiness {
    Ready = 1,
    Lagging = 2,
    Unreachable = 3,
}

/// The last readiness answered, so that a probe every second logs a change
/// once rather than a line per probe.
static LAST: AtomicU8 = AtomicU8::new(Readiness::Ready as u8);

impl Readiness {
    fn status(self) -> StatusCode {
        match self {
            Readiness::Ready => StatusCode::OK,
            Readiness::Lagging | Readiness::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn log_if_changed(self) {
        if LAST.swap(self as u8, Ordering::Relaxed) == self as u8 {
            return;
        }
        match self {
            Readiness::Ready => tracing::info!("ready again"),
            Readiness::Lagging => tracing::warn!("not ready: read models lag behind the log"),
            Readiness::Unreachable => tracing::warn!("not ready: the database is unreachable"),
        }
    }
}
