//! The audit API's questions about periods: the console's chart and funnel
//! (`/stats`), and what changed between two moments (`/diff`).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auditor::Auditor;
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{QueryParams, StrictQuery};
use crate::http::position::Seen;
use crate::queries::diff::Diff;
use crate::queries::period_answers;
use crate::queries::stats::Stats;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StatsParams {
    /// Count from this time (inclusive); default: the start of the first invite's UTC day.
    pub from: Option<DateTime<Utc>>,
    /// Count up to this time (exclusive); default: the end of today (UTC).
    pub to: Option<DateTime<Utc>>,
}

/// Invites created, used and expired per UTC day, the conversion funnel
/// (created → activated → used) and the status counts of the invites created in
/// the range, from today's read models.
#[utoipa::path(get, path = "/api/ledger/stats", tag = "ledger",
    params(StatsParams),
    responses((status = 200, body = Stats, description = "Daily counts, the funnel and the status counts"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn stats(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    QueryParams(params): QueryParams<StatsParams>,
) -> Result<Json<Stats>, ApiError> {
    let counted = period_answers::stats(&app, seen, params.from, params.to).await?;
    Ok(Json(counted))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The earlier moment (RFC 3339): events recorded after it count.
    pub from: DateTime<Utc>,
    /// The later moment: events recorded up to and at it count.
    pub to: DateTime<Utc>,
}

/// What changed between two moments: the invites created, used and closed
/// (cancelled, rejected, expired) and the roles changed, by the events the
/// ledger recorded after `from` and up to `to`.
#[utoipa::path(get, path = "/api/ledger/diff", tag = "ledger",
    params(DiffParams),
    responses((status = 200, body = Diff, description = "What changed, with exact counts"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn diff(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    StrictQuery(params): StrictQuery<DiffParams>,
) -> Result<Json<Diff>, ApiError> {
    Ok(Json(
        period_answers::diff(&app, seen, params.from, params.to).await?,
    ))
}
