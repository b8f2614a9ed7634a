//! The audit API's questions about people: a user by id or email with their
//! role history, the accounts they invited, the inviters above them, and the
//! erasure of a person. Their query strings are strict: an unknown parameter
//! or a bad value is a 400.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auditor::Auditor;
use super::params::{export_format, AsOf, ExportParams, EXPORT_CONTENT};
use crate::app::App;
use crate::commands::erasure::{self, Erasure};
use crate::error::ServiceError;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{KnownParams, MaybeUser, PathParams, QueryParams, StrictQuery};
use crate::http::position::Seen;
use crate::queries::user_answers::{self as answers, ChainAnswer, InviteesAnswer};
use crate::queries::users::UserProfile;

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
pub async fn find_user(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    StrictQuery(params): StrictQuery<EmailParams>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(
        answers::profile_by_email(&app, seen, &params.email).await?,
    ))
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
pub async fn get_user(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    StrictQuery(_none): StrictQuery<NoParams>,
) -> Result<Json<UserProfile>, ApiError> {
    Ok(Json(answers::profile(&app, seen, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepthParams {
    /// Levels below the user: 1 (default) for direct invitees, at most 20.
    pub depth: Option<u32>,
}

/// The accounts a user invited into existence, and with `depth`, theirs; as
/// CSV or NDJSON, one row per account with its `depth` (1 for the user's own).
#[utoipa::path(get, path = "/api/ledger/users/{id}/invitees", tag = "ledger",
    params(("id" = String, Path, description = "The user's id"), DepthParams, AsOf,
        ExportParams),
    responses((status = 200, description = EXPORT_CONTENT, content(
            (InviteesAnswer = "application/json"), (String = "text/csv"),
            (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
// Each extractor is one part of the request; axum takes them as arguments.
#[allow(clippy::too_many_arguments)]
pub async fn invitees(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<DepthParams, AsOf, ExportParams>,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    QueryParams(depth): QueryParams<DepthParams>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    let format = export_format(&export, &headers, false)?;
    let depth = answers::check_depth(depth.depth.unwrap_or(1))?;
    if format.is_export() {
        return Ok(answers::export_invitees(&app, seen, as_of.as_of, &id, depth, format).await?);
    }
    let answer = answers::invitees(&app, seen, as_of.as_of, &id, depth).await?;
    Ok(Json(answer).into_response())
}

/// Who invited this user, who invited them, and so on up to the root.
#[utoipa::path(get, path = "/api/ledger/users/{id}/inviter-chain", tag = "ledger",
    params(("id" = String, Path, description = "The user's id"), AsOf),
    responses((status = 200, body = ChainAnswer, description = "The inviters, nearest first, up to the root"),
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn inviter_chain(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<ChainAnswer>, ApiError> {
    Ok(Json(
        answers::inviter_chain(&app, seen, as_of.as_of, &id).await?,
    ))
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
pub async fn erase_user(
    State(app): State<App>,
    headers: HeaderMap,
    MaybeUser(admin): MaybeUser,
    PathParams(id): PathParams<String>,
    StrictQuery(_none): StrictQuery<NoParams>,
) -> Result<Json<Erasure>, ApiError> {
    let Some(admin) = admin else {
        return Err(not_signed_in(&headers));
    };
    if !app.settings.roles.is_admin(&admin.account.role) {
        return Err(ServiceError::Forbidden {
            code: "INSUFFICIENT_PERMISSIONS",
            message: "Only admins can erase a person".into(),
        }
        .into());
    }
    Ok(Json(erasure::erase(&app, &admin.account.id, &id).await?))
}

/// Erasing needs an admin's session; an API key (which reads the ledger) is
/// told so rather than given a bare 401.
fn not_signed_in(headers: &HeaderMap) -> ApiError {
    let api_key = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token.trim().starts_with(crate::auth::api_keys::PREFIX));
    if !api_key {
        return ServiceError::Unauthorized.into();
    }
    ApiError::refused(
        axum::http::StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "An API key reads the ledger but cannot erase: sign in as an admin and use \
         the session (cookie or `Authorization: Bearer <session token>`), or run \
         `invite-ledger user erase`",
    )
}
