//! The audit API's answers about people: the accounts a user invited (a tree,
//! or an export of it), the chain of inviters above a user, and one user's
//! profile found by id or email.

use std::borrow::Cow;

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::export::{self, camel_case, Format};
use super::source::{Reflects, Source};
use super::standby;
use super::users::{self, Invitee, InviteeRow, UserNode, UserProfile};
use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::Position;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteesAnswer {
    pub user: UserNode,
    pub invitees: Vec<Invitee>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainAnswer {
    pub user: UserNode,
    /// The user's inviter first, then that one's, up to an account nobody invited.
    pub chain: Vec<UserNode>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

fn user_missing_then() -> ServiceError {
    ServiceError::NotFound {
        code: "USER_NOT_FOUND",
        message: Cow::Borrowed("No such user (at that time)"),
    }
}

fn user_missing() -> ServiceError {
    ServiceError::NotFound {
        code: "USER_NOT_FOUND",
        message: Cow::Borrowed("No such user"),
    }
}

/// How deep a tree may be asked for: 1 (the user's own invitees) to `MAX_DEPTH`.
pub fn check_depth(depth: u32) -> Result<u32, ServiceError> {
    if (1..=users::MAX_DEPTH).contains(&depth) {
        return Ok(depth);
    }
    Err(ServiceError::bad_request(
        "INVALID_DEPTH",
        format!("depth must be between 1 and {}", users::MAX_DEPTH),
    ))
}

/// Every account below `id` down to `depth`, one row each with its depth, as
/// CSV or NDJSON, now or as the tree stood at `as_of`.
pub async fn export_invitees(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    id: &str,
    depth: u32,
    format: Format,
) -> Result<Response, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    let at = source.at;
    users::by_id(source.conn(), at, id)
        .await?
        .ok_or_else(user_missing_then)?;
    let query = users::invitees_query(at, id, depth)?;
    let mut columns = export::columns::<UserNode>(&camel_case(&[
        "id",
        "email",
        "name",
        "role",
        "invited_by",
        "created_at",
    ]));
    columns.push("depth".into());
    Ok(export::respond(
        source.into_conn(),
        query,
        format,
        "invitees",
        columns,
        |row| Ok(InviteeRow::from_row(row)?),
    ))
}

/// The accounts a user invited into existence, and theirs down to `depth`.
pub async fn invitees(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    id: &str,
    depth: u32,
) -> Result<InviteesAnswer, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    let at = source.at;
    let found = users::with_invitees(source.conn(), at, id, depth).await;
    let reflects = source.reflects();
    let (user, invitees) = found?.ok_or_else(user_missing_then)?;
    Ok(InviteesAnswer {
        user,
        invitees,
        reflects,
    })
}

/// Who invited this user, who invited them, and so on up to the root.
pub async fn inviter_chain(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    id: &str,
) -> Result<ChainAnswer, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    let at = source.at;
    let found = users::with_inviter_chain(source.conn(), at, id).await;
    let reflects = source.reflects();
    let (user, chain) = found?.ok_or_else(user_missing_then)?;
    Ok(ChainAnswer {
        user,
        chain,
        reflects,
    })
}

/// The account with this email, with its role history.
pub async fn profile_by_email(
    context: &Context,
    seen: Option<Position>,
    email: &str,
) -> Result<UserProfile, ServiceError> {
    if email.trim().is_empty() {
        return Err(ServiceError::bad_request(
            "VALIDATION_ERROR",
            "email must not be empty",
        ));
    }
    let (mut conn, _) = standby::connection(context, seen).await?;
    let id = users::id_by_email(&mut conn, email)
        .await?
        .ok_or_else(user_missing)?;
    users::profile(&mut conn, &id)
        .await?
        .ok_or_else(user_missing)
}

/// One account with its role history.
pub async fn profile(
    context: &Context,
    seen: Option<Position>,
    id: &str,
) -> Result<UserProfile, ServiceError> {
    let (mut conn, _) = standby::connection(context, seen).await?;
    users::profile(&mut conn, id)
        .await?
        .ok_or_else(user_missing)
}
