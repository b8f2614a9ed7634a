//! Read models built from the log. Each is a typed row and one fold
//! (`model::ReadModel`); its table and its history table are created from its
//! SQL file in `projections/`. The runner and the rebuild run the same fold;
//! `as_of` reads the history.

pub mod appended;
pub mod emptied;
pub mod invite;
pub mod invite_use;
pub mod model;
pub mod organization;
mod rebuild;
pub mod row;
mod runner;
pub mod user_account;
pub mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::ledger::{Position, RecordedEvent};
use model::Model;

pub use rebuild::{
    create_missing, ensure_schema, rebuild, rebuild_in_background, status, ProjectionStatus,
};
pub use runner::{spawn as spawn_runner, Progress};

/// A read model as the drivers see it (`model::Model` makes one of a `ReadModel`).
#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// The SQL that creates the read model's table.
    fn schema(&self) -> &'static str;
    /// The tables `schema` creates (the read model's and its history), to
    /// replace on rebuild.
    fn tables(&self) -> [&'static str; 2];
    /// Applies a batch inside the caller's transaction: loads the rows it
    /// touches, folds, writes the changed ones.
    async fn apply(&self, conn: &mut PgConnection, events: &[RecordedEvent]) -> sqlx::Result<()>;
    /// An empty fold in memory, for rebuilds, holding at most
    /// `rows_in_memory` rows at a time.
    fn fold(&self, rows_in_memory: usize) -> Box<dyn Fold>;

    /// Changes with the SQL file; a stored version that differs means the tables
    /// were built by other code and must be rebuilt.
    fn version(&self) -> String {
        hex::encode(&Sha256::digest(self.schema().as_bytes())[..8])
    }
}

/// A read model's rows folded in memory from a run of the log, then written
/// in bulk. Memory is bounded: past a number of rows, those in memory are
/// written out (`spill`), and later events that touch a row already written
/// are set aside (`deferred`) to be applied once the table has its keys.
#[async_trait]
pub trait Fold: Send {
    fn fold(&mut self, event: &RecordedEvent);
    /// The rows that left memory since the last call, to COPY into the table.
    fn take_spilled(&mut self) -> Spilled;
    /// COPYs every row still in memory and forgets them; returns how many rows
    /// were written in all.
    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64>;
    /// The events set aside, in log order: apply them (`Projection::apply`)
    /// after `write`, once the table has its keys.
    fn take_deferred(&mut self) -> Vec<Position>;
}

/// Rows in COPY's text format, each batch with the statement that loads it
/// (a read model's rows, then its history's).
pub struct Spilled(pub Vec<(String, Vec<u8>)>);

impl Spilled {
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|(_, data)| data.is_empty())
    }

    /// COPYs the rows into the tables (as `search_path` resolves them).
    pub async fn send(self, conn: &mut PgConnection) -> sqlx::Result<()> {
        for (statement, data) in self.0 {
            writer::copy_raw(conn, &statement, data).await?;
        }
        Ok(())
    }
}

/// Applies a fold's deferred events to its table, in pages: the same fold the
/// runner runs, on rows loaded by key.
pub async fn apply_deferred(
    conn: &mut PgConnection,
    projection: &dyn Projection,
    deferred: &[Position],
) -> anyhow::Result<()> {
    for page in deferred.chunks(DEFERRED_PAGE) {
        let events = crate::ledger::read_positions(conn, page).await?;
        anyhow::ensure!(
            events.len() == page.len(),
            "{}: {} of {} deferred events found in the log",
            projection.name(),
            events.len(),
            page.len()
        );
        projection.apply(conn, &events).await?;
    }
    Ok(())
}

const DEFERRED_PAGE: usize = 2_000;

/// Rows of one read model a fold keeps in memory before writing them out.
pub const ROWS_IN_MEMORY: usize = 20_000;

/// Every read model of the service.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(Model::<invite::InviteView>::new()),
        Arc::new(Model::<invite_use::InviteUseTrail>::new()),
        Arc::new(Model::<user_account::UserAccounts>::new()),
        Arc::new(Model::<organization::OrganizationInvitations>::new()),
        Arc::new(Model::<organization::OrganizationMembers>::new()),
    ]
}
