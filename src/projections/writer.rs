//! The one writer of read-model tables: every INSERT or UPDATE of a read model
//! goes through here. The runner loads the rows a batch touches and upserts the
//! changed ones, one statement per table per batch; rebuilds and `as_of` COPY.

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
            statement: format!("COPY {} ({}) FROM STDIN", R::TABLE, R::column_list()),
            buffer: Vec::with_capacity(COPY_CHUNK + 4096),
            field: String::new(),
            rows: 0,
        }
    }

    /// Appends one row.
    pub async fn row<R: Row>(&mut self, row: &R) -> sqlx::Result<()> {
        for (i, value) in row.values().into_iter().enumerate() {
            if i > 0 {
                self.buffer.push(b'\t');
            }
            self.field.clear();
            if value.write_text(&mut self.field) {
                escape_into(&self.field, &mut self.buffer);
            } else {
                self.buffer.extend_from_slice(b"\\N");
            }
        }
        self.buffer.push(b'\n');
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
        let mut copy = self.conn.copy_in_raw(&self.statement).await?;
        copy.send(std::mem::take(&mut self.buffer)).await?;
        copy.finish().await?;
        self.buffer.reserve(COPY_CHUNK + 4096);
        Ok(())
    }

    /// Sends what is left; returns the number of rows sent in all.
    pub async fn finish(mut self) -> sqlx::Result<u64> {
        self.flush().await?;
        Ok(self.rows)
    }
}

/// COPY's text format escapes backslashes and the separators.
fn escape_into(text: &str, out: &mut Vec<u8>) {
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            other => out.push(other),
        }
    }
}
