//! Exports: any list of the audit API as CSV or NDJSON, streamed from the
//! database row by row, so an export has no page limit and holds at most one
//! chunk in memory, whatever its size.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, TryStreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments, Encode, Postgres, Type};

/// Bytes gathered before a chunk goes out.
const CHUNK: usize = 64 * 1024;

/// What a list route answers with (`format=`, else the `Accept` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The paged JSON answer (the default).
    Json,
    /// Every row, streamed, as CSV with a header line.
    Csv,
    /// Every row, streamed, one JSON object a line.
    Ndjson,
}

impl Format {
    /// `format=` wins; otherwise the first of `text/csv`, `application/x-ndjson`
    /// or `application/json` the `Accept` header names; otherwise JSON.
    pub fn negotiate(asked: Option<Format>, headers: &HeaderMap) -> Format {
        if let Some(format) = asked {
            return format;
        }
        headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|media| match media.split(';').next().unwrap_or("").trim() {
                "text/csv" => Some(Format::Csv),
                "application/x-ndjson" => Some(Format::Ndjson),
                "application/json" => Some(Format::Json),
                _ => None,
            })
            .next()
            .unwrap_or(Format::Json)
    }

    pub fn is_export(self) -> bool {
        self != Format::Json
    }
}

/// A query's text and its arguments, owned, so that a stream can run it later.
pub struct Query {
    pub sql: String,
    pub args: PgArguments,
}

impl Query {
    pub fn new(sql: String) -> Query {
        Query {
            sql,
            args: PgArguments::default(),
        }
    }

    /// Adds the next `$n` argument.
    pub fn bind<'q, T: Encode<'q, Postgres> + Type<Postgres> + 'q>(
        mut self,
        value: T,
    ) -> anyhow::Result<Query> {
        self.args
            .add(value)
            .map_err(|e| anyhow::anyhow!("cannot bind a query argument: {e}"))?;
        Ok(self)
    }
}

/// The CSV columns of a row type: the properties its OpenAPI schema lists (so
/// exactly the JSON fields), in the order `order` gives, others after.
pub fn columns<T: utoipa::ToSchema>(order: &[impl AsRef<str>]) -> Vec<String> {
    use utoipa::openapi::{RefOr, Schema};
    let mut names: Vec<String> = match T::schema() {
        RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
        _ => Vec::new(),
    };
    names.sort_by_key(|name| {
        order
            .iter()
            .position(|o| o.as_ref() == name)
            .unwrap_or(order.len())
    });
    names
}

/// An export's columns in the read model's column order, named as its JSON
/// names them: a bare log number is a `globalPosition` there.
pub fn json_columns<T: utoipa::ToSchema>(names: &[&str]) -> Vec<String> {
    let order: Vec<String> = camel_case(names)
        .into_iter()
        .map(|name| match name.as_str() {
            "position" => "globalPosition".to_string(),
            "lastPosition" => "lastGlobalPosition".to_string(),
            _ => name,
        })
        .collect();
    columns::<T>(&order)
}

/// `snake_case` column names as the JSON (camelCase) spells them.
pub fn camel_case(names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            let mut out = String::new();
            let mut upper = false;
            for c in name.chars() {
                if c == '_' {
                    upper = true;
                } else if upper {
                    out.extend(c.to_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect()
}

/// Streams every row of `query` as CSV or NDJSON: each row is turned into what
/// the JSON answers show (`convert`), so an export says what a page says.
/// A database error midway ends the body early (the status is already sent):
/// the client sees a cut transfer, and the error is logged.
pub fn respond<V, F>(
    conn: PoolConnection<Postgres>,
    query: Query,
    format: Format,
    name: &str,
    columns: Vec<String>,
    convert: F,
) -> Response
where
    V: Serialize + Send + 'static,
    F: Fn(&PgRow) -> anyhow::Result<V> + Send + Sync + 'static,
{
    let convert = std::sync::Arc::new(convert);
    respond_in_batches(conn, query, format, name, columns, move |rows| {
        let convert = convert.clone();
        async move { rows.iter().map(|row| convert(row)).collect() }
    })
}

/// `respond` for rows converted a batch at a time (events: one query for the
/// keys of a batch's persons).
pub fn respond_in_batches<V, F, Fut>(
    conn: PoolConnection<Postgres>,
    query: Query,
    format: Format,
    name: &str,
    columns: Vec<String>,
    convert: F,
) -> Response
where
    V: Serialize + Send + 'static,
    F: FnMut(Vec<PgRow>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<Vec<V>>> + Send + 'static,
{
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        _ => ("application/x-ndjson", "ndjson"),
    };
    let body = Body::from_stream(
        rows(conn, query, format, columns, convert)
            .inspect_err(|error| tracing::warn!(%error, "an export ends on an error")),
    );
    let disposition = format!("attachment; filename=\"{name}.{extension}\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).expect("a plain file name"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Rows converted per batch of this many.
const BATCH: usize = 500;

fn rows<V, F, Fut>(
    mut conn: PoolConnection<Postgres>,
    query: Query,
    format: Format,
    columns: Vec<String>,
    mut convert: F,
) -> impl Stream<Item = anyhow::Result<Bytes>> + Send
where
    V: Serialize + Send + 'static,
    F: FnMut(Vec<PgRow>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<Vec<V>>> + Send + 'static,
{
    async_stream::try_stream! {
        let mut out = Encoder::new(format, columns)?;
        let mut rows = sqlx::query_with(&query.sql, query.args).fetch(&mut *conn);
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            let row = rows.try_next().await?;
            let done = row.is_none();
            batch.extend(row);
            if batch.len() < BATCH && !done {
                continue;
            }
            for value in convert(std::mem::take(&mut batch)).await? {
                out.push(&serde_json::to_value(value)?)?;
            }
            if out.buffered() >= CHUNK || done {
                yield out.take()?;
            }
            if done {
                break;
            }
        }
    }
}

/// Rows into CSV records or NDJSON lines, gathered until taken.
struct Encoder {
    /// The CSV columns; `None` for NDJSON.
    csv: Option<Vec<String>>,
    out: Vec<u8>,
}

impl Encoder {
    fn new(format: Format, columns: Vec<String>) -> anyhow::Result<Encoder> {
        let mut encoder = Encoder {
            csv: None,
            out: Vec::new(),
        };
        if format == Format::Csv {
            encoder.out = csv_record(columns.iter().map(String::as_str))?;
            encoder.csv = Some(columns);
        }
        Ok(encoder)
    }

    fn push(&mut self, row: &Value) -> anyhow::Result<()> {
        match &self.csv {
            Some(columns) => {
                let fields: Vec<String> = columns.iter().map(|c| csv_field(row.get(c))).collect();
                self.out
                    .extend(csv_record(fields.iter().map(String::as_str))?);
            }
            None => {
                serde_json::to_writer(&mut self.out, row)?;
                self.out.push(b'\n');
            }
        }
        Ok(())
    }

    fn buffered(&self) -> usize {
        self.out.len()
    }

    fn take(&mut self) -> anyhow::Result<Bytes> {
        Ok(Bytes::from(std::mem::take(&mut self.out)))
    }
}

/// One CSV line, quoted as RFC 4180 asks (by the `csv` crate).
fn csv_record<'a>(fields: impl Iterator<Item = &'a str>) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(fields)?;
    Ok(writer.into_inner()?)
}

/// One CSV field: text as is, nothing for null, nested values as JSON.
fn csv_field(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => inert(s),
        Some(other) => other.to_string(),
    }
}

/// Text a spreadsheet would take for a formula (a name or email starting
/// with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`, as
/// OWASP advises against CSV injection; a reader strips it to get the text.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_param_wins_then_accept_decides() {
        let mut headers = HeaderMap::new();
        assert_eq!(Format::negotiate(None, &headers), Format::Json);
        headers.insert(header::ACCEPT, "text/csv;q=0.9, */*".parse().unwrap());
        assert_eq!(Format::negotiate(None, &headers), Format::Csv);
        assert_eq!(
            Format::negotiate(Some(Format::Ndjson), &headers),
            Format::Ndjson
        );
        headers.insert(header::ACCEPT, "application/x-ndjson".parse().unwrap());
        assert_eq!(Format::negotiate(None, &headers), Format::Ndjson);
    }

    #[test]
    fn snake_case_becomes_camel_case() {
        assert_eq!(
            camel_case(&["id", "redirect_to_sign_up"]),
            ["id", "redirectToSignUp"]
        );
    }
}
