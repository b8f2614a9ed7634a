//! Who invited whom: the accounts an inviter brought in (a tree, level by level)
//! and the chain of inviters above an account, from `user_account.invited_by`;
//! and one person as the ledger tells it: found by id or email, with every role
//! they held and who gave it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

use super::export::Query;
use crate::domain::invite::InviteEvent;
use crate::domain::user::UserEvent;
use crate::ledger::{decode_rows, LedgerEvent, RecordedEvent, RECORDED_COLUMNS};

use super::as_of::At;
use crate::projections::user_account::UserAccount;

/// The deepest tree the API walks in one request.
pub const MAX_DEPTH: u32 = 20;

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserNode {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    /// Who invited this account into existence; `None` for a root.
    pub invited_by: Option<String>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub created_at: DateTime<Utc>,
}

/// An account and, to the depth asked for, the accounts it invited.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Invitee {
    #[serde(flatten)]
    pub user: UserNode,
    #[schema(no_recursion)]
    pub invitees: Vec<Invitee>,
}

const COLUMNS: &str = "id, email, name, role, invited_by, created_at";

pub async fn by_id(conn: &mut PgConnection, at: At, id: &str) -> sqlx::Result<Option<UserNode>> {
    let user_account = at.table::<UserAccount>();
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM {user_account} WHERE id = $1"
    ))
    .bind(id)
    .persistent(false)
    .fetch_optional(conn)
    .await
}

/// The accounts `root` invited, and theirs, down to `depth` levels.
pub async fn invitees(
    conn: &mut PgConnection,
    at: At,
    root: &str,
    depth: u32,
) -> sqlx::Result<Vec<Invitee>> {
    // One query per level; then the tree is assembled bottom-up.
    let mut levels: Vec<Vec<UserNode>> = Vec::new();
    let mut parents = vec![root.to_string()];
    let user_account = at.table::<UserAccount>();
    for _ in 0..depth.min(MAX_DEPTH) {
        let level: Vec<UserNode> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM {user_account} WHERE invited_by = ANY($1)
              ORDER BY created_at, id"
        ))
        .bind(&parents)
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
        if level.is_empty() {
            break;
        }
        parents = level.iter().map(|u| u.id.clone()).collect();
        levels.push(level);
    }
    let mut below: Vec<Invitee> = Vec::new();
    for level in levels.into_iter().rev() {
        let mut by_parent: HashMap<String, Vec<Invitee>> = HashMap::new();
        for child in below {
            let parent = child.user.invited_by.clone().unwrap_or_default();
            by_parent.entry(parent).or_default().push(child);
        }
        below = level
            .into_iter()
            .map(|user| Invitee {
                invitees: by_parent.remove(&user.id).unwrap_or_default(),
                user,
            })
            .collect();
    }
    Ok(below)
}

/// The inviters above `user`, nearest first, up to an account nobody invited.
pub async fn inviter_chain(
    conn: &mut PgConnection,
    at: At,
    user: &UserNode,
) -> sqlx::Result<Vec<UserNode>> {
    let mut chain: Vec<UserNode> = Vec::new();
    let mut next = user.invited_by.clone();
    while let Some(id) = next {
        // A chain never loops (an account is invited once, by an older one);
        // the bound only guards against a damaged read model.
        if chain.len() > 10_000 {
            break;
        }
        let Some(inviter) = by_id(conn, at, &id).await? else {
            break;
        };
        next = inviter.invited_by.clone();
        chain.push(inviter);
    }
    Ok(chain)
}

/// The user and the tree below them, if the user exists.
pub async fn with_invitees(
    conn: &mut PgConnection,
    at: At,
    id: &str,
    depth: u32,
) -> sqlx::Result<Option<(UserNode, Vec<Invitee>)>> {
    let Some(user) = by_id(conn, at, id).await? else {
        return Ok(None);
    };
    let below = invitees(conn, at, id, depth).await?;
    Ok(Some((user, below)))
}

/// The user and the inviters above them, if the user exists.
pub async fn with_inviter_chain(
    conn: &mut PgConnection,
    at: At,
    id: &str,
) -> sqlx::Result<Option<(UserNode, Vec<UserNode>)>> {
    let Some(user) = by_id(conn, at, id).await? else {
        return Ok(None);
    };
    let chain = inviter_chain(conn, at, &user).await?;
    Ok(Some((user, chain)))
}

/// How a user came by a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RoleChangeKind {
    /// The role the account was created with.
    Registered,
    /// An invite's use granted it.
    Invite,
    /// An admin set it.
    Admin,
}

/// One role a user was given, from one event of the ledger.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoleChange {
    pub role: String,
    /// The role before; `null` at registration.
    pub previous_role: Option<String>,
    /// The event's own time (as the command carried it).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    /// When the ledger recorded it (what `as_of` compares with).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    /// The event's place in the log (`transaction/position`, as the feed shows it).
    pub position: String,
    /// The admin who set the role, or the inviter whose invite granted it.
    pub by: Option<String>,
    /// The invite that granted it.
    pub invite_id: Option<Uuid>,
    pub kind: RoleChangeKind,
}

/// A person as the audit API shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub id: String,
    pub email: String,
    pub name: String,
    /// The role now.
    pub role: String,
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub created_at: DateTime<Utc>,
    /// The inviter whose invite the account signed up with; `null` otherwise.
    pub invited_by: Option<String>,
    /// The invite the account signed up with; `null` otherwise.
    pub invite_id: Option<Uuid>,
    /// Every role the user was given, in log order; the last is the current one.
    pub role_history: Vec<RoleChange>,
    /// When and by whom the person's emails and names were erased; `null` if never.
    pub erased: Option<ErasureNote>,
}

/// A person's (last) erasure, as the log recorded it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasureNote {
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub at: DateTime<Utc>,
    /// The admin's user id, or `cli` for `invite-ledger user erase`.
    pub by: String,
    /// The `Erased` event's log position.
    pub position: String,
}

/// The last `Erased` event among a person's events.
fn erasure_of(events: &[RecordedEvent]) -> Option<ErasureNote> {
    events
        .iter()
        .rev()
        .find_map(|recorded| match &recorded.event {
            LedgerEvent::User(UserEvent::Erased { by_user_id, at }) => Some(ErasureNote {
                at: *at,
                by: by_user_id.clone(),
                position: recorded.position.to_string(),
            }),
            _ => None,
        })
}

/// The id of the account with this email (compared case-insensitively).
pub async fn id_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT id FROM user_account WHERE email = $1")
        .bind(crate::domain::normalize_email(email))
        .persistent(false)
        .fetch_optional(conn)
        .await
}

/// The user with this id, with their role history from the log.
pub async fn profile(conn: &mut PgConnection, id: &str) -> anyhow::Result<Option<UserProfile>> {
    let now = At::Now(chrono::Utc::now());
    let Some(user) = by_id(conn, now, id).await? else {
        return Ok(None);
    };
    let events = events_about(conn, id).await?;
    let (role_history, sign_up) = role_history(&events);
    let erased = erasure_of(&events);
    Ok(Some(UserProfile {
        erased,
        invited_by: sign_up
            .as_ref()
            .map(|(_, inviter)| inviter.clone())
            .or(user.invited_by),
        invite_id: sign_up.map(|(invite, _)| invite),
        id: user.id,
        email: user.email,
        name: user.name,
        role: user.role,
        created_at: user.created_at,
        role_history,
    }))
}

/// The user's own events and the uses of invites by them, in log order
/// (both looked up by index: the primary key and `events_actor`).
async fn events_about(conn: &mut PgConnection, id: &str) -> anyhow::Result<Vec<RecordedEvent>> {
    let rows = sqlx::query(&format!(
        "SELECT {RECORDED_COLUMNS} FROM events
          WHERE aggregate_type = 'user' AND aggregate_id = $1
         UNION ALL
         SELECT {RECORDED_COLUMNS} FROM events
          WHERE ledger_actor(aggregate_type, aggregate_id, payload) = $1
            AND aggregate_type = 'invite' AND event_type = 'Used'
         ORDER BY xid, global_position"
    ))
    .bind(id)
    .persistent(false)
    .fetch_all(&mut *conn)
    .await?;
    decode_rows(conn, &rows).await
}

/// The roles in these events, and the invite (with its inviter) the account
/// signed up with. A sign-up's `Used` recorded before the account's
/// `Registered` (invite-only sign-up) is not a change of its own: the account
/// registers with the invited role, so it is told on the registration.
fn role_history(events: &[RecordedEvent]) -> (Vec<RoleChange>, Option<(Uuid, String)>) {
    let mut history = Vec::new();
    let mut sign_up: Option<(Uuid, String)> = None;
    let mut registered = false;
    for recorded in events {
        let change = |role: &str, previous: Option<&str>, at, by, invite_id, kind| RoleChange {
            role: role.to_string(),
            previous_role: previous.map(str::to_string),
            at,
            recorded_at: recorded.recorded_at,
            position: recorded.position.to_string(),
            by,
            invite_id,
            kind,
        };
        match &recorded.event {
            LedgerEvent::User(
                UserEvent::Registered { role, at, .. } | UserEvent::Introduced { role, at, .. },
            ) => {
                registered = true;
                let (invite, inviter) = sign_up.clone().unzip();
                history.push(change(
                    role,
                    None,
                    *at,
                    inviter,
                    invite,
                    RoleChangeKind::Registered,
                ));
            }
            LedgerEvent::User(UserEvent::RoleSet {
                role_before,
                role,
                by_user_id,
                at,
            }) => history.push(change(
                role,
                Some(role_before.as_str()),
                *at,
                Some(by_user_id.clone()),
                None,
                RoleChangeKind::Admin,
            )),
            LedgerEvent::Invite(InviteEvent::Used {
                invite_id,
                inviter_id,
                role_before,
                role_after,
                new_account,
                at,
                ..
            }) => {
                if *new_account && sign_up.is_none() {
                    sign_up = Some((*invite_id, inviter_id.clone()));
                }
                if registered {
                    history.push(change(
                        role_after,
                        Some(role_before.as_str()),
                        *at,
                        Some(inviter_id.clone()),
                        Some(*invite_id),
                        RoleChangeKind::Invite,
                    ));
                }
            }
            LedgerEvent::User(_) | LedgerEvent::Invite(_) | LedgerEvent::Organization(_) => {}
        }
    }
    (history, sign_up)
}

/// Every account below `root` down to `depth` levels (now or as of a past
/// moment), a row each with its level, in tree order by level: the invitees
/// export.
pub fn invitees_query(at: At, root: &str, depth: u32) -> anyhow::Result<Query> {
    let user_account = at.table::<UserAccount>();
    Query::new(format!(
        "WITH RECURSIVE below AS (
             SELECT {COLUMNS}, 1 AS depth FROM {user_account} WHERE invited_by = $1
              UNION ALL
             SELECT user_account.id, user_account.email, user_account.name,
                    user_account.role, user_account.invited_by, user_account.created_at,
                    below.depth + 1
               FROM {user_account} JOIN below ON user_account.invited_by = below.id
              WHERE below.depth < $2)
         SELECT {COLUMNS}, depth FROM below ORDER BY depth, created_at, id"
    ))
    .bind(root.to_string())?
    .bind(depth.min(MAX_DEPTH) as i32)
}

/// One row of the invitees export.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct InviteeRow {
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub user: UserNode,
    /// 1 for the user's own invitees, 2 for theirs, and so on.
    pub depth: i32,
}
