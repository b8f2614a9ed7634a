//! `GET /api/ledger/stats`: the console's chart and funnel (see `audit::stats`).

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::ledger::{AuditError, Auditor};
use super::position::Seen;
use crate::app::App;
use crate::audit::standby;
use crate::audit::stats::{self, Stats};
use crate::service::ServiceError;

/// Without `from`, a range starts on the first invite's day (or this many days
/// back when there is none).
const DEFAULT_DAYS: i64 = 30;

/// The start of `time`'s UTC day.
fn day_start(time: DateTime<Utc>) -> DateTime<Utc> {
    time.date_naive().and_time(NaiveTime::MIN).and_utc()
}

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
    responses((status = 200, body = Stats), (status = 400), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
pub async fn stats(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    super::extract::QueryParams(params): super::extract::QueryParams<StatsParams>,
) -> Result<Json<Stats>, AuditError> {
    let now = app.clock.now();
    let (mut conn, _) = standby::connection(&app, seen)
        .await
        .map_err(ServiceError::from)?;
    let to = params
        .to
        .unwrap_or_else(|| day_start(now) + Duration::days(1));
    let from = match params.from {
        Some(from) => from,
        None => stats::first_created(&mut conn)
            .await
            .map_err(ServiceError::from)?
            .filter(|first| *first < to)
            .map(day_start)
            .unwrap_or(to - Duration::days(DEFAULT_DAYS)),
    };
    let counted = stats::count(&mut conn, from, to, now)
        .await
        .map_err(ServiceError::from)?
        .map_err(|e| ServiceError::bad_request("INVALID_RANGE", e.to_string()))?;
    Ok(Json(counted))
}
