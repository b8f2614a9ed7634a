//! `/api/ledger/organizations`: Better Auth organizations as the ledger
//! recorded them (their invitations, memberships and events), now or `as_of`;
//! who invited whom into one (a tree, a chain), its exports and its diff.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auditor::Auditor;
use super::params::{export_format, AsOf, ExportParams, EXPORT_CONTENT};
use super::periods::DiffParams;
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{KnownParams, PathParams, QueryParams, StrictQuery};
use crate::http::position::Seen;
use crate::queries::organization_diff::OrganizationDiff;
use crate::queries::organization_people::{self as people, OrganizationChain, OrganizationTree};
use crate::queries::organizations::{
    self as answers, InvitationList, MemberList, OrganizationEvents, OrganizationList,
};
use crate::queries::period_answers;

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
/// and what became of it), now or as they stood at `as_of`; or all of them as
/// CSV or NDJSON.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/invitations", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), AsOf,
        ExportParams),
    responses((status = 200, description = EXPORT_CONTENT, content(
            (InvitationList = "application/json"), (String = "text/csv"),
            (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
// Each extractor is one part of the request; axum takes them as arguments.
#[allow(clippy::too_many_arguments)]
pub async fn organization_invitations(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf, ExportParams>,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    let format = export_format(&export, &headers, false)?;
    if format.is_export() {
        return Ok(answers::export_invitations(&app, seen, as_of.as_of, &id, format).await?);
    }
    let list = answers::invitations(&app, seen, as_of.as_of, &id).await?;
    Ok(Json(list).into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndedParams {
    /// Also the memberships that had ended (removed, left) by then.
    pub ended: Option<bool>,
}

/// The organization's members, now or at `as_of`: who was a member on a date;
/// or their membership periods (a row each) as CSV or NDJSON.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/members", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), AsOf, EndedParams,
        ExportParams),
    responses((status = 200, description = EXPORT_CONTENT, content(
            (MemberList = "application/json"), (String = "text/csv"),
            (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
// Each extractor is one part of the request; axum takes them as arguments.
#[allow(clippy::too_many_arguments)]
pub async fn organization_members(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf, EndedParams, ExportParams>,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(ended): QueryParams<EndedParams>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    let format = export_format(&export, &headers, false)?;
    let ended = ended.ended.unwrap_or(false);
    if format.is_export() {
        return Ok(answers::export_members(&app, seen, as_of.as_of, &id, ended, format).await?);
    }
    let list = answers::members(&app, seen, as_of.as_of, &id, ended).await?;
    Ok(Json(list).into_response())
}

/// Who invited whom into the organization: each member under the member whose
/// invitation they accepted; members who joined without one are roots. Now or
/// at `as_of`; with `ended`, former members are in it too.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/tree", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), AsOf, EndedParams),
    responses((status = 200, body = OrganizationTree, description = "The roots, oldest first"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn organization_tree(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf, EndedParams>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(ended): QueryParams<EndedParams>,
) -> Result<Json<OrganizationTree>, ApiError> {
    let ended = ended.ended.unwrap_or(false);
    Ok(Json(
        people::tree(&app, seen, as_of.as_of, &id, ended).await?,
    ))
}

/// One member, who invited them into this organization, who invited that
/// inviter, and so on up to a member who joined without an invitation.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/members/{userId}/inviter-chain",
    tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"),
        ("userId" = String, Path, description = "Better Auth's user id of the member"), AsOf),
    responses((status = 200, body = OrganizationChain, description = "The inviters, nearest first"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`, or \
            `USER_NOT_FOUND`: no membership of this user (at that time)"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn member_inviter_chain(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams((id, user_id)): PathParams<(String, String)>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<OrganizationChain>, ApiError> {
    Ok(Json(
        people::inviter_chain(&app, seen, as_of.as_of, &id, &user_id).await?,
    ))
}

/// What changed in the organization between two moments: the invitations
/// created and decided (accepted, rejected, canceled, expired), the
/// memberships begun and ended, and the roles changed, by the events the
/// ledger recorded after `from` and up to `to`.
#[utoipa::path(get, path = "/api/ledger/organizations/{id}/diff", tag = "ledger",
    params(("id" = String, Path, description = "Better Auth's organization id"), DiffParams),
    responses((status = 200, body = OrganizationDiff, description = "What changed, with exact counts"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 404, body = ErrorBody, description = "`ORGANIZATION_NOT_FOUND`"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn organization_diff(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    StrictQuery(params): StrictQuery<DiffParams>,
) -> Result<Json<OrganizationDiff>, ApiError> {
    Ok(Json(
        period_answers::organization_diff(&app, seen, &id, params.from, params.to).await?,
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
