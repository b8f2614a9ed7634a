//! `GET /invite/list`: the signed-in user's own invites, as the plugin lists
//! them (search, filter, sort, limit and offset over its invite fields). The
//! plugin's cleanup options are a view here: decided or used-up invites are
//! left out of the list, never deleted from the ledger.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::accounts::Account;
use crate::context::Context;
use crate::domain::closing;
use crate::error::ServiceError;
use crate::projections::invite::{InviteRow, InviteStatus};
use crate::projections::row::Row;
use crate::queries::search::{self, invalid};

const MAX_LIMIT: i64 = 1000;

/// The plugin's query parameters of `GET /invite/list`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The value to search for.
    pub search_value: Option<String>,
    /// `email` (the default) or `role`.
    pub search_field: Option<String>,
    /// `contains` (the default), `starts_with` or `ends_with`.
    pub search_operator: Option<String>,
    /// At most 1000.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// `createdAt` (the default), `expiresAt`, `email`, `role`, `status` or `maxUses`.
    pub sort_by: Option<String>,
    /// `asc` (the default) or `desc`.
    pub sort_direction: Option<String>,
    /// `status`, `role`, `email`, `newAccount` or `maxUses`.
    pub filter_field: Option<String>,
    pub filter_value: Option<String>,
    /// `eq` (the default), `ne`, `lt`, `lte`, `gt` or `gte`.
    pub filter_operator: Option<String>,
}

/// The plugin's cleanup options, as what the list leaves out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cleanup {
    /// `cleanupInvitesOnDecision`: cancelled and rejected invites.
    pub decided: bool,
    /// `cleanupInvitesAfterMaxUses`: used-up invites.
    pub used_up: bool,
}

/// One invite as the plugin's `InviteType` shows it. No `token`: only its hash
/// is kept; `id` names the invite for `invite/cancel` and `invite/resend`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListedInvite {
    pub id: Uuid,
    /// `pending`, `used`, `canceled`, `rejected` or `expired` (the plugin's words).
    pub status: &'static str,
    pub role: String,
    pub email: Option<String>,
    pub emails: Vec<String>,
    pub new_account: bool,
    pub max_uses: i32,
    pub infinity_max_uses: bool,
    pub uses: i32,
    pub created_by_user_id: String,
    pub share_inviter_name: bool,
    pub redirect_to_after_upgrade: String,
    pub token_type: String,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub expires_at: DateTime<Utc>,
}

/// What `GET /invite/list` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct InviteList {
    pub total: i64,
    pub invitations: Vec<ListedInvite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<i64>,
}

/// The plugin's name of a status.
pub fn plugin_status(status: InviteStatus) -> &'static str {
    match status {
        InviteStatus::Pending => "pending",
        InviteStatus::UsedUp => "used",
        InviteStatus::Cancelled => "canceled",
        InviteStatus::Rejected => "rejected",
        InviteStatus::Expired => "expired",
    }
}

fn our_status(plugin: &str) -> Option<InviteStatus> {
    Some(match plugin {
        "pending" => InviteStatus::Pending,
        "used" | "used_up" => InviteStatus::UsedUp,
        "canceled" | "cancelled" => InviteStatus::Cancelled,
        "rejected" => InviteStatus::Rejected,
        "expired" => InviteStatus::Expired,
        _ => return None,
    })
}

/// The column behind one of the plugin's field names, for search, filter or sort.
fn column(field: &str) -> Option<&'static str> {
    Some(match field {
        "email" | "emails" => "email",
        "role" => "role",
        "status" => "status_now",
        "createdAt" => "created_at",
        "expiresAt" => "expires_at",
        "maxUses" => "max_uses",
        "newAccount" => "new_account",
        _ => return None,
    })
}

/// The where clause shared by the count and the page.
fn push_where(
    sql: &mut QueryBuilder<'_, Postgres>,
    inviter_id: &str,
    query: &ListQuery,
    cleanup: Cleanup,
) -> Result<(), ServiceError> {
    sql.push(" WHERE inviter_id = ")
        .push_bind(inviter_id.to_string());
    if cleanup.decided {
        sql.push(" AND status NOT IN ('cancelled', 'rejected')");
    }
    if cleanup.used_up {
        sql.push(" AND status <> 'used_up'");
    }
    if let Some(value) = query.search_value.as_deref().filter(|v| !v.is_empty()) {
        let field = query.search_field.as_deref().unwrap_or("email");
        let column = match field {
            "email" | "emails" | "role" => column(field).unwrap_or("email"),
            other => return Err(invalid(format!("Cannot search by `{other}`"))),
        };
        let pattern = search::like_pattern(value, query.search_operator.as_deref())?;
        sql.push(format!(" AND {column} ILIKE ")).push_bind(pattern);
    }
    if let Some(value) = query.filter_value.as_deref() {
        let field = query.filter_field.as_deref().unwrap_or("email");
        if field == "createdByUserId" {
            return Ok(());
        }
        let column = column(field)
            .filter(|c| !matches!(*c, "created_at" | "expires_at"))
            .ok_or_else(|| invalid(format!("Cannot filter by `{field}`")))?;
        let op = search::comparison(query.filter_operator.as_deref())?;
        sql.push(format!(" AND {column} {op} "));
        match column {
            "max_uses" => {
                let n: i32 = value
                    .parse()
                    .map_err(|_| invalid("maxUses is compared with a number"))?;
                sql.push_bind(n);
            }
            "new_account" => {
                let b: bool = value
                    .parse()
                    .map_err(|_| invalid("newAccount is compared with true or false"))?;
                sql.push_bind(b);
            }
            "status_now" => {
                let status =
                    our_status(value).ok_or_else(|| invalid(format!("No status `{value}`")))?;
                sql.push_bind(status.as_str().to_string());
            }
            "email" => {
                sql.push_bind(value.to_lowercase());
            }
            _ => {
                sql.push_bind(value.to_string());
            }
        }
    }
    Ok(())
}

/// `GET /invite/list`: the invites `inviter` created, with the plugin's
/// cleanup options applied as a view.
pub async fn own(
    app: &Context,
    inviter: &Account,
    query: &ListQuery,
) -> Result<InviteList, ServiceError> {
    let config = &app.settings.config;
    let cleanup = Cleanup {
        decided: config.cleanup_invites_on_decision,
        used_up: config.cleanup_invites_after_max_uses,
    };
    let mut conn = app.pool.acquire().await?;
    list(&mut conn, &inviter.id, query, cleanup, app.clock.now()).await
}

/// The invites `inviter_id` created, as of `now`, the plugin's way.
pub async fn list(
    conn: &mut PgConnection,
    inviter_id: &str,
    query: &ListQuery,
    cleanup: Cleanup,
    now: DateTime<Utc>,
) -> Result<InviteList, ServiceError> {
    search::check_page(query.limit, query.offset, MAX_LIMIT)?;
    let mut count = with_status_now(now, "count(*)");
    push_where(&mut count, inviter_id, query, cleanup)?;
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;

    let mut page = with_status_now(now, &InviteRow::column_list());
    push_where(&mut page, inviter_id, query, cleanup)?;
    let sort = match query.sort_by.as_deref() {
        None => "created_at",
        Some(field) => column(field).ok_or_else(|| invalid(format!("Cannot sort by `{field}`")))?,
    };
    let direction = search::sort_direction(query.sort_direction.as_deref())?;
    page.push(format!(" ORDER BY {sort} {direction}, id {direction}"));
    page.push(" LIMIT ")
        .push_bind(query.limit.unwrap_or(MAX_LIMIT));
    page.push(" OFFSET ").push_bind(query.offset.unwrap_or(0));
    let rows: Vec<InviteRow> = page.build_query_as().fetch_all(&mut *conn).await?;
    Ok(InviteList {
        total,
        invitations: rows.into_iter().map(|row| listed(row, now)).collect(),
        limit: query.limit.filter(|l| *l > 0),
        offset: query.offset.filter(|o| *o > 0),
    })
}

/// `SELECT {what} FROM listed`, where `listed` is the invites with
/// `status_now`: a pending invite past its expiry is expired (`domain::closing`).
fn with_status_now(now: DateTime<Utc>, what: &str) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::<Postgres>::new("WITH moment AS (SELECT ");
    sql.push_bind(now).push(format!(
        "::timestamptz AS t),
         listed AS (SELECT invite.*,
                           (CASE WHEN status = 'pending' AND {} THEN 'expired' ELSE status END)
                               AS status_now
                      FROM invite, moment)
         SELECT {what} FROM listed",
        closing::expired_sql("expires_at", "moment.t")
    ));
    sql
}

fn listed(row: InviteRow, now: DateTime<Utc>) -> ListedInvite {
    let status = row.status_at(now);
    ListedInvite {
        id: row.id,
        status: plugin_status(status),
        role: row.role,
        emails: row.email.clone().into_iter().collect(),
        email: row.email,
        new_account: row.new_account,
        max_uses: row.max_uses,
        infinity_max_uses: row.infinity_max_uses,
        uses: row.uses,
        created_by_user_id: row.inviter_id,
        share_inviter_name: row.share_inviter_name,
        redirect_to_after_upgrade: row.redirect_to_after_upgrade,
        token_type: row.token_type,
        created_at: row.created_at,
        expires_at: row.expires_at,
    }
}
