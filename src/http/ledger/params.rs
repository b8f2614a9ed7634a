//! The query parameters several audit routes share (`as_of`, paging, export
//! format) and how they are checked.

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ServiceError;
use crate::queries::export::Format;

const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;

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
    pub(super) fn is_paged(&self) -> bool {
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

/// The format asked for; an export is not paged (it has every row, now or
/// as of the moment asked).
pub(super) fn export_format(
    export: &ExportParams,
    headers: &HeaderMap,
    paged: bool,
) -> Result<Format, ServiceError> {
    let format = Format::negotiate(export.format, headers);
    if format.is_export() && paged {
        return Err(invalid(
            "An export has every row: leave out `cursor` and `limit`",
        ));
    }
    Ok(format)
}

pub(super) const EXPORT_CONTENT: &str =
    "`application/json` is a page; `text/csv` (a header line, then a \
    record per row, with the JSON field names as columns) and `application/x-ndjson` (one JSON \
    object a line) stream every row";

pub(super) fn limit_of(limit: Option<i64>) -> Result<i64, ServiceError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        _ => Err(ServiceError::bad_request(
            "INVALID_LIMIT",
            format!("limit must be between 1 and {MAX_LIMIT}"),
        )),
    }
}

/// A refusal of a query's value, in the shape every bad parameter gets.
pub(super) fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("VALIDATION_ERROR", message)
}
