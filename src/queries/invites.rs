//! Invites and their uses, filtered and paged by keyset (no duplicates or gaps
//! across pages: the sort keys never change once written).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::as_of::At;
use super::export::Query;
use super::{decode_cursor, encode_cursor};
use crate::domain::closing;
use crate::projections::invite::{InviteRow, InviteStatus};
use crate::projections::invite_use::InviteUseRow;
use crate::projections::row::Row;

/// Which invites to list; every field narrows the list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InviteFilter {
    /// pending | used_up | cancelled | rejected | expired, at the moment asked
    /// (an invite past its `expiresAt` is expired, recorded so or not yet).
    pub status: Option<InviteStatus>,
    pub role: Option<String>,
    /// The inviter's user id.
    pub inviter: Option<String>,
    /// The invited email of private invites (case-insensitive).
    pub email: Option<String>,
    /// Created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this time.
    pub created_to: Option<DateTime<Utc>>,
    /// Used at least once at or after this time (and before `used_to`, if given).
    pub used_from: Option<DateTime<Utc>>,
    pub used_to: Option<DateTime<Utc>>,
    /// Closed (cancelled or rejected) by this user id.
    pub closed_by: Option<String>,
    /// Closed (cancelled, rejected or expired) at or after this time.
    pub closed_from: Option<DateTime<Utc>>,
    /// Closed before this time.
    pub closed_to: Option<DateTime<Utc>>,
}

pub struct Page<T> {
    pub rows: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Bad cursors are the client's mistake.
#[derive(Debug, thiserror::Error)]
#[error("The cursor is not one this API handed out")]
pub struct BadCursor;

impl From<BadCursor> for crate::error::ServiceError {
    fn from(e: BadCursor) -> Self {
        crate::error::ServiceError::bad_request("INVALID_CURSOR", e.to_string())
    }
}

fn page<T, K: serde::Serialize>(mut rows: Vec<T>, limit: i64, key: impl Fn(&T) -> K) -> Page<T> {
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = more
        .then(|| rows.last().map(|r| encode_cursor(&key(r))))
        .flatten();
    Page { rows, next_cursor }
}

/// An invite's status at `moment` (`$15`), in SQL: `pending` past `expires_at`
/// is expired (`domain::closing`).
static STATUS_AT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(CASE WHEN status = 'pending' AND {} THEN 'expired' ELSE status END)",
        closing::expired_sql("expires_at", "$15")
    )
});

/// When an invite was closed, at `moment` (`$15`), in SQL: one expired by time
/// (no `Expired` recorded yet) closed at its `expires_at`.
static CLOSED_AT_AT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "(CASE WHEN status = 'pending' AND {} THEN expires_at ELSE closed_at END)",
        closing::expired_sql("expires_at", "$15")
    )
});

/// The rows as the moment asked shows them: expiry is worked out for it.
pub fn at_moment(mut rows: Vec<InviteRow>, at: At) -> Vec<InviteRow> {
    for row in &mut rows {
        as_at(row, at.moment());
    }
    rows
}

/// One row as `moment` shows it: past its `expiresAt` a pending invite is
/// expired, and closed at its expiry, recorded so or not yet.
pub fn as_at(row: &mut InviteRow, moment: DateTime<Utc>) {
    let status = row.status_at(moment);
    if status != row.status && row.closed_at.is_none() {
        row.closed_at = Some(row.expires_at);
    }
    row.status = status;
}

/// Invites in creation order (then id), `limit` at a time.
pub async fn list(
    conn: &mut PgConnection,
    at: At,
    filter: &InviteFilter,
    cursor: Option<&str>,
    limit: i64,
) -> anyhow::Result<Result<Page<InviteRow>, BadCursor>> {
    let after: Option<(DateTime<Utc>, Uuid)> = match cursor {
        Some(c) => match decode_cursor(c) {
            Some(key) => Some(key),
            None => return Ok(Err(BadCursor)),
        },
        None => None,
    };
    let query = list_query(at, filter, after, Some(limit + 1))?;
    let rows: Vec<InviteRow> = sqlx::query_as_with(&query.sql, query.args)
        .persistent(false)
        .fetch_all(conn)
        .await?;
    Ok(Ok(page(at_moment(rows, at), limit, |r| {
        (r.created_at, r.id)
    })))
}

/// The invites query, now or as of a past moment, for a page (`limit`) or an
/// export (every row).
pub fn list_query(
    at: At,
    filter: &InviteFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: Option<i64>,
) -> anyhow::Result<Query> {
    let status_at = &*STATUS_AT;
    let closed_at = &*CLOSED_AT_AT;
    Query::new(format!(
        "SELECT {columns} FROM {invite}
          WHERE ($1::text IS NULL OR {status_at} = $1)
            AND ($2::text IS NULL OR role = $2)
            AND ($3::text IS NULL OR inviter_id = $3)
            AND ($4::text IS NULL OR email = lower($4))
            AND ($5::timestamptz IS NULL OR created_at >= $5)
            AND ($6::timestamptz IS NULL OR created_at < $6)
            AND (($7::timestamptz IS NULL AND $8::timestamptz IS NULL) OR EXISTS (
                SELECT 1 FROM {invite_use}
                 WHERE invite_use.invite_id = invite.id
                   AND ($7::timestamptz IS NULL OR invite_use.used_at >= $7)
                   AND ($8::timestamptz IS NULL OR invite_use.used_at < $8)))
            AND ($9::timestamptz IS NULL OR (created_at, id) > ($9, $10::uuid))
            AND ($12::text IS NULL OR closed_by = $12)
            AND ($13::timestamptz IS NULL OR {closed_at} >= $13)
            AND ($14::timestamptz IS NULL OR {closed_at} < $14)
          ORDER BY created_at, id
          LIMIT $11",
        columns = InviteRow::column_list(),
        invite = at.table::<InviteRow>(),
        invite_use = at.table::<InviteUseRow>(),
    ))
    .bind(filter.status)?
    .bind(filter.role.clone())?
    .bind(filter.inviter.clone())?
    .bind(filter.email.clone())?
    .bind(filter.created_from)?
    .bind(filter.created_to)?
    .bind(filter.used_from)?
    .bind(filter.used_to)?
    .bind(after.map(|a| a.0))?
    .bind(after.map(|a| a.1))?
    .bind(limit)?
    .bind(filter.closed_by.clone())?
    .bind(filter.closed_from)?
    .bind(filter.closed_to)?
    .bind(at.moment())
}

/// The invite with this id, now or as it stood then.
pub async fn by_id(conn: &mut PgConnection, at: At, id: Uuid) -> sqlx::Result<Option<InviteRow>> {
    let row = sqlx::query_as(&format!(
        "SELECT {} FROM {} WHERE id = $1",
        InviteRow::column_list(),
        at.table::<InviteRow>(),
    ))
    .bind(id)
    .persistent(false)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| at_moment(vec![row], at).remove(0)))
}

/// Which uses to list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UseFilter {
    /// The user who used the invite.
    pub user: Option<String>,
    pub inviter: Option<String>,
    /// The invite's id.
    pub invite: Option<Uuid>,
    /// Used at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Used before this time.
    pub to: Option<DateTime<Utc>>,
}

/// Uses in log order, `limit` at a time.
pub async fn uses(
    conn: &mut PgConnection,
    at: At,
    filter: &UseFilter,
    cursor: Option<&str>,
    limit: i64,
) -> anyhow::Result<Result<Page<InviteUseRow>, BadCursor>> {
    let after: i64 = match cursor {
        Some(c) => match decode_cursor(c) {
            Some(position) => position,
            None => return Ok(Err(BadCursor)),
        },
        None => 0,
    };
    let query = uses_query(at, filter, after, Some(limit + 1))?;
    let rows: Vec<InviteUseRow> = sqlx::query_as_with(&query.sql, query.args)
        .persistent(false)
        .fetch_all(conn)
        .await?;
    Ok(Ok(page(rows, limit, |r| r.position)))
}

/// The uses query, now or as of a past moment, for a page (`limit`) or an
/// export (every row).
pub fn uses_query(
    at: At,
    filter: &UseFilter,
    after: i64,
    limit: Option<i64>,
) -> anyhow::Result<Query> {
    Query::new(format!(
        "SELECT {} FROM {}
          WHERE ($1::text IS NULL OR user_id = $1)
            AND ($2::text IS NULL OR inviter_id = $2)
            AND ($3::uuid IS NULL OR invite_id = $3)
            AND ($4::timestamptz IS NULL OR used_at >= $4)
            AND ($5::timestamptz IS NULL OR used_at < $5)
            AND position > $6
          ORDER BY position
          LIMIT $7",
        InviteUseRow::column_list(),
        at.table::<InviteUseRow>(),
    ))
    .bind(filter.user.clone())?
    .bind(filter.inviter.clone())?
    .bind(filter.invite)?
    .bind(filter.from)?
    .bind(filter.to)?
    .bind(after)?
    .bind(limit)
}
