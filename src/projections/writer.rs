//! The one writer of read-model tables: every INSERT or UPDATE of a read model
//! and of its history goes through here. The runner loads the rows a batch
//! touches, upserts the changed ones and records their versions, one statement
//! per table per batch; rebuilds COPY.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::row::{Row, SqlValue};

/// The rows with these keys, as stored.
pub async fn load<R: Row>(conn: &mut PgConnection, keys: &[&R::Key]) -> sqlx::Result<Vec<R>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM {} WHERE {} = ANY($1::text[]::{}[])",
        R::column_list(),
        R::TABLE,
        R::KEY,
        <R::Key as super::row::SqlType>::SQL_TYPE,
    );
    let texts: Vec<Option<String>> = keys.iter().map(|key| text_of(*key)).collect();
    sqlx::query_as(&sql).bind(texts).fetch_all(conn).await
}

/// Inserts the rows, or replaces the stored ones with the same key: one
/// statement, each column sent as one array.
pub async fn upsert<R: Row>(conn: &mut PgConnection, rows: &[&R]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut columns: Vec<Vec<Option<String>>> = (0..R::COLUMNS.len())
        .map(|_| Vec::with_capacity(rows.len()))
        .collect();
    for row in rows {
        for (column, value) in columns.iter_mut().zip(row.values()) {
            column.push(text_of(value));
        }
    }
    let sql = upsert_sql::<R>();
    let mut query = sqlx::query(&sql);
    for column in columns {
        query = query.bind(column);
    }
    query.execute(conn).await.map(drop)
}

/// Where a row version starts or ends: the event that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since {
    /// When the ledger recorded the event: what `as_of` compares with.
    pub at: DateTime<Utc>,
    /// The event's global position.
    pub position: i64,
}

impl Since {
    pub fn of(event: &crate::ledger::RecordedEvent) -> Since {
        Since {
            at: event.recorded_at,
            position: event.position.global,
        }
    }
}

/// One version of a row and the range in which it held; `to` is `None` while
/// it is the current one.
pub struct Version<R> {
    pub row: R,
    pub from: Since,
    pub to: Option<Since>,
}

/// The history table's columns after the row's own.
const VALIDITY: &str = "valid_from, valid_from_position, valid_to, valid_to_position";

/// Ends the current stored version of each key at the time given, and adds
/// `versions`: one statement (the UPDATE does not see the rows it inserts).
pub async fn record_versions<R: Row>(
    conn: &mut PgConnection,
    ends: &[(R::Key, Since)],
    versions: &[Version<R>],
) -> sqlx::Result<()> {
    if versions.is_empty() {
        return Ok(());
    }
    let mut columns: Vec<Vec<Option<String>>> = (0..R::COLUMNS.len() + 4)
        .map(|_| Vec::with_capacity(versions.len()))
        .collect();
    for version in versions {
        let mut values = version.row.values();
        let (from_at, from_position) = (version.from.at, version.from.position);
        let to_at = version.to.map(|to| to.at);
        let to_position = version.to.map(|to| to.position);
        values.extend([
            &from_at as &dyn SqlValue,
            &from_position,
            &to_at,
            &to_position,
        ]);
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(text_of(value));
        }
    }
    let key_type = <R::Key as super::row::SqlType>::SQL_TYPE;
    let mut types: Vec<&str> = R::TYPES.to_vec();
    types.extend(["timestamptz", "bigint", "timestamptz", "bigint"]);
    let arrays: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, sql_type)| format!("${}::text[]::{sql_type}[]", i + 4))
        .collect();
    let sql = format!(
        "WITH ended AS (
            UPDATE {history} h SET valid_to = e.at, valid_to_position = e.position
              FROM unnest($1::text[]::{key_type}[], $2::timestamptz[], $3::bigint[])
                   AS e(key, at, position)
             WHERE h.{key} = e.key AND h.valid_to IS NULL
               -- Names the keys to the index of current versions: a plan made
               -- while the table was small (or never analysed) cannot turn
               -- into a scan of every current version.
               AND h.{key} = ANY($1::text[]::{key_type}[]))
         INSERT INTO {history} ({columns}, {VALIDITY}) SELECT * FROM unnest({arrays})",
        history = R::HISTORY,
        key = R::KEY,
        columns = R::column_list(),
        arrays = arrays.join(", "),
    );
    let mut query = sqlx::query(&sql)
        .bind(ends.iter().map(|(key, _)| text_of(key)).collect::<Vec<_>>())
        .bind(ends.iter().map(|(_, since)| since.at).collect::<Vec<_>>())
        .bind(
            ends.iter()
                .map(|(_, since)| since.position)
                .collect::<Vec<_>>(),
        );
    for column in columns {
        query = query.bind(column);
    }
    query.execute(conn).await.map(drop)
}

fn text_of(value: &(impl SqlValue + ?Sized)) -> Option<String> {
    let mut text = String::new();
    value.write_text(&mut text).then_some(text)
}

fn upsert_sql<R: Row>() -> String {
    let arrays: Vec<String> = R::TYPES
        .iter()
        .enumerate()
        .map(|(i, sql_type)| format!("${}::text[]::{sql_type}[]", i + 1))
        .collect();
    let updates: Vec<String> = R::COLUMNS
        .iter()
        .filter(|column| **column != R::KEY)
        .map(|column| format!("{column} = EXCLUDED.{column}"))
        .collect();
    format!(
        "INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})
         ON CONFLICT ({key}) DO UPDATE SET {updates}",
        table = R::TABLE,
        columns = R::column_list(),
        arrays = arrays.join(", "),
        key = R::KEY,
        updates = updates.join(", "),
    )
}

/// Rows in COPY's text format, sent a few megabytes per COPY statement. Outside
/// an explicit transaction each statement commits on its own, so no transaction
/// stays open for long: an open transaction holds every log reader back.
pub struct CopyRows<'c> {
    conn: &'c mut PgConnection,
    statement: String,
    buffer: Vec<u8>,
    field: String,
    rows: u64,
}

/// Bytes per COPY statement.
const COPY_CHUNK: usize = 4 << 20;

impl<'c> CopyRows<'c> {
    /// Prepares `COPY table (columns) FROM STDIN` for rows of `R`.
    pub fn new<R: Row>(conn: &'c mut PgConnection) -> CopyRows<'c> {
        CopyRows {
            conn,
            statement: copy_statement::<R>(),
            buffer: Vec::with_capacity(COPY_CHUNK + 4096),
            field: String::new(),
            rows: 0,
        }
    }

    /// Appends one row.
    pub async fn row<R: Row>(&mut self, row: &R) -> sqlx::Result<()> {
        encode_copy_row(row, &mut self.buffer, &mut self.field);
        self.rows += 1;
        if self.buffer.len() >= COPY_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> sqlx::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        copy_raw(self.conn, &self.statement, std::mem::take(&mut self.buffer)).await?;
        self.buffer.reserve(COPY_CHUNK + 4096);
        Ok(())
    }

    /// Sends what is left; returns the number of rows sent in all.
    pub async fn finish(mut self) -> sqlx::Result<u64> {
        self.flush().await?;
        Ok(self.rows)
    }
}

/// Appends `row` to `out` in COPY's text format (`field` is scratch space).
pub fn encode_copy_row<R: Row>(row: &R, out: &mut Vec<u8>, field: &mut String) {
    encode_values(&row.values(), out, field);
    out.push(b'\n');
}

/// A version of `row` that starts at `from`, in COPY's text format for the
/// history table, without its end: `end_version` completes it.
pub fn encode_open_version<R: Row>(row: &R, from: Since, out: &mut Vec<u8>, field: &mut String) {
    let mut values = row.values();
    values.extend([&from.at as &dyn SqlValue, &from.position]);
    encode_values(&values, out, field);
}

/// Completes a version from `encode_open_version`, ended at `to` (or current).
pub fn end_version(open: &[u8], to: Option<Since>, out: &mut Vec<u8>, field: &mut String) {
    out.extend_from_slice(open);
    out.push(b'\t');
    let (at, position) = (to.map(|to| to.at), to.map(|to| to.position));
    encode_values(&[&at as &dyn SqlValue, &position], out, field);
    out.push(b'\n');
}

fn encode_values(values: &[&dyn SqlValue], out: &mut Vec<u8>, field: &mut String) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        field.clear();
        if value.write_text(field) {
            escape_into(field, out);
        } else {
            out.extend_from_slice(b"\\N");
        }
    }
}

/// `COPY table (columns) FROM STDIN` for rows of `R`.
pub fn copy_statement<R: Row>() -> String {
    format!("COPY {} ({}) FROM STDIN", R::TABLE, R::column_list())
}

/// `COPY history (columns, validity) FROM STDIN` for versions of rows of `R`.
pub fn copy_history_statement<R: Row>() -> String {
    format!(
        "COPY {} ({}, {VALIDITY}) FROM STDIN",
        R::HISTORY,
        R::column_list()
    )
}

/// Sends rows already in COPY's text format (nothing when there are none).
pub async fn copy_raw(conn: &mut PgConnection, statement: &str, data: Vec<u8>) -> sqlx::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(data).await?;
    copy.finish().await?;
    Ok(())
}

/// COPY's text format escapes backslashes and the separators.
fn escape_into(text: &str, out: &mut Vec<u8>) {
    // Runs without a special byte (nearly all text) are copied whole.
    let bytes = text.as_bytes();
    let mut copied = 0;
    for (i, byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            _ => continue,
        };
        out.extend_from_slice(&bytes[copied..i]);
        out.extend_from_slice(escaped);
        copied = i + 1;
    }
    out.extend_from_slice(&bytes[copied..]);
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn copy_text_escapes_backslashes_and_separators() {
        let mut out = Vec::new();
        escape_into("plain", &mut out);
        out.push(b'|');
        escape_into("a\\b\tc\nd\re", &mut out);
        assert_eq!(out, b"plain|a\\\\b\\tc\\nd\\re");
    }
}
