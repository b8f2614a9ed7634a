//! Counts for the console's chart and funnel: invites created, used and expired
//! per UTC day, the conversion funnel (created → activated → used) of the invites
//! created in a range, and how many of them stand in each status.
//!
//! Days follow the domain times the invites show (`createdAt`, a use's `usedAt`,
//! `expiresAt`), read from today's read models. An invite past `expiresAt` counts
//! as expired on that day whether or not the sweeper has recorded it yet, as
//! `InviteRow::status_at` says.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::domain::closing;
use crate::projections::invite::InviteStatus;

/// The longest range answered in one request (ten years of days).
pub const MAX_DAYS: i64 = 3660;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayCounts {
    /// The UTC day, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    /// Invites created that day.
    pub created: i64,
    /// Uses of invites that day (an invite with several uses counts each).
    pub used: i64,
    /// Invites whose time ran out that day without being used up, cancelled or rejected.
    pub expired: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Funnel {
    /// Invites created in the range.
    pub created: i64,
    /// Of those, the ones activated at least once (a use implies an activation).
    pub activated: i64,
    /// Of those, the ones used at least once.
    pub used: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    pub pending: i64,
    pub used_up: i64,
    pub cancelled: i64,
    pub rejected: i64,
    pub expired: i64,
}

impl StatusCounts {
    fn add(&mut self, status: InviteStatus, n: i64) {
        *match status {
            InviteStatus::Pending => &mut self.pending,
            InviteStatus::UsedUp => &mut self.used_up,
            InviteStatus::Cancelled => &mut self.cancelled,
            InviteStatus::Rejected => &mut self.rejected,
            InviteStatus::Expired => &mut self.expired,
        } += n;
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// The range counted: from this time (inclusive)...
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub from: DateTime<Utc>,
    /// ...to this one (exclusive).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub to: DateTime<Utc>,
    /// Every UTC day the range touches, in order, days without activity included.
    pub days: Vec<DayCounts>,
    pub funnel: Funnel,
    /// The invites created in the range, by their status now.
    pub status_counts: StatusCounts,
}

/// A range the caller got wrong.
#[derive(Debug, thiserror::Error)]
pub enum BadRange {
    #[error("`from` must be before `to`")]
    Reversed,
    #[error("The range may span at most {MAX_DAYS} days")]
    TooLong,
}

/// The earliest invite's creation time, the default start of a range.
pub async fn first_created(conn: &mut PgConnection) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("SELECT min(created_at) FROM invite")
        .persistent(false)
        .fetch_one(conn)
        .await
}

/// The counts between `from` and `to`, with expiry worked out at `now`.
pub async fn count(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> anyhow::Result<Result<Stats, BadRange>> {
    if from >= to {
        return Ok(Err(BadRange::Reversed));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Ok(Err(BadRange::TooLong));
    }
    let mut days: BTreeMap<NaiveDate, DayCounts> = BTreeMap::new();
    let mut day = from.date_naive();
    while day <= (to - chrono::Duration::microseconds(1)).date_naive() {
        days.insert(
            day,
            DayCounts {
                day,
                created: 0,
                used: 0,
                expired: 0,
            },
        );
        day = day.succ_opt().expect("a day within the calendar");
    }

    let created = per_day(
        conn,
        "SELECT (created_at AT TIME ZONE 'UTC')::date, count(*) FROM invite
          WHERE created_at >= $1 AND created_at < $2 GROUP BY 1",
        from,
        to,
    )
    .await?;
    let used = per_day(
        conn,
        "SELECT (used_at AT TIME ZONE 'UTC')::date, count(*) FROM invite_use
          WHERE used_at >= $1 AND used_at < $2 GROUP BY 1",
        from,
        to,
    )
    .await?;
    // Recorded as expired, or still pending with its time run out by `now`
    // (`domain::closing::is_expired`: `expires_at <= now`, hence the microsecond).
    let expired = per_day(
        conn,
        "SELECT (expires_at AT TIME ZONE 'UTC')::date, count(*) FROM invite
          WHERE expires_at >= $1 AND expires_at < $2
            AND status IN ('expired', 'pending') GROUP BY 1",
        from,
        to.min(now + chrono::Duration::microseconds(1)),
    )
    .await?;
    for (day, n) in created {
        days.entry(day).and_modify(|c| c.created = n);
    }
    for (day, n) in used {
        days.entry(day).and_modify(|c| c.used = n);
    }
    for (day, n) in expired {
        days.entry(day).and_modify(|c| c.expired = n);
    }

    let (created, activated, used): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*),
                count(*) FILTER (WHERE activations > 0 OR uses > 0),
                count(*) FILTER (WHERE uses > 0)
           FROM invite WHERE created_at >= $1 AND created_at < $2",
    )
    .bind(from)
    .bind(to)
    .persistent(false)
    .fetch_one(&mut *conn)
    .await?;

    let by_status: Vec<(InviteStatus, bool, i64)> = sqlx::query_as(&format!(
        "SELECT status, {}, count(*) FROM invite
          WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2",
        closing::expired_sql("expires_at", "$3")
    ))
    .bind(from)
    .bind(to)
    .bind(now)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    let mut status_counts = StatusCounts::default();
    for (status, ran_out, n) in by_status {
        // The rule of `InviteRow::status_at`: pending past its time is expired.
        let status = match status {
            InviteStatus::Pending if ran_out => InviteStatus::Expired,
            other => other,
        };
        status_counts.add(status, n);
    }

    Ok(Ok(Stats {
        from,
        to,
        days: days.into_values().collect(),
        funnel: Funnel {
            created,
            activated,
            used,
        },
        status_counts,
    }))
}

/// `(UTC day, count)` rows of a query over `[$1, $2)`.
async fn per_day(
    conn: &mut PgConnection,
    sql: &'static str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> sqlx::Result<Vec<(NaiveDate, i64)>> {
    sqlx::query_as(sql)
        .bind(from)
        .bind(to)
        .persistent(false)
        .fetch_all(conn)
        .await
}
