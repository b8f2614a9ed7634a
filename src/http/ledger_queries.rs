//! The audit API's questions about people and periods: a user by id or email
//! with their role history, and what changed between two moments. Their query
//! strings are strict: an unknown parameter or a bad value is a 400.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::extract::{url_has_nul, validation_error, PathParams, User};
use super::ledger::{AuditError, Auditor};
use super::position::Seen;
use super::HttpState;
use crate::app::App;
use crate::audit::diff::{self, Diff};
use crate::audit::standby;
use crate::audit::users::{self, UserProfile};
use crate::service::erasure::{self, Erasure};
use crate::service::ServiceError;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/users", get(find_user))
        .route("/users/{id}", get(get_user))
        .route("/users/{id}/erase", post(erase_user))
        .route("/diff", get(diff))
}

/// Query parameters read strictly: repeated keys fill lists (`type=a&type=b`),
/// and with `#[serde(deny_unknown_fields)]` a misspelt parameter is refused,
/// never ignored. Malformed values, or a NUL, are a 400 `VALIDATION_ERROR`.
pub struct StrictQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for StrictQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if parts.uri.query().is_some_and(url_has_nul) {
            return Err(validation_error(
                "Input must not contain NUL characters".into(),
            ));
        }
        match axum_extra::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum_extra::extract::Query(value)) => Ok(StrictQuery(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

/// A refusal of a query's value, in the shape every bad parameter gets.
pub fn invalid(message: impl Into<String>) -> AuditError {
    ServiceError::bad_request("VALIDATION_ERROR", message).into()
}

const USER_MISSING: AuditError =
    AuditError::NotFound("USER_NOT_FOUND", std::borrow::Cow::Borrowed("No such user"));

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EmailParams {
    /// The account's email, compared case-insensitively.
    pub email: String,
}

/// The account with this email, with its role history.
#[utoipa::path(get, path = "/api/ledger/users", tag = "ledger",
    params(EmailParams),
    responses((status = 200, body = UserProfile, description = "The account, who invited it, and its role history"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
async fn find_user(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    StrictQuery(params): StrictQuery<EmailParams>,
) -> Result<Json<UserProfile>, AuditError> {
    if params.email.trim().is_empty() {
        return Err(invalid("email must not be empty"));
    }
    let (mut conn, _) = standby::connection(&app, seen)
        .await
        .map_err(ServiceError::from)?;
    let id = users::id_by_email(&mut conn, &params.email)
        .await
        .map_err(ServiceError::from)?
        .ok_or(USER_MISSING)?;
    let profile = users::profile(&mut conn, &id)
        .await
        .map_err(ServiceError::from)?
        .ok_or(USER_MISSING)?;
    Ok(Json(profile))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoParams {}

/// One account: who invited it, with which invite, and every role it held
/// (registration, invites used, roles set by admins), from the ledger.
#[utoipa::path(get, path = "/api/ledger/users/{id}", tag = "ledger",
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, body = UserProfile, description = "The account, who invited it, and its role history"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
async fn get_user(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    StrictQuery(_none): StrictQuery<NoParams>,
) -> Result<Json<UserProfile>, AuditError> {
    let (mut conn, _) = standby::connection(&app, seen)
        .await
        .map_err(ServiceError::from)?;
    let profile = users::profile(&mut conn, &id)
        .await
        .map_err(ServiceError::from)?
        .ok_or(USER_MISSING)?;
    Ok(Json(profile))
}

/// Erases a person's personal data (crypto-shredding): their key is deleted
/// and an `Erased` event recorded (who, when). From then on their emails and
/// names read `[erased]` in every answer, `as_of` included; ids, the tree and
/// counts stay. Erasing again answers `alreadyErased: true` and records
/// nothing. For signed-in admins only (an API key reads, it does not erase).
#[utoipa::path(post, path = "/api/ledger/users/{id}/erase", tag = "ledger",
    params(("id" = String, Path, description = "The user's id, or their email")),
    responses((status = 200, body = Erasure,
            description = "Erased now, or already (`alreadyErased`)"),
        (status = 400, body = ErrorBody, description = "A bad id or query parameter"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "Not an admin"),
        (status = 404, body = ErrorBody,
            description = "`USER_NOT_FOUND`: nobody with this id in the ledger")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn erase_user(
    State(app): State<App>,
    User(admin): User,
    PathParams(id): PathParams<String>,
    StrictQuery(_none): StrictQuery<NoParams>,
) -> Result<Json<Erasure>, AuditError> {
    if !app.settings.roles.is_admin(&admin.account.role) {
        return Err(ServiceError::Forbidden {
            code: "INSUFFICIENT_PERMISSIONS",
            message: "Only admins can erase a person".into(),
        }
        .into());
    }
    Ok(Json(erasure::erase(&app, &admin.account.id, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The earlier moment (RFC 3339): events recorded after it count.
    pub from: DateTime<Utc>,
    /// The later moment: events recorded up to and at it count.
    pub to: DateTime<Utc>,
}

/// What changed between two moments: the invites created, used and closed
/// (cancelled, rejected, expired) and the roles changed, by the events the
/// ledger recorded after `from` and up to `to`.
#[utoipa::path(get, path = "/api/ledger/diff", tag = "ledger",
    params(DiffParams),
    responses((status = 200, body = Diff, description = "What changed, with exact counts"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
async fn diff(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    StrictQuery(params): StrictQuery<DiffParams>,
) -> Result<Json<Diff>, AuditError> {
    if params.from > params.to {
        return Err(invalid("from must not be after to"));
    }
    let (mut conn, _) = standby::connection_until(&app, seen, params.to)
        .await
        .map_err(ServiceError::from)?;
    let diff = diff::between(&mut conn, params.from, params.to)
        .await
        .map_err(ServiceError::from)?;
    Ok(Json(diff))
}
