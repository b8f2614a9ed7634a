//! Better Auth's email verification routes and `change-email`.

use axum::extract::State;
use axum::http::header::LOCATION;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::accounts::UserJson;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Client, MaybeUser, QueryParams, User};
use super::HttpState;
use crate::app::App;
use crate::commands::email_verification::{self, Verified};
use crate::commands::invites::checked_callback;
use crate::error::ServiceError;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/send-verification-email", post(send_verification_email))
        .route("/verify-email", get(verify_email))
        .route("/change-email", post(change_email))
}

/// `{status: true}`, as Better Auth answers.
#[derive(Serialize, ToSchema)]
pub struct Sent {
    status: bool,
}

#[derive(Deserialize, ToSchema)]
struct SendBody {
    email: String,
    /// Where the emailed link leads once used (a relative path or a trusted origin).
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

#[utoipa::path(post, path = "/api/auth/send-verification-email", tag = "auth",
    request_body = SendBody,
    responses((status = 200, body = Sent, description = "A single-use link is emailed to an \
            account not verified yet (at most `VERIFICATION_EMAILS_PER_EMAIL` an hour per \
            address); signed out, the same answer for every address"),
        (status = 400, body = ErrorBody, description = "Signed in: `EMAIL_MISMATCH` (not the \
            user's address), `EMAIL_ALREADY_VERIFIED`"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn send_verification_email(
    State(app): State<App>,
    MaybeUser(user): MaybeUser,
    Body(body): Body<SendBody>,
) -> Result<Json<Sent>, ApiError> {
    let callback = checked_callback(&app, body.callback_url.as_deref())?;
    let account = user.as_ref().map(|u| &u.account);
    email_verification::send_verification_email(&app, account, &body.email, callback.as_deref())
        .await?;
    Ok(Json(Sent { status: true }))
}

#[derive(Deserialize)]
struct VerifyQuery {
    token: String,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

/// What `verify-email` answers without a `callbackURL`.
#[derive(Serialize, ToSchema)]
pub struct VerifiedAnswer {
    status: bool,
    /// The account after a change of email; `null` after a verification.
    user: Option<UserJson>,
}

#[utoipa::path(get, path = "/api/auth/verify-email", tag = "auth",
    params(("token" = String, Query, description = "The token the email carried"),
        ("callbackURL" = Option<String>, Query, description = "Where to go next")),
    responses((status = 200, body = VerifiedAnswer, description = "Without `callbackURL`: \
            the address is verified (an `EmailVerified` event), or the account moved to the \
            new one (`EmailChanged`)"),
        (status = 302, description = "With `callbackURL`: to it, or to it with \
            `?error=INVALID_TOKEN|TOKEN_EXPIRED|USER_NOT_FOUND|INVALID_USER`"),
        (status = 401, body = ErrorBody, description = "Without `callbackURL`: `INVALID_TOKEN` \
            (unknown or used), `TOKEN_EXPIRED`, `USER_NOT_FOUND`, `INVALID_USER`"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn verify_email(
    State(state): State<HttpState>,
    Client(client): Client,
    MaybeUser(user): MaybeUser,
    QueryParams(query): QueryParams<VerifyQuery>,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let callback = checked_callback(app, query.callback_url.as_deref())?;
    state.guards.before_token_lookup(&client).await?;
    let signed_in = user.as_ref().map(|u| &u.account);
    let result = email_verification::verify(app, &query.token, signed_in).await;
    if matches!(&result, Err(e) if e.code() == "INVALID_TOKEN") {
        state.guards.unknown_token(&client).await?;
    }
    let answer = match result {
        Ok(Verified::Email) => VerifiedAnswer {
            status: true,
            user: None,
        },
        Ok(Verified::Changed(account)) => VerifiedAnswer {
            status: true,
            user: Some(UserJson::from(&*account)),
        },
        // Better Auth sends a failed link back to its page with `?error=`,
        // and answers 401 when there is none.
        Err(error @ (ServiceError::BadRequest { .. } | ServiceError::User(_))) => {
            return Ok(match callback {
                Some(page) => {
                    let separator = if page.contains('?') { '&' } else { '?' };
                    found(&format!("{page}{separator}error={}", error.code()))
                }
                None => {
                    return Err(ApiError::refused(
                        StatusCode::UNAUTHORIZED,
                        error.code(),
                        error.to_string(),
                    ))
                }
            });
        }
        Err(error) => return Err(error.into()),
    };
    Ok(match callback {
        Some(page) => found(&page),
        None => Json(answer).into_response(),
    })
}

/// Better Auth's redirect: `302 Found`.
fn found(location: &str) -> Response {
    (StatusCode::FOUND, [(LOCATION, location.to_string())]).into_response()
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ChangeEmailBody {
    new_email: String,
    #[serde(rename = "callbackURL")]
    callback_url: Option<String>,
}

#[utoipa::path(post, path = "/api/auth/change-email", tag = "auth",
    request_body = ChangeEmailBody,
    responses((status = 200, body = Sent, description = "A single-use link is emailed to the \
            new address; the account moves to it when the link is opened (an `EmailChanged` \
            event). An address another account has: the same answer, no email"),
        (status = 400, body = ErrorBody, description = "`INVALID_EMAIL`, `EMAIL_IS_THE_SAME`"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn change_email(
    State(app): State<App>,
    User(user): User,
    Body(body): Body<ChangeEmailBody>,
) -> Result<Json<Sent>, ApiError> {
    let callback = checked_callback(&app, body.callback_url.as_deref())?;
    email_verification::change_email(&app, &user.account, &body.new_email, callback.as_deref())
        .await?;
    Ok(Json(Sent { status: true }))
}
