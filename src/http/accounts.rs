//! Better Auth's account routes: sign-up, sign-in, sign-out, session, set-role.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::cookies;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Client, MaybeUser, User};
use super::HttpState;
use crate::app::App;
use crate::auth::accounts::Account;
use crate::commands::accounts::{self, InviteReport, SignUp, SignedIn};
use crate::commands::idempotency::IdempotentRequest;
use crate::commands::invites::checked_callback;
use crate::error::ServiceError;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/sign-up/email", post(sign_up))
        .route("/sign-in/email", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/get-session", get(get_session))
        .route("/admin/set-role", post(set_role))
}

/// A user as Better Auth (with its admin plugin) shows one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    id: String,
    email: String,
    name: String,
    image: Option<String>,
    email_verified: bool,
    role: String,
    banned: bool,
    ban_reason: Option<String>,
    #[serde(serialize_with = "crate::json_time::option::serialize")]
    ban_expires: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json_time::serialize")]
    updated_at: DateTime<Utc>,
}

impl From<&Account> for UserJson {
    fn from(a: &Account) -> Self {
        UserJson {
            id: a.id.clone(),
            email: a.email.clone(),
            name: a.name.clone(),
            image: a.image.clone(),
            email_verified: a.email_verified,
            role: a.role.clone(),
            banned: a.banned,
            ban_reason: a.ban_reason.clone(),
            ban_expires: a.ban_expires,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"email": "test@example.com", "password": "test123", "name": "Test User"}))]
struct SignUpBody {
    email: String,
    password: String,
    name: String,
    /// Not followed here, but never accepted pointing at another site.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"email": "test@example.com", "password": "test123"}))]
struct SignInBody {
    email: String,
    password: String,
    /// Where the front end goes after signing in (Better Auth answers it as `url`).
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

#[utoipa::path(post, path = "/api/auth/sign-up/email", tag = "auth",
    request_body = SignUpBody,
    responses((status = 200, body = SignedInAnswer, description = "The new account, signed \
            in (the session cookie, and its token in `set-auth-token`); an activated invite \
            (its cookie) is used, and `invite` says how that went"),
        (status = 400, body = ErrorBody, description = "A field is missing or malformed, the \
            password is too short, or (`INVITE_ONLY`) the invite cookie's invite cannot be \
            used: the plugin's code, ours as `reason`"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL, or sign-up needs \
            an invite (`INVITE_ONLY`)"),
        (status = 422, body = ErrorBody, description = "The email is taken"),
        (status = 429, body = ErrorBody, description = "Too many unknown invite tokens from \
            this address")))]
async fn sign_up(
    State(state): State<HttpState>,
    jar: CookieJar,
    Client(client): Client,
    Body(body): Body<SignUpBody>,
) -> Result<impl IntoResponse, ApiError> {
    let app = &state.app;
    let invite = cookies::invite_token(&jar, &app.settings);
    if invite.is_some() {
        state.guards.before_token_lookup(&client).await?;
    }
    let request = SignUp {
        email: body.email,
        password: body.password,
        name: body.name,
        callback_url: checked_callback(app, body.callback_url.as_deref())?,
    };
    let signed_up = accounts::sign_up(app, request, invite.as_deref(), client.clone()).await;
    if invite.is_some() {
        state
            .guards
            .after_invite_cookie(&client, &signed_up)
            .await?;
    }
    Ok(signed_in_response(app, jar, signed_up?, None))
}

#[utoipa::path(post, path = "/api/auth/sign-in/email", tag = "auth",
    request_body = SignInBody,
    responses((status = 200, body = SignedInAnswer, description = "Signed in (the session \
            cookie, and its token in `set-auth-token`); a failed invite is reported in \
            `invite`, never blocks sign-in"),
        (status = 400, body = ErrorBody, description = "A field is missing or malformed"),
        (status = 401, body = ErrorBody, description = "INVALID_EMAIL_OR_PASSWORD"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL"),
        (status = 429, body = ErrorBody, description = "Too many attempts from this address \
            or for this account; `Retry-After` tells when to try again")))]
async fn sign_in(
    State(state): State<HttpState>,
    jar: CookieJar,
    Client(client): Client,
    Body(body): Body<SignInBody>,
) -> Result<impl IntoResponse, ApiError> {
    let app = &state.app;
    let callback = checked_callback(app, body.callback_url.as_deref())?;
    let guards = &state.guards;
    guards.before_sign_in(&client, &body.email).await?;
    let invite = cookies::invite_token(&jar, &app.settings);
    if invite.is_some() {
        guards.before_token_lookup(&client).await?;
    }
    let signed_in = accounts::sign_in(
        app,
        &body.email,
        body.password,
        invite.as_deref(),
        client.clone(),
    )
    .await;
    if let Err(ServiceError::InvalidCredentials) = &signed_in {
        guards.wrong_password(&body.email).await?;
    }
    if invite.is_some() {
        guards.after_invite_cookie(&client, &signed_in).await?;
    }
    Ok(signed_in_response(app, jar, signed_in?, callback))
}

/// Better Auth's `{redirect, token, url, user}`, the session cookie, and, when an
/// invite came along, the invite cookie cleared and what became of the invite.
/// A used invite redirects to its after-upgrade page (as the plugin's hook does);
/// otherwise the sign-in's own `callbackURL`, if any.
fn signed_in_response(
    app: &App,
    jar: CookieJar,
    signed_in: SignedIn,
    callback: Option<String>,
) -> impl IntoResponse {
    let SignedIn {
        account,
        session,
        invite,
    } = signed_in;
    let mut jar = jar;
    let mut headers = HeaderMap::new();
    if let Some(session) = &session {
        jar = cookies::with_session(jar, &app.settings, &session.token);
        if let Ok(value) = HeaderValue::from_str(&session.token) {
            headers.insert("set-auth-token", value);
        }
    }
    let redirect_to = invite
        .as_ref()
        .and_then(|r: &InviteReport| r.redirect_to.clone())
        .or(callback);
    // A private invite waiting for the address to be verified keeps its cookie
    // for the sign-in that follows.
    if invite
        .as_ref()
        .is_some_and(|r| r.code != Some("EMAIL_NOT_VERIFIED"))
    {
        jar = cookies::without_invite(jar, &app.settings);
    }
    let body = SignedInAnswer {
        redirect: redirect_to.is_some(),
        token: session.map(|s| s.token),
        url: redirect_to,
        user: UserJson::from(&account),
        invite,
    };
    (jar, headers, Json(body))
}

/// Better Auth's answer to a sign-up or sign-in.
#[derive(Serialize, ToSchema)]
pub struct SignedInAnswer {
    /// Whether the front end should go to `url`.
    redirect: bool,
    /// The session token (also in the session cookie and `set-auth-token`);
    /// `null` for a sign-up that must verify its address first.
    token: Option<String>,
    /// After a used invite, its after-upgrade page; else the `callbackURL` asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    user: UserJson,
    /// Present when an invite came with the request (its cookie): what became of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    invite: Option<InviteReport>,
}

/// `{success: true}`.
#[derive(Serialize, ToSchema)]
pub struct SignedOut {
    success: bool,
}

/// `{user}`.
#[derive(Serialize, ToSchema)]
pub struct UserAnswer {
    user: UserJson,
}

/// A signed-in request's session and user.
#[derive(Serialize, ToSchema)]
pub struct SessionAnswer {
    session: SessionJson,
    user: UserJson,
}

#[utoipa::path(post, path = "/api/auth/sign-out", tag = "auth",
    responses((status = 200, body = SignedOut, description = "The session ended and its \
        cookie cleared (also answered when signed out)")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn sign_out(
    State(app): State<App>,
    jar: CookieJar,
    MaybeUser(user): MaybeUser,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(user) = user {
        crate::auth::session::delete(&app.pool, &user.token).await?;
    }
    let jar = cookies::without_session(jar, &app.settings);
    Ok((jar, Json(SignedOut { success: true })))
}

/// `{session, user}` for a signed-in request, `null` otherwise (as Better Auth).
#[utoipa::path(get, path = "/api/auth/get-session", tag = "auth",
    responses((status = 200, body = Option<SessionAnswer>,
        description = "`{session, user}`, or `null` when signed out")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn get_session(MaybeUser(user): MaybeUser) -> Json<Option<SessionAnswer>> {
    let Some(user) = user else {
        return Json(None);
    };
    let s = &user.session;
    let session = SessionJson {
        id: s.id,
        token: user.token.clone(),
        user_id: s.user_id.clone(),
        expires_at: s.expires_at,
        created_at: s.created_at,
        updated_at: s.created_at,
        ip_address: s.ip_address.clone(),
        user_agent: s.user_agent.clone(),
        impersonated_by: None,
    };
    Json(Some(SessionAnswer {
        session,
        user: UserJson::from(&user.account),
    }))
}

/// A session as Better Auth shows one.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SessionJson {
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
    impersonated_by: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct SetRoleBody {
    user_id: String,
    role: String,
}

#[utoipa::path(post, path = "/api/auth/admin/set-role", tag = "auth",
    request_body = SetRoleBody,
    responses((status = 200, body = UserAnswer,
            description = "The user with the new role (recorded in the ledger)"),
        (status = 400, body = ErrorBody, description = "A field is missing, or the role is \
            not configured"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 409, body = ErrorBody, description = "`IDEMPOTENCY_KEY_IN_USE`: a twin request is being answered"),
        (status = 422, body = ErrorBody, description = "`IDEMPOTENCY_KEY_REUSED`: the key came with another request")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn set_role(
    State(app): State<App>,
    User(admin): User,
    key: Option<axum::Extension<IdempotentRequest>>,
    Body(body): Body<SetRoleBody>,
) -> Result<Json<UserAnswer>, ApiError> {
    let answer = |account: &Account| serde_json::json!({ "user": UserJson::from(account) });
    let key = key.as_ref().map(|axum::Extension(k)| (k, &answer as _));
    let account = accounts::set_role(&app, &admin.account, &body.user_id, &body.role, key).await?;
    Ok(Json(UserAnswer {
        user: UserJson::from(&account),
    }))
}
