//! Better Auth's `update-user` and `delete-user` routes.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, User};
use super::{cookies, HttpState};
use crate::app::App;
use crate::commands::deletion;
use crate::commands::invites::checked_callback;
use crate::commands::profile::{self, ProfileChange};

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/update-user", post(update_user))
        .route("/delete-user", post(delete_user))
}

#[derive(Deserialize, ToSchema)]
struct UpdateUserBody {
    name: Option<String>,
    /// A URL; `null` removes the picture.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    image: Option<Option<String>>,
}

/// Tells a field given as `null` from one left out.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// `{status: true}`, as Better Auth answers.
#[derive(Serialize, ToSchema)]
pub struct Updated {
    status: bool,
}

#[utoipa::path(post, path = "/api/auth/update-user", tag = "auth",
    request_body = UpdateUserBody,
    responses((status = 200, body = Updated, description = "The name or picture is changed (a \
            `ProfileUpdated` event, sealed as personal data)"),
        (status = 400, body = ErrorBody, description = "`INVALID_NAME`, a malformed body"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn update_user(
    State(app): State<App>,
    User(user): User,
    Body(body): Body<UpdateUserBody>,
) -> Result<Json<Updated>, ApiError> {
    let change = ProfileChange {
        name: body.name,
        image: body.image,
    };
    profile::update(&app, &user.account, change).await?;
    Ok(Json(Updated { status: true }))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct DeleteUserBody {
    /// The current password; without it, the session must be fresh.
    password: Option<String>,
    /// A deletion link's token (none is emailed here: always `INVALID_TOKEN`).
    token: Option<String>,
    /// Not followed here, but never accepted pointing at another site.
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// `{success: true, message: "User deleted"}`, as Better Auth answers.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    success: bool,
    message: &'static str,
}

#[utoipa::path(post, path = "/api/auth/delete-user", tag = "auth",
    request_body = DeleteUserBody,
    responses((status = 200, body = Deleted, description = "The person is erased (an `Erased` \
            event by themselves), signed out everywhere, the session cookie cleared"),
        (status = 400, body = ErrorBody, description = "`INVALID_PASSWORD`, `SESSION_EXPIRED` \
            (no password and a session older than `SESSION_FRESH_AGE`), `INVALID_TOKEN`"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL"),
        (status = 404, body = ErrorBody, description = "`DELETE_USER_ENABLED` is off")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn delete_user(
    State(state): State<HttpState>,
    jar: CookieJar,
    User(user): User,
    Body(body): Body<DeleteUserBody>,
) -> Result<impl IntoResponse, ApiError> {
    let app = &state.app;
    checked_callback(app, body.callback_url.as_deref())?;
    let email = user.account.email.clone();
    // Guessing the password counts like a wrong sign-in.
    if body.password.is_some() {
        state.guards.before_sign_in_account(&email).await?;
    }
    let result =
        deletion::delete_own(app, &user.account, &user.session, body.password, body.token).await;
    if matches!(&result, Err(e) if e.code() == "INVALID_PASSWORD") {
        state.guards.wrong_password(&email).await?;
    }
    result?;
    let jar = cookies::without_session(jar, &app.settings);
    Ok((
        jar,
        Json(Deleted {
            success: true,
            message: deletion::USER_DELETED,
        }),
    ))
}
