//! The audit API's invite routes: lists and exports of invites and uses, one
//! invite, and one invite's events.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::auditor::Auditor;
use super::params::{export_format, limit_of, AsOf, ExportParams, PageParams, EXPORT_CONTENT};
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{KnownParams, PathParams, QueryParams};
use crate::http::position::Seen;
use crate::queries::invite_answers::{
    self as answers, EventList, InviteAnswer, InvitePage, UsePage,
};
use crate::queries::invites::{InviteFilter, UseFilter};

/// Invites, filtered, in creation order, a page at a time, or all of them as
/// CSV or NDJSON.
#[utoipa::path(get, path = "/api/ledger/invites", tag = "ledger",
    params(InviteFilter, PageParams, AsOf, ExportParams),
    responses((status = 200, description = EXPORT_CONTENT, content(
            (InvitePage = "application/json"), (String = "text/csv"),
            (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
// Each extractor is one part of the request; axum takes them as arguments.
#[allow(clippy::too_many_arguments)]
pub async fn list_invites(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<InviteFilter, PageParams, AsOf, ExportParams>,
    headers: HeaderMap,
    QueryParams(filter): QueryParams<InviteFilter>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    answers::check_role_filter(&app, &filter)?;
    let format = export_format(&export, &headers, page.is_paged())?;
    if format.is_export() {
        return Ok(answers::export_invites(&app, seen, as_of.as_of, &filter, format).await?);
    }
    let limit = limit_of(page.limit)?;
    let cursor = page.cursor.as_deref();
    let page = answers::invite_page(&app, seen, as_of.as_of, &filter, cursor, limit).await?;
    Ok(Json(page).into_response())
}

/// One invite, now or as it stood at `as_of`.
#[utoipa::path(get, path = "/api/ledger/invites/{id}", tag = "ledger",
    params(("id" = Uuid, Path, description = "The invite's id"), AsOf),
    responses((status = 200, body = InviteAnswer, description = "The invite, and the log position the answer reflects"),
        (status = 404, body = ErrorBody, description = "No invite has this id"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn get_invite(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<InviteAnswer>, ApiError> {
    Ok(Json(answers::invite(&app, seen, as_of.as_of, &id).await?))
}

/// The invite's whole history, in order, with positions and times.
#[utoipa::path(get, path = "/api/ledger/invites/{id}/events", tag = "ledger",
    params(("id" = Uuid, Path, description = "The invite's id"), AsOf),
    responses((status = 200, body = EventList, description = "The invite's events, in log order"),
        (status = 404, body = ErrorBody, description = "No invite has this id"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn invite_events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<EventList>, ApiError> {
    Ok(Json(
        answers::invite_events(&app, seen, as_of.as_of, &id).await?,
    ))
}

/// The trail of invite uses, in log order, a page at a time, or all of them
/// as CSV or NDJSON.
#[utoipa::path(get, path = "/api/ledger/uses", tag = "ledger",
    params(UseFilter, PageParams, AsOf, ExportParams),
    responses((status = 200, description = EXPORT_CONTENT, content(
            (UsePage = "application/json"), (String = "text/csv"),
            (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
// Each extractor is one part of the request; axum takes them as arguments.
#[allow(clippy::too_many_arguments)]
pub async fn list_uses(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<UseFilter, PageParams, AsOf, ExportParams>,
    headers: HeaderMap,
    QueryParams(filter): QueryParams<UseFilter>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response, ApiError> {
    let format = export_format(&export, &headers, page.is_paged())?;
    if format.is_export() {
        return Ok(answers::export_uses(&app, seen, as_of.as_of, &filter, format).await?);
    }
    let limit = limit_of(page.limit)?;
    let cursor = page.cursor.as_deref();
    let page = answers::use_page(&app, seen, as_of.as_of, &filter, cursor, limit).await?;
    Ok(Json(page).into_response())
}
