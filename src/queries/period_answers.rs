//! The audit API's answers about periods: the console's counts for a range of
//! days, and what changed between two moments.

use chrono::{DateTime, Duration, NaiveTime, Utc};

use super::diff::{self, Diff};
use super::organization_diff::{self, OrganizationDiff};
use super::organizations;
use super::standby;
use super::stats::{self, Stats};
use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::Position;

/// Without `from`, a range starts on the first invite's day (or this many days
/// back when there is none).
const DEFAULT_DAYS: i64 = 30;

/// The start of `time`'s UTC day.
fn day_start(time: DateTime<Utc>) -> DateTime<Utc> {
    time.date_naive().and_time(NaiveTime::MIN).and_utc()
}

/// The counts from `from` (default: the first invite's UTC day) up to `to`
/// (default: the end of today, UTC), with expiry worked out for now.
pub async fn stats(
    context: &Context,
    seen: Option<Position>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Stats, ServiceError> {
    let now = context.clock.now();
    let (mut conn, _) = standby::connection(context, seen).await?;
    let to = to.unwrap_or_else(|| day_start(now) + Duration::days(1));
    let from = match from {
        Some(from) => from,
        None => stats::first_created(&mut conn)
            .await?
            .filter(|first| *first < to)
            .map(day_start)
            .unwrap_or(to - Duration::days(DEFAULT_DAYS)),
    };
    stats::count(&mut conn, from, to, now)
        .await?
        .map_err(|e| ServiceError::bad_request("INVALID_RANGE", e.to_string()))
}

/// What changed between `from` and `to`, by the events recorded in between.
pub async fn diff(
    context: &Context,
    seen: Option<Position>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Diff, ServiceError> {
    check_range(from, to)?;
    let (mut conn, _) = standby::connection_until(context, seen, to).await?;
    Ok(diff::between(&mut conn, from, to).await?)
}

/// What changed in one organization between `from` and `to`, as `diff`.
pub async fn organization_diff(
    context: &Context,
    seen: Option<Position>,
    organization_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<OrganizationDiff, ServiceError> {
    check_range(from, to)?;
    let (mut conn, _) = standby::connection_until(context, seen, to).await?;
    organizations::check_known(&mut conn, organization_id).await?;
    Ok(organization_diff::between(&mut conn, organization_id, from, to).await?)
}

fn check_range(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), ServiceError> {
    if from > to {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "from must not be after to",
        ));
    }
    Ok(())
}
