//! Read models folded in memory from a run of the log, then written in bulk.
//!
//! A rebuild replays millions of events: one round trip per event is far too slow.
//! Each fold keeps the rows its projection would hold, in memory, applying events
//! exactly as the projection's incremental `apply` does (tests/rebuild.rs checks
//! both give identical rows), and writes them with one multi-row INSERT per chunk.
//! The same folds answer `as_of` questions from the log (see `audit`).

pub mod invite;
pub mod invite_use;
pub mod user_account;

use async_trait::async_trait;
use sqlx::PgConnection;

use crate::ledger::RecordedEvent;

/// Rows per INSERT: large enough to amortize the round trip, small enough to
/// keep each statement's arrays modest.
pub(crate) const CHUNK: usize = 20_000;

#[async_trait]
pub trait BulkFold: Send {
    /// Applies one event to the rows in memory.
    fn fold(&mut self, event: &RecordedEvent);
    /// Inserts every row into the projection's tables (as `search_path` resolves
    /// them), and forgets them.
    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64>;
}

/// One field of every row, as the array a multi-row `INSERT ... UNNEST` binds.
pub(crate) fn column<R, T>(rows: &[R], field: impl Fn(&R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}
