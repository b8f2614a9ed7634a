//! The audit API under `/api/ledger`: read-only answers about the ledger, for
//! admins and API keys. Each handler reads its request, asks one question of
//! `queries/` and answers; the parameters several routes share live here.

mod auditor;
pub(super) mod events;
pub(super) mod invites;
pub(super) mod periods;
pub(super) mod users;

use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use super::HttpState;
use crate::error::ServiceError;
use crate::queries::export::Format;

pub use auditor::Auditor;
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/invites", get(invites::list_invites))
        .route("/invites/{id}", get(invites::get_invite))
        .route("/invites/{id}/events", get(invites::invite_events))
        .route("/uses", get(invites::list_uses))
        .route("/users/{id}/invitees", get(users::invitees))
        .route("/users/{id}/inviter-chain", get(users::inviter_chain))
        .route("/events", get(events::events))
        .route("/events/stream", get(events::event_stream))
        .route("/stats", get(periods::stats))
        .route("/users", get(users::find_user))
        .route("/users/{id}", get(users::get_user))
        .route("/users/{id}/erase", post(users::erase_user))
        .route("/diff", get(periods::diff))
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

impl PageParams {
    fn is_paged(&self) -> bool {
        self.cursor.is_some() || self.limit.is_some()
    }
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
) -> Result<Format, ServiceError> {
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

const EXPORT_CONTENT: &str = "`application/json` is a page; `text/csv` (a header line, then a \
    record per row, with the JSON field names as columns) and `application/x-ndjson` (one JSON \
    object a line) stream every row";

fn limit_of(limit: Option<i64>) -> Result<i64, ServiceError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(ServiceError::bad_request(
            "INVALID_LIMIT",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// A refusal of a query's value, in the shape every bad parameter gets.
fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("VALIDATION_ERROR", message)
}
