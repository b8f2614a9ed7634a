//! The companion API's read-side question: the invites a Better Auth user
//! created, a page at a time (`/api/companion/invite/list`).

use sqlx::PgPool;

use crate::projections::invite::InviteRow;
use crate::projections::row::Row;

/// A page of the invites `inviter_id` created, newest first, and how many
/// match in all; `email_contains` narrows them to emails holding that text
/// (case-insensitive).
pub async fn created_by(
    pool: &PgPool,
    inviter_id: &str,
    email_contains: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<InviteRow>, i64)> {
    let pattern =
        email_contains.map(|text| format!("%{}%", super::search::literal(&text.to_lowercase())));
    let rows: Vec<InviteRow> = sqlx::query_as(&format!(
        "SELECT {} FROM invite
          WHERE inviter_id = $1 AND ($2::text IS NULL OR email LIKE $2)
          ORDER BY created_at DESC, id LIMIT $3 OFFSET $4",
        InviteRow::column_list()
    ))
    .bind(inviter_id)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invite WHERE inviter_id = $1 AND ($2::text IS NULL OR email LIKE $2)",
    )
    .bind(inviter_id)
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    Ok((rows, total))
}
