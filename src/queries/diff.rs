//! What changed between two moments, from the log: invites created, used and
//! closed, and roles changed, by the events recorded after `from` and up to
//! `to` (so the diff of `as_of=from` and `as_of=to`).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::users::RoleChangeKind;
use crate::domain::closing::{self, Closed};
use crate::domain::invite::InviteEvent;
use crate::domain::user::UserEvent;
use crate::ledger::{decode_rows, stored, LedgerEvent, RecordedEvent, RECORDED_COLUMNS};

/// Events listed at most in one answer; the counts are always whole.
pub const MAX_EVENTS: i64 = 10_000;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvite {
    pub invite_id: Uuid,
    pub role: String,
    /// The invited email of a private invite.
    pub email: Option<String>,
    pub inviter_id: String,
    pub max_uses: u32,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsedInvite {
    pub invite_id: Uuid,
    pub user_id: String,
    pub user_email: String,
    pub inviter_id: String,
    pub role_before: String,
    pub role_after: String,
    pub new_account: bool,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Closing {
    Cancelled,
    Rejected,
    Expired,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClosedInvite {
    pub invite_id: Uuid,
    pub how: Closing,
    /// Who cancelled or rejected it; `null` for an expiry.
    pub by: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleChanged {
    pub user_id: String,
    pub role: String,
    pub previous_role: String,
    /// The admin who set it, or the inviter whose invite granted it.
    pub by: String,
    /// The invite that granted it.
    pub invite_id: Option<Uuid>,
    pub kind: RoleChangeKind,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    pub position: String,
}

/// How many of each, whether listed in full or not.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffCounts {
    pub created: i64,
    pub used: i64,
    pub closed: i64,
    pub roles_changed: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub from: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub to: DateTime<Utc>,
    pub created: Vec<CreatedInvite>,
    pub used: Vec<UsedInvite>,
    pub closed: Vec<ClosedInvite>,
    pub roles_changed: Vec<RoleChanged>,
    pub counts: DiffCounts,
    /// `false` when more than 10,000 events changed something: the lists then
    /// hold the first ones in log order (export `/events` with the same
    /// `from`/`to` for all of them).
    pub complete: bool,
}

/// Events recorded in `(from, to]` (`$1`, `$2`), below the read horizon (so
/// the answer for a past range never changes): what every diff counts.
pub const RECORDED_IN_RANGE: &str = "recorded_at > $1 AND recorded_at <= $2
    AND transaction_id < (SELECT ledger_read_horizon())";

/// The events that count, recorded in `(from, to]`, each with its invite's id.
static RANGE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{RECORDED_IN_RANGE}
            AND event_type IN ('Created', 'Used', {closing}, 'RoleSet')",
        closing = closing::closing_events_sql()
    )
});

pub async fn between(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Diff> {
    let range = &*RANGE;
    let of_invite = stored::field_sql(Some("c"), stored::CREATED_INVITE_ID);
    let rows = sqlx::query(&format!(
        "SELECT {RECORDED_COLUMNS},
                (SELECT ({of_invite})::uuid
                   FROM events c
                  WHERE c.aggregate_type = e.aggregate_type AND c.aggregate_id = e.aggregate_id
                    AND c.event_type = 'Created'
                  LIMIT 1) AS of_invite
           FROM events e
          WHERE {range}
          ORDER BY transaction_id, global_position
          LIMIT $3"
    ))
    .bind(from)
    .bind(to)
    .bind(MAX_EVENTS + 1)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    let complete = rows.len() as i64 <= MAX_EVENTS;
    let mut diff = Diff {
        from,
        to,
        created: Vec::new(),
        used: Vec::new(),
        closed: Vec::new(),
        roles_changed: Vec::new(),
        counts: counts(&mut *conn, from, to).await?,
        complete,
    };
    let rows = &rows[..rows.len().min(MAX_EVENTS as usize)];
    let events = decode_rows(conn, rows).await?;
    for (row, recorded) in rows.iter().zip(events) {
        add(&mut diff, row, recorded)?;
    }
    Ok(diff)
}

async fn counts(
    conn: &mut PgConnection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<DiffCounts> {
    let range = &*RANGE;
    let closing = closing::closing_events_sql();
    let role_before = stored::field_sql(None, stored::USED_ROLE_BEFORE);
    let role_after = stored::field_sql(None, stored::USED_ROLE_AFTER);
    let (created, used, closed, roles_changed): (i64, i64, i64, i64) = sqlx::query_as(&format!(
        "SELECT count(*) FILTER (WHERE event_type = 'Created'),
                count(*) FILTER (WHERE event_type = 'Used'),
                count(*) FILTER (WHERE event_type IN ({closing})),
                count(*) FILTER (WHERE event_type = 'RoleSet' OR (event_type = 'Used'
                    AND {role_before} IS DISTINCT FROM {role_after}))
           FROM events
          WHERE {range}"
    ))
    .bind(from)
    .bind(to)
    .persistent(false)
    .fetch_one(conn)
    .await?;
    Ok(DiffCounts {
        created,
        used,
        closed,
        roles_changed,
    })
}

fn add(diff: &mut Diff, row: &PgRow, recorded: RecordedEvent) -> anyhow::Result<()> {
    let of_invite: Option<Uuid> = row.try_get("of_invite")?;
    let (recorded_at, position) = (recorded.recorded_at, recorded.position.to_string());
    let closed = |how, by: Option<&String>| {
        of_invite.map(|invite_id| ClosedInvite {
            invite_id,
            how,
            by: by.cloned(),
            recorded_at,
            position: position.clone(),
        })
    };
    match &recorded.event {
        LedgerEvent::Invite(InviteEvent::Created {
            terms, inviter_id, ..
        }) => diff.created.push(CreatedInvite {
            invite_id: terms.invite_id,
            role: terms.role.clone(),
            email: terms.email.clone(),
            inviter_id: inviter_id.clone(),
            max_uses: terms.max_uses,
            expires_at: terms.expires_at,
            recorded_at,
            position: position.clone(),
        }),
        LedgerEvent::Invite(InviteEvent::Used {
            invite_id,
            inviter_id,
            user_id,
            user_email,
            role_before,
            role_after,
            new_account,
            ..
        }) => {
            diff.used.push(UsedInvite {
                invite_id: *invite_id,
                user_id: user_id.clone(),
                user_email: user_email.clone(),
                inviter_id: inviter_id.clone(),
                role_before: role_before.clone(),
                role_after: role_after.clone(),
                new_account: *new_account,
                recorded_at,
                position: position.clone(),
            });
            if role_before != role_after {
                diff.roles_changed.push(RoleChanged {
                    user_id: user_id.clone(),
                    role: role_after.clone(),
                    previous_role: role_before.clone(),
                    by: inviter_id.clone(),
                    invite_id: Some(*invite_id),
                    kind: RoleChangeKind::Invite,
                    recorded_at,
                    position: position.clone(),
                });
            }
        }
        LedgerEvent::Invite(event) if event.closing().is_some() => {
            let by = match event {
                InviteEvent::Cancelled { by_user_id, .. }
                | InviteEvent::Rejected { by_user_id, .. } => Some(by_user_id),
                _ => None,
            };
            let how = match event.closing().expect("a closing event") {
                Closed::Cancelled => Closing::Cancelled,
                Closed::Rejected => Closing::Rejected,
                Closed::Expired => Closing::Expired,
            };
            diff.closed.extend(closed(how, by));
        }
        LedgerEvent::User(UserEvent::RoleSet {
            role_before,
            role,
            by_user_id,
            ..
        }) => diff.roles_changed.push(RoleChanged {
            user_id: recorded.aggregate_id.clone(),
            role: role.clone(),
            previous_role: role_before.clone(),
            by: by_user_id.clone(),
            invite_id: None,
            kind: RoleChangeKind::Admin,
            recorded_at,
            position: position.clone(),
        }),
        LedgerEvent::Invite(_) | LedgerEvent::User(_) | LedgerEvent::Organization(_) => {}
    }
    Ok(())
}
