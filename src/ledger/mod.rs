//! The event store: cqrs-es aggregates persisted in PostgreSQL, plus what
//! cqrs-es and postgres-es lack: a global order, a bounded retry on conflicts,
//! the position of each write, and the one follower of the log.

mod event_view;
mod follower;
mod group_commit;
mod guard;
pub mod person_keys;
pub mod personal;
mod position;
mod reader;
mod store;
pub mod stored;

pub use event_view::{views, EventView, EVENT_TYPES};
pub use follower::{lock, read_checkpoint, save_checkpoint, try_lock, Consumer, Cursor, Follower};
pub use guard::{usage, Admission, Guard, Quota, Receipt, Usage, RECEIPT_LIFETIME};
pub use position::Position;
pub use reader::{
    count_after, decode_rows, fetch_batch, position_of, read_batch, read_positions, LedgerEvent,
    RecordedEvent, RECORDED_COLUMNS,
};
pub use store::{BatchResult, JointError, Ledger, LedgerError, WrittenHere};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Whether the database answers at all (readiness asks this first).
pub async fn ping(pool: &sqlx::PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(pool).await.map(|_| ())
}
