//! `/api/ledger/organizations`: Better Auth organizations as the ledger
//! recorded them (their invitations, memberships and events), now or `as_of`.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auditor::Auditor;
use super::params::AsOf;
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{KnownParams, PathParams, QueryParams, StrictQuery};
use crate::http::position::Seen;
use crate::queries::organizations::{
    self as answers, InvitationList, MemberList, OrganizationEvents, OrganizationList,
};

use super::users::NoParams;

/// Every organization the ledger holds events of.
#[utoipa::path(get, path = "/api/ledger/organizations", tag = "ledger",
    responses((status = 200, body = OrganizationList, description = "By id"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn list_organizations(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    StrictQuery(_none): StrictQuery<NoParams>,
) -> Result<Json<OrganizationList>, ApiError> {
    Ok(Json(answers::list(&app, seen).await?))
}

/// The organization's invitations (who invited which email, with which role,
/// and what became of it), now or as they stood at `as_of`.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/invitations", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), AsOf),
    responses((status = 200, body = InvitationList, description = "Oldest first"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn organization_invitations(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<InvitationList>, ApiError> {
    Ok(Json(
        answers::invitations(&app, seen, as_of.as_of, &id).await?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndedParams {
    /// Also the memberships that had ended (removed, left) by then.
    pub ended: Option<bool>,
}

/// The organization's members, now or at `as_of`: who was a member on a date.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/members", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), AsOf, EndedParams),
    responses((status = 200, body = MemberList, description = "Oldest first"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn organization_members(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf, EndedParams>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(ended): QueryParams<EndedParams>,
) -> Result<Json<MemberList>, ApiError> {
    let ended = ended.ended.unwrap_or(false);
    Ok(Json(
        answers::members(&app, seen, as_of.as_of, &id, ended).await?,
    ))
}

/// The organization's whole history in order, up to `as_of` if given.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/events", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), AsOf),
    responses((status = 200, body = OrganizationEvents, description = "In log order"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn organization_events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<OrganizationEvents>, ApiError> {
    Ok(Json(
        answers::events(&app, seen, as_of.as_of, &id, None).await?,
    ))
}

/// One invitation's events: allowed, created, resent, accepted (and the
/// membership it began), rejected, canceled, expired.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/invitations/{invitation}/events",
    tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"),
        ("invitation" = String, Path, description = "Better Auth's invitation id"), AsOf),
    responses((status = 200, body = OrganizationEvents, description = "In log order"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`, \
            `INVITATION_NOT_FOUND`"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn invitation_events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams((id, invitation)): PathParams<(String, String)>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<OrganizationEvents>, ApiError> {
    Ok(Json(
        answers::events(&app, seen, as_of.as_of, &id, Some(&invitation)).await?,
    ))
}
