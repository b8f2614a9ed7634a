//! Better Auth's password and session routes: reset by email, change,
//! and the signed-in user's sessions.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::UserJson;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Client, PathParams, QueryParams, User};
use super::HttpState;
use crate::app::App;
use crate::auth::session;
use crate::commands::invites::checked_callback;
use crate::commands::passwords::{self, RESET_REQUESTED};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/request-password-reset", post(request_reset))
        .route("/reset-password/{token}", get(reset_link))
        .route("/reset-password", post(reset))
        .route("/change-password", post(change))
        .route("/list-sessions", get(list_sessions))
        .route("/revoke-session", post(revoke_session))
        .route("/revoke-sessions", post(revoke_sessions))
        .route("/revoke-other-sessions", post(revoke_other_sessions))
}

/// `{status: true, message?}`, as Better Auth answers these routes.
#[derive(Serialize, ToSchema)]
pub struct Status {
    status: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

impl Status {
    fn done() -> Json<Status> {
        Json(Status {
            status: true,
            message: None,
        })
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ResetRequestBody {
    email: String,
    /// The page the emailed link leads to, with `?token=` (a relative path or
    /// a trusted origin).
    redirect_to: Option<String>,
}

#[utoipa::path(post, path = "/api/auth/request-password-reset", tag = "auth",
    request_body = ResetRequestBody,
    responses((status = 200, body = Status, description = "The same answer whether or not \
            the address has an account; if it has, a single-use link is emailed (at most \
            `PASSWORD_RESETS_PER_EMAIL` an hour)"),
        (status = 400, body = ErrorBody, description = "A malformed body"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL")))]
async fn request_reset(
    State(app): State<App>,
    Body(body): Body<ResetRequestBody>,
) -> Result<Json<Status>, ApiError> {
    let callback = checked_callback(&app, body.redirect_to.as_deref())?;
    passwords::request_reset(&app, &body.email, callback).await?;
    Ok(Json(Status {
        status: true,
        message: Some(RESET_REQUESTED.to_string()),
    }))
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

#[utoipa::path(get, path = "/api/auth/reset-password/{token}", tag = "auth",
    params(("token" = String, Path, description = "The token the email carried"),
        ("callbackURL" = Option<String>, Query, description = "The reset page")),
    responses((status = 303, description = "To `callbackURL?token=...`, or \
            `?error=INVALID_TOKEN` for an unknown, used or expired token"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")))]
async fn reset_link(
    State(state): State<HttpState>,
    Client(client): Client,
    PathParams(token): PathParams<String>,
    QueryParams(query): QueryParams<LinkQuery>,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let page = checked_callback(app, query.callback_url.as_deref())?.unwrap_or_else(|| "/".into());
    state.guards.before_token_lookup(&client).await?;
    let separator = if page.contains('?') { '&' } else { '?' };
    let encoded: String = url::form_urlencoded::byte_serialize(token.as_bytes()).collect();
    Ok(match passwords::reset_token_user(app, &token).await {
        Ok(_) => Redirect::to(&format!("{page}{separator}token={encoded}")).into_response(),
        Err(error) if error.code() == "INVALID_TOKEN" => {
            state.guards.unknown_token(&client).await?;
            Redirect::to(&format!("{page}{separator}error=INVALID_TOKEN")).into_response()
        }
        Err(error) => return Err(error.into()),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ResetBody {
    new_password: String,
    /// Or `?token=` in the query, as Better Auth takes it.
    token: Option<String>,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

#[utoipa::path(post, path = "/api/auth/reset-password", tag = "auth",
    request_body = ResetBody,
    responses((status = 200, body = Status, description = "The password is set (a \
            `PasswordSet` event) and every session of the account ends (`SessionsRevoked`)"),
        (status = 400, body = ErrorBody, description = "`INVALID_TOKEN` (unknown, used or \
            expired), `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")))]
async fn reset(
    State(state): State<HttpState>,
    Client(client): Client,
    QueryParams(query): QueryParams<TokenQuery>,
    Body(body): Body<ResetBody>,
) -> Result<Json<Status>, ApiError> {
    let app = &state.app;
    let Some(token) = body.token.or(query.token) else {
        return Err(
            crate::error::ServiceError::bad_request("INVALID_TOKEN", "Invalid token").into(),
        );
    };
    state.guards.before_token_lookup(&client).await?;
    let result = passwords::reset(app, &token, body.new_password).await;
    if matches!(&result, Err(e) if e.code() == "INVALID_TOKEN") {
        state.guards.unknown_token(&client).await?;
    }
    result?;
    Ok(Status::done())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChangeBody {
    new_password: String,
    current_password: String,
    #[serde(default)]
    revoke_other_sessions: bool,
}

/// What `change-password` answers: the session token when others were
/// ended (this one goes on), and the user.
#[derive(Serialize, ToSchema)]
pub struct Changed {
    token: Option<String>,
    user: UserJson,
}

#[utoipa::path(post, path = "/api/auth/change-password", tag = "auth",
    request_body = ChangeBody,
    responses((status = 200, body = Changed, description = "The password is set (a \
            `PasswordSet` event); with `revokeOtherSessions`, every other session ends"),
        (status = 400, body = ErrorBody, description = "`INVALID_PASSWORD` (the current one is \
            wrong), `PASSWORD_TOO_SHORT`, `PASSWORD_TOO_LONG`"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn change(
    State(state): State<HttpState>,
    User(user): User,
    Body(body): Body<ChangeBody>,
) -> Result<Json<Changed>, ApiError> {
    let email = user.account.email.clone();
    // Guessing the current password counts like a wrong sign-in.
    state.guards.before_sign_in_account(&email).await?;
    let result = passwords::change(
        &state.app,
        &user.account,
        &user.session,
        body.current_password,
        body.new_password,
        body.revoke_other_sessions,
    )
    .await;
    if matches!(&result, Err(e) if e.code() == "INVALID_PASSWORD") {
        state.guards.wrong_password(&email).await?;
    }
    let account = result?;
    Ok(Json(Changed {
        token: body.revoke_other_sessions.then_some(user.token),
        user: UserJson::from(&account),
    }))
}

/// A session as `list-sessions` shows it: tokens are stored only as hashes,
/// so `token` is the session's id, which `revoke-session` takes too.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListedSession {
    id: uuid::Uuid,
    token: String,
    user_id: String,
    #[serde(serialize_with = "crate::json_time::serialize")]
    expires_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    updated_at: DateTime<Utc>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

#[utoipa::path(get, path = "/api/auth/list-sessions", tag = "auth",
    responses((status = 200, body = Vec<ListedSession>, description = "The user's live \
            sessions, newest first"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn list_sessions(
    State(app): State<App>,
    User(user): User,
) -> Result<Json<Vec<ListedSession>>, ApiError> {
    let sessions = session::list_of(&app.pool, &user.account.id, app.clock.now()).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| ListedSession {
                id: s.id,
                token: s.id.to_string(),
                user_id: s.user_id,
                expires_at: s.expires_at,
                created_at: s.created_at,
                updated_at: s.created_at,
                ip_address: s.ip_address,
                user_agent: s.user_agent,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
struct RevokeBody {
    /// A session's token, or its id (what `list-sessions` shows as `token`).
    token: String,
}

#[utoipa::path(post, path = "/api/auth/revoke-session", tag = "auth",
    request_body = RevokeBody,
    responses((status = 200, body = Status, description = "That session of the user ended \
            (a `SessionsRevoked` event); another user's or an unknown one: nothing happens"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn revoke_session(
    State(app): State<App>,
    User(user): User,
    Body(body): Body<RevokeBody>,
) -> Result<Json<Status>, ApiError> {
    passwords::end_one_session(&app, &user.account, &body.token).await?;
    Ok(Status::done())
}

#[utoipa::path(post, path = "/api/auth/revoke-sessions", tag = "auth",
    responses((status = 200, body = Status, description = "Every session of the user ended, \
            this one included (a `SessionsRevoked` event)"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn revoke_sessions(
    State(app): State<App>,
    User(user): User,
) -> Result<Json<Status>, ApiError> {
    let id = &user.account.id;
    passwords::end_sessions(&app, id, id, None).await?;
    Ok(Status::done())
}

#[utoipa::path(post, path = "/api/auth/revoke-other-sessions", tag = "auth",
    responses((status = 200, body = Status, description = "Every other session of the user \
            ended (a `SessionsRevoked` event)"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn revoke_other_sessions(
    State(app): State<App>,
    User(user): User,
) -> Result<Json<Status>, ApiError> {
    let id = &user.account.id;
    passwords::end_sessions(&app, id, id, Some(&user.session)).await?;
    Ok(Status::done())
}
