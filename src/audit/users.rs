//! Who invited whom: the accounts an inviter brought in (a tree, level by level)
//! and the chain of inviters above an account, from `user_account.invited_by`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

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
