//! Read models folded in memory from a run of the log, then written in bulk.
//!
//! A rebuild replays millions of events: one round trip per event is far too slow.
//! Each fold keeps the rows its projection would hold, in memory, applying events
//! exactly as the projection's incremental `apply` does (tests/rebuild.rs checks
//! both give identical rows), and writes them with COPY.
//! The same folds answer `as_of` questions from the log (see `audit`).

pub mod invite;
pub mod invite_use;
pub mod user_account;

use async_trait::async_trait;
use sqlx::PgConnection;

use crate::ledger::RecordedEvent;

#[async_trait]
pub trait BulkFold: Send {
    /// Applies one event to the rows in memory.
    fn fold(&mut self, event: &RecordedEvent);
    /// Inserts every row into the projection's tables (as `search_path` resolves
    /// them), and forgets them.
    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64>;
}

/// Rows in COPY's text format, sent a few megabytes per COPY statement. Outside
/// an explicit transaction each statement commits on its own, so no transaction
/// stays open for long: an open transaction holds every log reader back.
pub(crate) struct CopyRows<'c> {
    conn: &'c mut PgConnection,
    statement: String,
    buffer: Vec<u8>,
    rows: u64,
}

/// Bytes per COPY statement.
const COPY_CHUNK: usize = 8 << 20;

impl<'c> CopyRows<'c> {
    /// Prepares `COPY table (columns) FROM STDIN`.
    pub fn new(conn: &'c mut PgConnection, table: &str, columns: &str) -> CopyRows<'c> {
        CopyRows {
            conn,
            statement: format!("COPY {table} ({columns}) FROM STDIN"),
            buffer: Vec::with_capacity(COPY_CHUNK + 4096),
            rows: 0,
        }
    }

    /// Appends one row, its fields in the order of the COPY's columns.
    pub async fn row(&mut self, fields: &[&dyn CopyField]) -> sqlx::Result<()> {
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.buffer.push(b'\t');
            }
            field.write(&mut self.buffer);
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

    pub async fn finish(mut self) -> sqlx::Result<u64> {
        self.flush().await?;
        Ok(self.rows)
    }
}

/// A value in COPY's text format.
pub(crate) trait CopyField: Sync {
    fn write(&self, out: &mut Vec<u8>);
}

impl CopyField for str {
    fn write(&self, out: &mut Vec<u8>) {
        for byte in self.bytes() {
            match byte {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                other => out.push(other),
            }
        }
    }
}

impl CopyField for String {
    fn write(&self, out: &mut Vec<u8>) {
        self.as_str().write(out)
    }
}

impl<T: CopyField> CopyField for Option<T> {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Some(value) => value.write(out),
            None => out.extend_from_slice(b"\\N"),
        }
    }
}

impl CopyField for bool {
    fn write(&self, out: &mut Vec<u8>) {
        out.push(if *self { b't' } else { b'f' });
    }
}

macro_rules! copy_display {
    ($($t:ty),*) => {$(
        impl CopyField for $t {
            fn write(&self, out: &mut Vec<u8>) {
                use std::io::Write;
                write!(out, "{self}").expect("writing to memory");
            }
        }
    )*};
}

copy_display!(i32, i64, uuid::Uuid);

impl CopyField for chrono::DateTime<chrono::Utc> {
    fn write(&self, out: &mut Vec<u8>) {
        use std::io::Write;
        write!(out, "{}", self.format("%Y-%m-%d %H:%M:%S%.6f+00")).expect("writing to memory");
    }
}
