//! The event store: cqrs-es aggregates persisted by postgres-es, plus what they
//! lack: a global order, a bounded retry on conflicts and the position of each write.

mod position;
mod reader;
mod store;

pub use position::Position;
pub use reader::{
    count_after, fetch_batch, position_of, read_batch, recorded_from_row, LedgerEvent,
    RecordedEvent, RECORDED_COLUMNS,
};
pub use store::{Ledger, LedgerError};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
