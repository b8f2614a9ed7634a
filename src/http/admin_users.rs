//! The admin plugin's user management routes, beside `admin/set-role`.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::UserJson;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, ListQueryParams, User};
use super::HttpState;
use crate::app::App;
use crate::commands::admin_users;
use crate::queries::user_list::{self, ListUsersQuery};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/admin/ban-user", post(ban_user))
        .route("/admin/unban-user", post(unban_user))
        .route("/admin/revoke-user-sessions", post(revoke_user_sessions))
        .route("/admin/remove-user", post(remove_user))
        .route("/admin/list-users", get(list_users))
}

/// `{users, total, limit?, offset?}`, as the admin plugin lists users.
#[derive(Serialize, ToSchema)]
pub struct UserList {
    users: Vec<UserJson>,
    /// How many users match, over every page.
    total: i64,
    /// The `limit` asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    limit: Option<i64>,
    /// The `offset` asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<i64>,
}

/// `{user}`, as the admin plugin answers a ban or an unban.
#[derive(Serialize, ToSchema)]
pub struct BannedAnswer {
    user: UserJson,
}

/// `{success: true}`.
#[derive(Serialize, ToSchema)]
pub struct Success {
    success: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct BanBody {
    user_id: String,
    /// "No reason" unless given.
    ban_reason: Option<String>,
    /// Seconds until the ban ends; for good without it.
    ban_expires_in: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct UserIdBody {
    user_id: String,
}

#[utoipa::path(post, path = "/api/auth/admin/ban-user", tag = "auth",
    request_body = BanBody,
    responses((status = 200, body = BannedAnswer, description = "Banned (a `Banned` event): \
            every session of the user ends and sign-in is refused with `BANNED_USER`"),
        (status = 400, body = ErrorBody, description = "`YOU_CANNOT_BAN_YOURSELF`, a malformed body"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "`YOU_ARE_NOT_ALLOWED_TO_BAN_USERS`"),
        (status = 404, body = ErrorBody, description = "`USER_NOT_FOUND`")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn ban_user(
    State(app): State<App>,
    User(admin): User,
    Body(body): Body<BanBody>,
) -> Result<Json<BannedAnswer>, ApiError> {
    let account = admin_users::ban(
        &app,
        &admin.account,
        &body.user_id,
        body.ban_reason,
        body.ban_expires_in,
    )
    .await?;
    Ok(Json(BannedAnswer {
        user: UserJson::from(&account),
    }))
}

#[utoipa::path(post, path = "/api/auth/admin/unban-user", tag = "auth",
    request_body = UserIdBody,
    responses((status = 200, body = BannedAnswer, description = "Unbanned (an `Unbanned` event)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "`YOU_ARE_NOT_ALLOWED_TO_BAN_USERS`"),
        (status = 404, body = ErrorBody, description = "`USER_NOT_FOUND`")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn unban_user(
    State(app): State<App>,
    User(admin): User,
    Body(body): Body<UserIdBody>,
) -> Result<Json<BannedAnswer>, ApiError> {
    let account = admin_users::unban(&app, &admin.account, &body.user_id).await?;
    Ok(Json(BannedAnswer {
        user: UserJson::from(&account),
    }))
}

#[utoipa::path(post, path = "/api/auth/admin/revoke-user-sessions", tag = "auth",
    request_body = UserIdBody,
    responses((status = 200, body = Success, description = "Every session of the user ended \
            (a `SessionsRevoked` event by the admin)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "`YOU_ARE_NOT_ALLOWED_TO_REVOKE_USERS_SESSIONS`"),
        (status = 404, body = ErrorBody, description = "`USER_NOT_FOUND`")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn revoke_user_sessions(
    State(app): State<App>,
    User(admin): User,
    Body(body): Body<UserIdBody>,
) -> Result<Json<Success>, ApiError> {
    admin_users::revoke_sessions(&app, &admin.account, &body.user_id).await?;
    Ok(Json(Success { success: true }))
}

#[utoipa::path(post, path = "/api/auth/admin/remove-user", tag = "auth",
    request_body = UserIdBody,
    responses((status = 200, body = Success, description = "The person is erased (an \
            `Erased` event), as the audit API's erasure does"),
        (status = 400, body = ErrorBody, description = "`YOU_CANNOT_REMOVE_YOURSELF`"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "`YOU_ARE_NOT_ALLOWED_TO_DELETE_USERS`"),
        (status = 404, body = ErrorBody, description = "`USER_NOT_FOUND`")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn remove_user(
    State(app): State<App>,
    User(admin): User,
    Body(body): Body<UserIdBody>,
) -> Result<Json<Success>, ApiError> {
    admin_users::remove(&app, &admin.account, &body.user_id).await?;
    Ok(Json(Success { success: true }))
}

#[utoipa::path(get, path = "/api/auth/admin/list-users", tag = "auth",
    params(ListUsersQuery),
    responses((status = 200, body = UserList, description = "One page of users (100 unless \
            `limit` says, at most 1000) and how many match in all; an erased person's email \
            and name read `[erased]`"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR`: a field, operator, \
            direction, limit or offset the list does not take"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "`YOU_ARE_NOT_ALLOWED_TO_LIST_USERS`")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn list_users(
    State(app): State<App>,
    User(admin): User,
    ListQueryParams(query): ListQueryParams<ListUsersQuery>,
) -> Result<Json<UserList>, ApiError> {
    let page = user_list::list(&app, &admin.account, &query).await?;
    Ok(Json(UserList {
        users: page.users.iter().map(UserJson::from).collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }))
}
