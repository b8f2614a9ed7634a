//! The read-only audit API under `/api/ledger`: invites, uses, who invited whom
//! (now or `as_of` a past moment) and the log itself, as a feed and as
//! Server-Sent Events. For admins (session) and API keys.

use std::borrow::Cow;
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
use sqlx::{FromRow, PgConnection};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiError, ErrorBody};
use super::extract::{KnownParams, MaybeUser, PathParams, QueryParams};
use super::ledger_queries::{invalid, StrictQuery};
use super::position::Seen;
use super::HttpState;
use crate::app::App;
use crate::audit::api_keys;
use crate::audit::as_of::{self, At};
use crate::audit::export::{self, camel_case, Format};
use crate::audit::feed::{self, EventFilter, EventView};
use crate::audit::invites::{self, BadCursor, InviteFilter, UseFilter};
use crate::audit::standby;
use crate::audit::users::{self, Invitee, InviteeRow, UserNode};
use crate::domain::invite::AGGREGATE_TYPE as INVITE;
use crate::ledger::{decode_rows, read_batch, Position};
use crate::projections::invite::InviteRow;
use crate::projections::invite_use::InviteUseRow;
use crate::projections::row::Row;
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
        .route("/stats", get(super::stats::stats))
        .merge(super::ledger_queries::routes())
}

/// Errors of the audit API, in the service's `{"code", "message"}` shape.
pub enum AuditError {
    Api(ApiError),
    NotFound(&'static str, std::borrow::Cow<'static, str>),
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
                Json(ErrorBody {
                    code: code.to_string(),
                    message: message.into_owned(),
                }),
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
            return match api_keys::identify(&state.app.pool, key.trim()).await? {
                Some(known) if known.scope == api_keys::Scope::Audit => Ok(Auditor),
                Some(_) => Err(ApiError::Service(ServiceError::Forbidden {
                    code: "API_KEY_SCOPE",
                    message: "This API key's scope does not cover the audit API".into(),
                })),
                None => Err(ApiError::Service(ServiceError::Forbidden {
                    code: "INVALID_API_KEY",
                    message: "This API key is not valid".into(),
                })),
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

/// `as_of`: answer with the state at this moment, read from the read models' history.
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

/// `format`: the paged JSON answer, or every row streamed as CSV or NDJSON.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `json` (pages, the default), `csv` or `ndjson` (every row, streamed,
    /// with the same filters); without it, an `Accept` of `text/csv` or
    /// `application/x-ndjson` asks for the export.
    #[param(inline)]
    pub format: Option<Format>,
}

/// The format asked for; an export is neither paged nor folded `as_of`.
fn export_format(
    export: &ExportParams,
    headers: &HeaderMap,
    paged: bool,
    as_of: Option<DateTime<Utc>>,
) -> std::result::Result<Format, AuditError> {
    let format = Format::negotiate(export.format, headers);
    if format.is_export() && paged {
        return Err(invalid(
            "An export has every row: leave out `cursor` and `limit`",
        ));
    }
    if format.is_export() && as_of.is_some() {
        return Err(invalid(
            "An export reads the current state: leave out `as_of`",
        ));
    }
    Ok(format)
}

/// An export's columns in the read model's column order, named as its JSON
/// names them: a bare log number is a `globalPosition` there.
fn json_columns<T: ToSchema>(columns: &[&str]) -> Vec<String> {
    let order: Vec<String> = camel_case(columns)
        .into_iter()
        .map(|name| match name.as_str() {
            "position" => "globalPosition".to_string(),
            "lastPosition" => "lastGlobalPosition".to_string(),
            _ => name,
        })
        .collect();
    export::columns::<T>(&order)
}

const EXPORT_CONTENT: &str = "`application/json` is a page; `text/csv` (a header line, then a \
    record per row, with the JSON field names as columns) and `application/x-ndjson` (one JSON \
    object a line) stream every row";

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

/// How long an `as_of` answer waits for the read models to have applied every
/// event recorded by its moment.
const AS_OF_WAIT: Duration = Duration::from_secs(5);

/// Where an answer reads from: the live read models, or their history as of a
/// past moment; and which log position it reflects.
struct Source {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    at: At,
    position: Option<Position>,
}

impl Source {
    /// `seen`: the position the caller has seen (`Ledger-Position`): a read
    /// goes to the standby (`DATABASE_READ_URL`) only once it has replayed
    /// that far, and a read as of a past moment only once it has replayed the
    /// moment's last event too; else to the primary.
    async fn open(
        app: &App,
        seen: Option<Position>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Source> {
        Ok(match as_of {
            None => {
                let (mut conn, on_standby) = standby::connection(app, seen)
                    .await
                    .map_err(ServiceError::from)?;
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
                Source {
                    conn,
                    at: At::Now(app.clock.now()),
                    position,
                }
            }
            Some(asked) => {
                let at = At::past(asked);
                // No connection is held while the read models catch up.
                let position = {
                    let mut conn = app.pool.acquire().await.map_err(ServiceError::from)?;
                    as_of::last_position_until(&mut conn, at.moment())
                        .await
                        .map_err(ServiceError::from)?
                };
                if let Some(position) = position {
                    if !app.progress.wait_for(position, &[], AS_OF_WAIT).await {
                        return Err(ServiceError::Busy.into());
                    }
                }
                let (conn, _) = standby::connection(app, position.max(seen))
                    .await
                    .map_err(ServiceError::from)?;
                Source { conn, at, position }
            }
        })
    }

    fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    fn reflects(&self) -> Reflects {
        Reflects {
            as_of: match self.at {
                At::Now(_) => None,
                At::Past(moment) => Some(moment),
            },
            position: self
                .position
                .filter(|p| *p != Position::default())
                .map(|p| p.to_string()),
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
async fn list_invites(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<InviteFilter, PageParams, AsOf, ExportParams>,
    headers: HeaderMap,
    QueryParams(filter): QueryParams<InviteFilter>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response> {
    // A role no one can hold is a mistake, in a page and an export alike.
    if let Some(role) = filter.role.as_deref() {
        if !app.settings.roles.is_configured(role) {
            return Err(ServiceError::bad_request(
                "VALIDATION_ERROR",
                format!(
                    "role: `{}` is not a configured role ({})",
                    role.chars().take(40).collect::<String>(),
                    app.settings.roles.roles().join(", ")
                ),
            )
            .into());
        }
    }
    let paged = page.cursor.is_some() || page.limit.is_some();
    let format = export_format(&export, &headers, paged, as_of.as_of)?;
    if format.is_export() {
        let now = app.clock.now();
        let query =
            invites::list_query(At::Now(now), &filter, None, None).map_err(ServiceError::from)?;
        let conn = standby::connection(&app, seen)
            .await
            .map_err(ServiceError::from)?
            .0;
        let columns = json_columns::<InviteRow>(InviteRow::COLUMNS);
        return Ok(export::respond(
            conn,
            query,
            format,
            "invites",
            columns,
            // Expiry worked out for now, as the paged list does.
            move |row| {
                let mut invite = InviteRow::from_row(row)?;
                invite.status = invite.status_at(now);
                Ok(invite)
            },
        ));
    }
    let limit = limit_of(page.limit)?;
    let mut source = Source::open(&app, seen, as_of.as_of).await?;
    let at = source.at;
    let page = invites::list(source.conn(), at, &filter, page.cursor.as_deref(), limit)
        .await
        .map_err(ServiceError::from)??;
    let reflects = source.reflects();
    Ok(Json(InvitePage {
        invites: page.rows,
        next_cursor: page.next_cursor,
        reflects,
    })
    .into_response())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteAnswer {
    pub invite: InviteRow,
    #[serde(flatten)]
    pub reflects: Reflects,
}

const INVITE_MISSING: AuditError =
    AuditError::NotFound("INVITE_NOT_FOUND", Cow::Borrowed("No invite has this id"));

/// The invite with this id as it stands now, and its aggregate id (token hash).
async fn live_invite(app: &App, id: &str) -> Result<InviteRow> {
    let id: Uuid = id.parse().map_err(|_| INVITE_MISSING)?;
    let mut conn = app.pool.acquire().await.map_err(ServiceError::from)?;
    let now = At::Now(app.clock.now());
    invites::by_id(&mut conn, now, id)
        .await
        .map_err(ServiceError::from)?
        .ok_or(INVITE_MISSING)
}

/// One invite, now or as it stood at `as_of`.
#[utoipa::path(get, path = "/api/ledger/invites/{id}", tag = "ledger",
    params(("id" = Uuid, Path, description = "The invite's id"), AsOf),
    responses((status = 200, body = InviteAnswer, description = "The invite, and the log position the answer reflects"),
        (status = 404, body = ErrorBody, description = "No invite has this id"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
async fn get_invite(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<InviteAnswer>> {
    let id: Uuid = id.parse().map_err(|_| INVITE_MISSING)?;
    let mut source = Source::open(&app, seen, as_of.as_of).await?;
    let at = source.at;
    let found = invites::by_id(source.conn(), at, id)
        .await
        .map_err(ServiceError::from)?;
    let reflects = source.reflects();
    drop(source);
    if let Some(invite) = found {
        return Ok(Json(InviteAnswer { invite, reflects }));
    }
    // Not there: say whether it never existed, or not yet at that moment.
    match at {
        At::Now(_) => Err(INVITE_MISSING),
        At::Past(_) => {
            let live = live_invite(&app, &id.to_string()).await?;
            Err(AuditError::NotFound(
                "INVITE_NOT_FOUND",
                Cow::Owned(format!(
                    "The invite did not exist yet at {}: as_of is compared with the time the \
                 ledger recorded each event, and this invite's creation was recorded at {} \
                 (its createdAt is {})",
                    crate::json_time::format(&at.moment()),
                    crate::json_time::format(&live.recorded_at),
                    crate::json_time::format(&live.created_at),
                )),
            ))
        }
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
    responses((status = 200, body = EventList, description = "The invite's events, in log order"),
        (status = 404, body = ErrorBody, description = "No invite has this id"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
async fn invite_events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<EventList>> {
    let hash = live_invite(&app, &id).await?.token_hash;
    // As every `as_of`: to the end of its millisecond, on a standby that has
    // replayed that moment.
    let until = as_of.as_of.map(|asked| At::past(asked).moment());
    let (mut conn, _) = match until {
        Some(moment) => standby::connection_until(&app, seen, moment).await,
        None => standby::connection(&app, seen).await,
    }
    .map_err(ServiceError::from)?;
    let events = feed::of_aggregate(&mut conn, INVITE, &hash, until)
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
    #[serde(flatten)]
    pub reflects: Reflects,
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
async fn list_uses(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<UseFilter, PageParams, AsOf, ExportParams>,
    headers: HeaderMap,
    QueryParams(filter): QueryParams<UseFilter>,
    QueryParams(page): QueryParams<PageParams>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response> {
    let paged = page.cursor.is_some() || page.limit.is_some();
    let format = export_format(&export, &headers, paged, as_of.as_of)?;
    if format.is_export() {
        let now = At::Now(app.clock.now());
        let query = invites::uses_query(now, &filter, 0, None).map_err(ServiceError::from)?;
        let conn = standby::connection(&app, seen)
            .await
            .map_err(ServiceError::from)?
            .0;
        let columns = json_columns::<InviteUseRow>(InviteUseRow::COLUMNS);
        return Ok(export::respond(
            conn,
            query,
            format,
            "uses",
            columns,
            |row| Ok(InviteUseRow::from_row(row)?),
        ));
    }
    let limit = limit_of(page.limit)?;
    let mut source = Source::open(&app, seen, as_of.as_of).await?;
    let at = source.at;
    let page = invites::uses(source.conn(), at, &filter, page.cursor.as_deref(), limit)
        .await
        .map_err(ServiceError::from)??;
    Ok(Json(UsePage {
        uses: page.rows,
        next_cursor: page.next_cursor,
        reflects: source.reflects(),
    })
    .into_response())
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
async fn invitees(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<DepthParams, AsOf, ExportParams>,
    headers: HeaderMap,
    PathParams(id): PathParams<String>,
    QueryParams(depth): QueryParams<DepthParams>,
    QueryParams(as_of): QueryParams<AsOf>,
    QueryParams(export): QueryParams<ExportParams>,
) -> Result<Response> {
    let format = export_format(&export, &headers, false, as_of.as_of)?;
    let depth = depth.depth.unwrap_or(1);
    if !(1..=users::MAX_DEPTH).contains(&depth) {
        return Err(ServiceError::bad_request(
            "INVALID_DEPTH",
            format!("depth must be between 1 and {}", users::MAX_DEPTH),
        )
        .into());
    }
    if format.is_export() {
        let mut conn = standby::connection(&app, seen)
            .await
            .map_err(ServiceError::from)?
            .0;
        users::by_id(&mut conn, At::Now(app.clock.now()), &id)
            .await
            .map_err(ServiceError::from)?
            .ok_or(USER_MISSING)?;
        let query = users::invitees_query(&id, depth).map_err(ServiceError::from)?;
        let mut columns = export::columns::<UserNode>(&camel_case(&[
            "id",
            "email",
            "name",
            "role",
            "invited_by",
            "created_at",
        ]));
        columns.push("depth".into());
        return Ok(export::respond(
            conn,
            query,
            format,
            "invitees",
            columns,
            |row| Ok(InviteeRow::from_row(row)?),
        ));
    }
    let mut source = Source::open(&app, seen, as_of.as_of).await?;
    let at = source.at;
    let found = users::with_invitees(source.conn(), at, &id, depth).await;
    let reflects = source.reflects();
    let (user, invitees) = found.map_err(ServiceError::from)?.ok_or(USER_MISSING)?;
    Ok(Json(InviteesAnswer {
        user,
        invitees,
        reflects,
    })
    .into_response())
}

const USER_MISSING: AuditError = AuditError::NotFound(
    "USER_NOT_FOUND",
    Cow::Borrowed("No such user (at that time)"),
);

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
    responses((status = 200, body = ChainAnswer, description = "The inviters, nearest first, up to the root"),
        (status = 404, body = ErrorBody, description = "No such user"),
        (status = 401, body = ErrorBody, description = "Neither a session nor an API key"),
        (status = 403, body = ErrorBody, description = "Not an admin, or an invalid API key")),
    security(("session" = []), ("sessionCookie" = []), ("apiKey" = [])))]
async fn inviter_chain(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    _: KnownParams<AsOf>,
    PathParams(id): PathParams<String>,
    QueryParams(as_of): QueryParams<AsOf>,
) -> Result<Json<ChainAnswer>> {
    let mut source = Source::open(&app, seen, as_of.as_of).await?;
    let at = source.at;
    let found = users::with_inviter_chain(source.conn(), at, &id).await;
    let reflects = source.reflects();
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
    /// Start after this position (`transaction/position`, as events show it),
    /// or after the event with this `globalPosition` (a bare number, as `/uses`
    /// shows it); from the beginning when absent.
    #[param(value_type = Option<String>)]
    pub after: Option<String>,
}

/// Where a page starts: after the position `transaction/position`, or after
/// the event whose `globalPosition` is a bare number (the form `/uses` and
/// older cursors carry), looked up in the log.
async fn parse_after(
    app: &App,
    after: Option<&str>,
) -> std::result::Result<Position, ServiceError> {
    let invalid = |message: String| ServiceError::bad_request("INVALID_POSITION", message);
    let Some(a) = after.filter(|a| !a.is_empty()) else {
        return Ok(Position::default());
    };
    let position = match a.parse::<i64>() {
        Ok(0) => Position::default(),
        Ok(global) if global > 0 => {
            let xid: Option<i64> = sqlx::query_scalar(
                "SELECT transaction_id::text::bigint FROM events WHERE global_position = $1",
            )
            .bind(global)
            .fetch_optional(&app.pool)
            .await
            .map_err(ServiceError::from)?;
            let xid =
                xid.ok_or_else(|| invalid(format!("No event has globalPosition {global}")))?;
            Position { xid, global }
        }
        Ok(_) => Position {
            xid: -1,
            global: -1,
        },
        Err(_) => a.parse().map_err(invalid)?,
    };
    // Positions start at zero: a negative one would page forever past nothing.
    if position.xid < 0 || position.global < 0 {
        return Err(invalid("A log position is never negative".into()));
    }
    Ok(position)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedPage {
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page (the last event's position, or the
    /// `after` given when there was nothing new).
    pub next: String,
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
    /// `json` (pages, the default), `csv` or `ndjson` (every event after `after`, streamed).
    #[param(inline)]
    pub format: Option<Format>,
}

impl EventQuery {
    /// The filter, checked; an invite's id becomes its aggregate id too.
    async fn filter(&self, app: &App) -> Result<EventFilter> {
        let types: Vec<String> = self
            .types
            .iter()
            .flat_map(|t| t.split(','))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        if let Some(unknown) = types
            .iter()
            .find(|t| !feed::EVENT_TYPES.contains(&t.as_str()))
        {
            return Err(invalid(format!(
                "`{unknown}` is not an event type ({})",
                feed::EVENT_TYPES.join(", ")
            )));
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from > to {
                return Err(invalid("from must not be after to"));
            }
        }
        let aggregates = match &self.aggregate {
            None => None,
            Some(id) => {
                let mut ids = vec![id.clone()];
                if let Ok(invite_id) = id.parse::<Uuid>() {
                    let mut conn = app.pool.acquire().await.map_err(ServiceError::from)?;
                    let now = At::Now(app.clock.now());
                    if let Some(invite) = invites::by_id(&mut conn, now, invite_id)
                        .await
                        .map_err(ServiceError::from)?
                    {
                        ids.push(invite.token_hash);
                    }
                }
                Some(ids)
            }
        };
        Ok(EventFilter {
            actor: self.actor.clone(),
            types,
            aggregates,
            from: self.from,
            to: self.to,
            settled: app
                .progress
                .checkpoints()
                .into_iter()
                .map(|(_, position)| position)
                .min()
                .unwrap_or_default(),
        })
    }
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
async fn events(
    State(app): State<App>,
    _: Auditor,
    Seen(seen): Seen,
    headers: HeaderMap,
    StrictQuery(params): StrictQuery<EventQuery>,
) -> Result<Response> {
    let format = Format::negotiate(params.format, &headers);
    if format.is_export() && params.limit.is_some() {
        return Err(invalid("An export has every event: leave out `limit`"));
    }
    let limit = limit_of(params.limit)?;
    let after = parse_after(&app, params.after.as_deref()).await?;
    let filter = params.filter(&app).await?;
    let (mut conn, _) = standby::connection(&app, seen)
        .await
        .map_err(ServiceError::from)?;
    if format.is_export() {
        let query = feed::filtered_query(&filter, after, None).map_err(ServiceError::from)?;
        let columns = export::columns::<EventView>(&[
            "position",
            "globalPosition",
            "aggregateType",
            "aggregateId",
            "sequence",
            "type",
            "recordedAt",
            "data",
        ]);
        let pool = app.pool.clone();
        return Ok(export::respond_in_batches(
            conn,
            query,
            format,
            "events",
            columns,
            move |rows| {
                let pool = pool.clone();
                async move {
                    let mut keys = pool.acquire().await?;
                    let events = decode_rows(&mut keys, &rows).await?;
                    Ok(events.iter().map(EventView::from).collect::<Vec<_>>())
                }
            },
        ));
    }
    let events = feed::filtered(&mut conn, &filter, after, limit)
        .await
        .map_err(ServiceError::from)?;
    let next = events.last().map(|e| e.position).unwrap_or(after);
    Ok(Json(FeedPage {
        events: events.iter().map(EventView::from).collect(),
        next: next.to_string(),
    })
    .into_response())
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
async fn event_stream(
    State(app): State<App>,
    _: Auditor,
    _: KnownParams<FeedParams>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<FeedParams>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let last_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let after = parse_after(&app, last_id.or(params.after.as_deref())).await?;
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
