//! The admin plugin's user management routes, beside `admin/set-role`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::UserJson;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, User};
use super::HttpState;
use crate::app::App;
use crate::commands::admin_users;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/admin/ban-user", post(ban_user))
        .route("/admin/unban-user", post(unban_user))
        .route("/admin/revoke-user-sessions", post(revoke_user_sessions))
        .route("/admin/remove-user", post(remove_user))
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
