//! The audit API's feed: the log in global order, a page at a time, exported,
//! or followed live as Server-Sent Events.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auditor::Auditor;
use super::params::{invalid, limit_of, EXPORT_CONTENT};
use crate::app::App;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{KnownParams, QueryParams, StrictQuery};
use crate::http::position::Seen;
use crate::queries::event_answers::{self as answers, FeedAsked, FeedPage};
use crate::queries::export::Format;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Start after this position (`transaction/position`, as events show it),
    /// or after the event with this `globalPosition` (a bare number, as `/uses`
    /// shows it); from the beginning when absent.
    #[param(value_type = Option<String>)]
    pub after: Option<String>,
}

/// The feed's query string: paging, filters and format, read strictly.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Start after this position (`transaction/position`, as events show it);
    /// from the beginning when absent.
    #[param(value_type = Option<String>)]
    pub after: Option<String>,
    /// Events per page (default 100, at most 1000); not with an export.
    pub limit: Option<i64>,
    /// Only events in which this user acted: created, activated, used,
    /// cancelled, rejected or resent an invite, registered, or set a role.
    pub actor: Option<String>,
    /// Only events of these types (repeat the parameter, or a comma list):
    /// `Created`, `Activated`, `Used`, `Cancelled`, `Rejected`, `Expired`,
    /// `Resent`, `Registered`, `RoleSet`.
    #[serde(rename = "type", default)]
    pub types: Vec<String>,
    /// Only this aggregate's events: a user id, an invite's id, or the
    /// `aggregateId` events show.
    pub aggregate: Option<String>,
    /// Recorded at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Recorded before this time.
    pub to: Option<DateTime<Utc>>,
    /// The log as it stood at this moment: the events recorded at or before
    /// it (to the end of its millisecond, as every `as_of`).
    pub as_of: Option<DateTime<Utc>>,
    /// `json` (pages, the default), `csv` or `ndjson` (every event after `after`, streamed).
    #[param(inline)]
    pub format: Option<Format>,
}

/// The log in global order (transaction id, then position), filtered, a page at a time,
/// or every event as CSV or NDJSON.
#[utoipa::path(get, path = "/api/ledger/events", tag = "ledger",
    params(EventQuery),
    responses((status = 200, description = EXPORT_CONTENT, content(
            (FeedPage = "application/json"), (String = "text/csv"),
            (String = "application/x-ndjson"))),
        (status = 400, body = ErrorBody, description = "A bad query parameter or value"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    headers: HeaderMap,
    StrictQuery(params): StrictQuery<EventQuery>,
) -> Result<Response, ApiError> {
    let format = Format::negotiate(params.format, &headers);
    if format.is_export() && params.limit.is_some() {
        return Err(invalid("An export has every event: leave out `limit`").into());
    }
    let limit = limit_of(params.limit)?;
    let after = answers::position_after(&app, params.after.as_deref()).await?;
    let asked = FeedAsked {
        actor: params.actor.as_deref(),
        types: &params.types,
        aggregate: params.aggregate.as_deref(),
        from: params.from,
        to: params.to,
        as_of: params.as_of,
    };
    let filter = answers::event_filter(&app, asked).await?;
    if format.is_export() {
        return Ok(answers::export_events(&app, seen, &filter, after, format).await?);
    }
    let page = answers::event_page(&app, seen, &filter, after, limit).await?;
    Ok(Json(page).into_response())
}

/// The same feed as Server-Sent Events, live: each event's SSE id is its
/// position, so a follower that reconnects with `Last-Event-ID` (or `after`)
/// resumes right after the last event it received.
#[utoipa::path(get, path = "/api/ledger/events/stream", tag = "ledger",
    params(FeedParams, ("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received; wins over `after`")),
    responses((status = 200, content_type = "text/event-stream",
        description = "`event: ledger`, `id: <position>`, `data: <event JSON>` (an \
            `EventView`)"),
        (status = 400, body = ErrorBody, description = "A bad query parameter or position"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
pub async fn event_stream(
    State(app): State<App>,
    _: Auditor,
    _: KnownParams<FeedParams>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let after = answers::position_after(&app, last_id.or(params.after.as_deref())).await?;
    let stream = answers::follow(app.context.clone(), after).map(|event| {
        Ok(Event::default()
            .event("ledger")
            .id(event.position.clone())
            .json_data(&event)
            .expect("events serialize"))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
