//! Read models built from the log. Each is a typed row and one fold
//! (`model::ReadModel`); its table is created from its SQL file in
//! `projections/`. The runner, the rebuild and `as_of` all run the same fold.

pub mod invite;
pub mod invite_use;
pub mod model;
mod rebuild;
pub mod row;
mod runner;
pub mod user_account;
pub mod writer;

use std::sync::Arc;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::ledger::RecordedEvent;
use model::Model;

pub use rebuild::{
    create_missing, ensure_schema, rebuild, rebuild_in_background, status, ProjectionStatus,
};
pub use runner::{catch_up, spawn as spawn_runner, Progress, ReadModels};

/// A read model as the drivers see it (`model::Model` makes one of a `ReadModel`).
#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// The SQL that creates the read model's table.
    fn schema(&self) -> &'static str;
    /// The table `schema` creates, to drop on rebuild.
    fn table(&self) -> &'static str;
    /// Applies a batch inside the caller's transaction: loads the rows it
    /// touches, folds, writes the changed ones.
    async fn apply(&self, conn: &mut PgConnection, events: &[RecordedEvent]) -> sqlx::Result<()>;
    /// An empty fold in memory, for rebuilds and `as_of`.
    fn fold(&self) -> Box<dyn Fold>;

    /// Changes with the SQL file; a stored version that differs means the tables
    /// were built by other code and must be rebuilt.
    fn version(&self) -> String {
        hex::encode(&Sha256::digest(self.schema().as_bytes())[..8])
    }
}

/// Every row of a read model folded in memory, then written in bulk.
#[async_trait]
pub trait Fold: Send {
    fn fold(&mut self, event: &RecordedEvent);
    /// COPYs every row into the table (as `search_path` resolves it) and
    /// forgets them; returns how many.
    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64>;
}

/// Every read model of the service.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(Model::<invite::InviteView>::new()),
        Arc::new(Model::<invite_use::InviteUseTrail>::new()),
        Arc::new(Model::<user_account::UserAccounts>::new()),
    ]
}
