//! The read-only audit API under `/api/ledger`: invites, uses, who invited whom
//! (now or `as_of` a past moment) and the log itself, as a feed and as
//! Server-Sent Events. For admins (session) and API keys.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::PgConnection;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::ApiError;
use super::extract::{MaybeUser, PathParams, QueryParams};
use super::position::Seen;
use super::HttpState;
use crate::app::App;
use crate::audit::api_keys;
use crate::audit::as_of::{self, PastState, Scope};
use crate::audit::feed::{self, EventView};
use crate::audit::invites::{self, BadCursor, InviteFilter, UseFilter};
use crate::audit::standby;
use crate::audit::users::{self, Invitee, UserNode};
use crate::domain::invite::AGGREGATE_TYPE as INVITE;
use crate::ledger::{read_batch, Position};
use crate::projections::invite::InviteRow;
use crate::projections::invite_use::InviteUseRow;
use crate::service::ServiceError;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;
/// How often an idle event stream looks for new events (it is also woken by
/// this server's own appends).
const STREAM_POLL: Duration = Duration::from_millis(250);

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/invites", get(list_invites))
        .route("/invites/{id}", get(get_invite))
        .route("/invites/{id}/events", get(invite_events))
        .route("/uses", get(list_uses))
        .route("/users/{id}/invitees", get(invitees))
        .route("/users/{id}/inviter-chain", get(inviter_chain))
        .route("/events", get(events))
        .route("/events/stream", get(event_stream))
}

/// Errors of the audit API, in the service's `{"code", "message"}` shape.
pub enum AuditError {
    Api(ApiError),
    NotFound(&'static str, &'static str),
}

impl<E: Into<ApiError>> From<E> for AuditError {
    fn from(e: E) -> Self {
        AuditError::Api(e.into())
    }
}

impl From<BadCursor> for ServiceError {
    fn from(e: BadCursor) -> Self {
        ServiceError::bad_request("INVALID_CURSOR", e.to_string())
    }
}

impl IntoResponse for AuditError {
    fn into_response(self) -> Response {
        match self {
            AuditError::Api(e) => e.into_response(),
            AuditError::NotFound(code, message) => (
                StatusCode::NOT_FOUND,
                Json(json!({ "code": code, "message": message })),
            )
                .into_response(),
        }
    }
}

type Result<T> = std::result::Result<T, AuditError>;

/// An admin's session, or an API key (`x-api-key` or `Authorization: Bearer`).
pub struct Auditor;

impl FromRequestParts<HttpState> for Auditor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &HttpState,
    ) -> std::result::Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| t.trim().starts_with(api_keys::PREFIX));
        let key = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or(bearer);
        if let Some(key) = key {
            return if api_keys::verify(&state.app.pool, key.trim()).await? {
                Ok(Auditor)
            } else {
                Err(ApiError::Service(ServiceError::Forbidden {
                    code: "INVALID_API_KEY",
                    message: "This API key is not valid".into(),
                }))
            };
        }
        match MaybeUser::from_request_parts(parts, state).await?.0 {
            Some(user) if state.app.settings.roles.is_admin(&user.account.role) => Ok(Auditor),
            Some(_) => Err(ApiError::Service(ServiceError::Forbidden {
                code: "INSUFFICIENT_PERMISSIONS",
                message: "The audit API is for admins and API keys".into(),
            })),
            None => Err(ApiError::Service(ServiceError::Unauthorized)),
        }
    }
}

/// `as_of`: answer with the state at this moment, folded from the log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// An RFC 3339 time, compared with the time the ledger recorded each event.
    pub as_of: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Rows per page (default 100, at most 1000).
    pub limit: Option<i64>,
}

fn limit_of(limit: Option<i64>) -> std::result::Result<i64, ServiceError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(ServiceError::bad_request(
            "INVALID_LIMIT",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// Which moment of the log an answer reflects.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reflects {
    /// The `as_of` asked for; absent for the current state.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::json_time::option::serialize"
    )]
    pub as_of: Option<DateTime<Utc>>,
    /// The last log position the answer includes (`transaction/position`);
    /// `null` when the log held nothing yet.
    pub position: Option<String>,
}

/// A connection for a read of the live read models: the standby's when it is
/// set and has replayed what the caller has seen, else the primary's.
async fn audit_conn(
    app: &App,
    seen: Option<Position>,
) -> Result<(sqlx::pool::PoolConnection<sqlx::Postgres>, bool)> {
    Ok(standby::connection(app, seen)
        .await
        .map_err(ServiceError::from)?)
}

/// Where to read from: the live read models, or a past state folded from the log.
enum Source {
    Live(sqlx::pool::PoolConnection<sqlx::Postgres>, Option<Position>),
    Past(PastState, DateTime<Utc>),
}

impl Source {
    async fn open(
        app: &App,
        seen: Option<Position>,
        as_of: Option<DateTime<Utc>>,
        scope: Scope<'_>,
    ) -> Result<Source> {
        Ok(match as_of {
            None => {
                let (mut conn, on_standby) = audit_conn(app, seen).await?;
                // The read models have applied at least the slowest one's checkpoint.
                let position = if on_standby {
                    let (names, _): (Vec<String>, Vec<_>) =
                        app.progress.checkpoints().into_iter().unzip();
                    standby::applied(&mut conn, &names)
                        .await
                        .map_err(ServiceError::from)?
                } else {
                    app.progress.checkpoints().into_iter().map(|(_, p)| p).min()
                };
                Source::Live(conn, position)
            }
            Some(at) => Source::Past(
                as_of::fold_until(&app.pool, at, scope)
                    .await
                    .map_err(|error| match error.downcast_ref::<as_of::Saturated>() {
                        Some(_) => ServiceError::Busy,
                        None => ServiceError::from(error),
                    })?,
                at,
            ),
        })
    }

    fn conn(&mut self) -> &mut PgConnection {
        match self {
            Source::Live(conn, _) => conn,
            Source::Past(state, _) => &mut state.conn,
        }
    }

    async fn finish(self) -> Reflects {
        match self {
            Source::Live(_, position) => Reflects {
                as_of: None,
                position: position
                    .filter(|p| *p != Position::default())
                    .map(|p| p.to_string()),
            },
            Source::Past(state, at) => {
                let position = state.position.map(|p| p.to_string());
                state.close().await;
                Reflects {
                    as_of: Some(at),
                    position,
                }
            }
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitePage {
    pub invites: Vec<InviteRow>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

/// Invites, filtered, in creation order, a page at a time.
#[utoipa::path(get, path = "/api/ledger/invites", tag = "ledger",
    params(InviteFilter, PageParams, AsOf),
    responses((status = 200, body = InvitePage), (status = 400), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn list_invites(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    QueryParams(filter): QueryParams<InviteFilter>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<InvitePage>> {
    let limit = limit_of(page.limit)?;
    let mut source = Source::open(&app, seen, as_of.as_of, Scope::Everything).await?;
    let listed = invites::list(source.conn(), &filter, page.cursor.as_deref(), limit).await;
    let reflects = source.finish().await;
    let page = listed.map_err(ServiceError::from)??;
    Ok(Json(InvitePage {
        invites: page.rows,
        next_cursor: page.next_cursor,
        reflects,
    }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteAnswer {
    pub invite: InviteRow,
    #[serde(flatten)]
    pub reflects: Reflects,
}

/// The aggregate id (token hash) of the invite with this id.
async fn invite_key(app: &App, seen: Option<Position>, id: &str) -> Result<(Uuid, String)> {
    const MISSING: AuditError = AuditError::NotFound("INVITE_NOT_FOUND", "No invite has this id");
    let id: Uuid = id.parse().map_err(|_| MISSING)?;
    let (mut conn, _) = audit_conn(app, seen).await?;
    let row = invites::by_id(&mut conn, id)
        .await
        .map_err(ServiceError::from)?
        .ok_or(MISSING)?;
    Ok((id, row.token_hash))
}

/// One invite, now or as it stood at `as_of`.
#[utoipa::path(get, path = "/api/ledger/invites/{id}", tag = "ledger",
    params(("id" = Uuid, Path, description = "The invite's id"), AsOf),
    responses((status = 200, body = InviteAnswer), (status = 404), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn get_invite(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<InviteAnswer>> {
    let (id, hash) = invite_key(&app, seen, &id).await?;
    let scope = Scope::Aggregate {
        aggregate_type: INVITE,
        aggregate_id: &hash,
    };
    let mut source = Source::open(&app, seen, as_of.as_of, scope).await?;
    let found = invites::by_id(source.conn(), id).await;
    let reflects = source.finish().await;
    match found.map_err(ServiceError::from)? {
        Some(invite) => Ok(Json(InviteAnswer { invite, reflects })),
        None => Err(AuditError::NotFound(
            "INVITE_NOT_FOUND",
            "The invite did not exist at that time",
        )),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    pub events: Vec<EventView>,
}

/// The invite's whole history, in order, with positions and times.
#[utoipa::path(get, path = "/api/ledger/invites/{id}/events", tag = "ledger",
    params(("id" = Uuid, Path, description = "The invite's id"), AsOf),
    responses((status = 200, body = EventList), (status = 404), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn invite_events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<EventList>> {
    let (_, hash) = invite_key(&app, seen, &id).await?;
    let (mut conn, _) = audit_conn(&app, seen).await?;
    let events = feed::of_aggregate(&mut conn, INVITE, &hash, as_of.as_of)
        .await
        .map_err(ServiceError::from)?;
    Ok(Json(EventList { events }))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsePage {
    pub uses: Vec<InviteUseRow>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The trail of invite uses, in log order, a page at a time.
#[utoipa::path(get, path = "/api/ledger/uses", tag = "ledger",
    params(UseFilter, PageParams),
    responses((status = 200, body = UsePage), (status = 400), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn list_uses(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    QueryParams(filter): QueryParams<UseFilter>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<UsePage>> {
    let limit = limit_of(page.limit)?;
    let (mut conn, _) = audit_conn(&app, seen).await?;
    let page = invites::uses(&mut conn, &filter, page.cursor.as_deref(), limit)
        .await
        .map_err(ServiceError::from)??;
    Ok(Json(UsePage {
        uses: page.rows,
        next_cursor: page.next_cursor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DepthParams {
    /// Levels below the user: 1 (default) for direct invitees, at most 20.
    pub depth: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteesAnswer {
    pub user: UserNode,
    pub invitees: Vec<Invitee>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

/// The accounts a user invited into existence, and with `depth`, theirs.
#[utoipa::path(get, path = "/api/ledger/users/{id}/invitees", tag = "ledger",
    params(("id" = String, Path, description = "The user's id"), DepthParams, AsOf),
    responses((status = 200, body = InviteesAnswer), (status = 404), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn invitees(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    QueryParams(depth): QueryParams<DepthParams>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<InviteesAnswer>> {
    let depth = depth.depth.unwrap_or(1);
    if !(1..=users::MAX_DEPTH).contains(&depth) {
        return Err(ServiceError::bad_request(
            "INVALID_DEPTH",
            format!("depth must be between 1 and {}", users::MAX_DEPTH),
        )
        .into());
    }
    let mut source = Source::open(&app, seen, as_of.as_of, Scope::Everything).await?;
    let found = users::with_invitees(source.conn(), &id, depth).await;
    let reflects = source.finish().await;
    let (user, invitees) = found.map_err(ServiceError::from)?.ok_or(USER_MISSING)?;
    Ok(Json(InviteesAnswer {
        user,
        invitees,
        reflects,
    }))
}

const USER_MISSING: AuditError =
    AuditError::NotFound("USER_NOT_FOUND", "No such user (at that time)");

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChainAnswer {
    pub user: UserNode,
    /// The user's inviter first, then that one's, up to an account nobody invited.
    pub chain: Vec<UserNode>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

/// Who invited this user, who invited them, and so on up to the root.
#[utoipa::path(get, path = "/api/ledger/users/{id}/inviter-chain", tag = "ledger",
    params(("id" = String, Path, description = "The user's id"), AsOf),
    responses((status = 200, body = ChainAnswer), (status = 404), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn inviter_chain(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<ChainAnswer>> {
    let mut source = Source::open(&app, seen, as_of.as_of, Scope::Everything).await?;
    let found = users::with_inviter_chain(source.conn(), &id).await;
    let reflects = source.finish().await;
    let (user, chain) = found.map_err(ServiceError::from)?.ok_or(USER_MISSING)?;
    Ok(Json(ChainAnswer {
        user,
        chain,
        reflects,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Start after this position (`transaction/position`, as events show it);
    /// from the beginning when absent.
    #[param(value_type = Option<String>)]
    pub after: Option<String>,
    /// Events per page (default 100, at most 1000).
    pub limit: Option<i64>,
}

fn parse_after(after: Option<&str>) -> std::result::Result<Position, ServiceError> {
    match after.filter(|a| !a.is_empty()) {
        None => Ok(Position::default()),
        Some(a) => {
            let position: Position = a
                .parse()
                .map_err(|e: String| ServiceError::bad_request("INVALID_POSITION", e))?;
            // Positions start at zero: a negative one would page forever past nothing.
            if position.xid < 0 || position.global < 0 {
                return Err(ServiceError::bad_request(
                    "INVALID_POSITION",
                    "A log position is never negative",
                ));
            }
            Ok(position)
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedPage {
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page (the last event's position, or the
    /// `after` given when there was nothing new).
    pub next: String,
}

/// The log in global order (DESIGN decision 2), a page at a time.
#[utoipa::path(get, path = "/api/ledger/events", tag = "ledger",
    params(FeedParams),
    responses((status = 200, body = FeedPage), (status = 400), (status = 401), (status = 403)),
    security(("session" = []), ("apiKey" = [])))]
async fn events(
    State(app): State<App>,
    _: Auditor,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<Json<FeedPage>> {
    let limit = limit_of(params.limit)?;
    let after = parse_after(params.after.as_deref())?;
    let mut conn = app.pool.acquire().await.map_err(ServiceError::from)?;
    let events = read_batch(&mut conn, after, limit)
        .await
        .map_err(ServiceError::from)?;
    let next = events.last().map(|e| e.position).unwrap_or(after);
    Ok(Json(FeedPage {
        events: events.iter().map(EventView::from).collect(),
        next: next.to_string(),
    }))
}

/// The same feed as Server-Sent Events, live: each event's SSE id is its
/// position, so a follower that reconnects with `Last-Event-ID` (or `after`)
/// resumes right after the last event it received.
#[utoipa::path(get, path = "/api/ledger/events/stream", tag = "ledger",
    params(FeedParams, ("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received; wins over `after`")),
    responses((status = 200, content_type = "text/event-stream",
        description = "`event: ledger`, `id: <position>`, `data: <event JSON>`")),
    security(("session" = []), ("apiKey" = [])))]
async fn event_stream(
    State(app): State<App>,
    _: Auditor,
    headers: HeaderMap,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let last_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let after = parse_after(last_id.or(params.after.as_deref()))?;
    let stream = futures_util::stream::unfold(
        (app, after, Vec::<Event>::new().into_iter()),
        |(app, mut after, mut pending)| async move {
            loop {
                if let Some(event) = pending.next() {
                    return Some((Ok(event), (app, after, pending)));
                }
                let mut appended = app.ledger.appended();
                appended.mark_unchanged();
                let batch = match app.pool.acquire().await {
                    Ok(mut conn) => read_batch(&mut conn, after, DEFAULT_LIMIT).await,
                    Err(e) => Err(e.into()),
                };
                match batch {
                    Ok(events) if !events.is_empty() => {
                        after = events.last().expect("not empty").position;
                        pending = events
                            .iter()
                            .map(|e| {
                                Event::default()
                                    .event("ledger")
                                    .id(e.position.to_string())
                                    .json_data(EventView::from(e))
                                    .expect("events serialize")
                            })
                            .collect::<Vec<_>>()
                            .into_iter();
                    }
                    Ok(_) => {
                        tokio::select! {
                            _ = appended.changed() => {}
                            _ = tokio::time::sleep(STREAM_POLL) => {}
                        }
                    }
                    Err(error) => {
                        // The follower reconnects with its last id and loses nothing.
                        tracing::warn!(%error, "event stream ends on a read error");
                        return None;
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
