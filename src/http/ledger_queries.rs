//! The audit API's questions about people and periods: a user by id or email
//! with their role history, and what changed between two moments. Their query
//! strings are strict: an unknown parameter or a bad value is a 400.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use super::extract::{url_has_nul, validation_error, PathParams};
use super::ledger::{AuditError, Auditor};
use super::position::Seen;
use super::HttpState;
use crate::app::App;
use crate::audit::diff::{self, Diff};
use crate::audit::users::{self, UserProfile};
use crate::audit::{as_of, standby};
use crate::service::ServiceError;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/users", get(find_user))
        .route("/users/{id}", get(get_user))
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
    responses((status = 200, body = UserProfile), (status = 400), (status = 404),
        (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
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
    responses((status = 200, body = UserProfile), (status = 400), (status = 404),
        (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
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
    responses((status = 200, body = Diff), (status = 400), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn diff(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    StrictQuery(params): StrictQuery<DiffParams>,
) -> Result<Json<Diff>, AuditError> {
    if params.from > params.to {
        return Err(invalid("from must not be after to"));
    }
    // The standby answers once it has replayed the last event up to `to`.
    let last = {
        let mut conn = app.pool.acquire().await.map_err(ServiceError::from)?;
        as_of::last_position_until(&mut conn, params.to)
            .await
            .map_err(ServiceError::from)?
    };
    let (mut conn, _) = standby::connection(&app, last.max(seen))
        .await
        .map_err(ServiceError::from)?;
    let diff = diff::between(&mut conn, params.from, params.to)
        .await
        .map_err(ServiceError::from)?;
    Ok(Json(diff))
}
