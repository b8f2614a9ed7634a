//! Read models built from the log. Each projection owns its tables (created from
//! its SQL file in `projections/`) and a checkpoint written in the same
//! transaction as every change it makes, so each event is applied exactly once.

pub mod bulk;
mod invite;
mod invite_use;
mod rebuild;
mod runner;
mod user_account;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;

use crate::ledger::RecordedEvent;

pub use rebuild::{
    create_missing, ensure_schema, rebuild, rebuild_in_background, status, ProjectionStatus,
};
pub(crate) use runner::{read_checkpoint, write_checkpoint};
pub use runner::{Progress, ProjectionRunner};

#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// The SQL that creates the projection's tables.
    fn schema(&self) -> &'static str;
    /// The tables `schema` creates, to drop on rebuild.
    fn tables(&self) -> &'static [&'static str];
    /// Applies one event inside the runner's transaction.
    async fn apply(&self, conn: &mut PgConnection, event: &RecordedEvent) -> sqlx::Result<()>;
    /// The same rows folded in memory, for fast rebuilds; `None` replays with `apply`.
    fn bulk_fold(&self) -> Option<Box<dyn bulk::BulkFold>> {
        None
    }

    /// Changes with the SQL file; a stored version that differs means the tables
    /// were built by other code and must be rebuilt.
    fn version(&self) -> String {
        hex::encode(&Sha256::digest(self.schema().as_bytes())[..8])
    }
}

/// Every read model of the service.
pub fn all() -> Vec<std::sync::Arc<dyn Projection>> {
    vec![
        std::sync::Arc::new(invite::InviteView),
        std::sync::Arc::new(invite_use::InviteUseTrail),
        std::sync::Arc::new(user_account::UserAccounts),
    ]
}

/// Takes the advisory lock named `name` for the rest of the transaction, unless
/// another holds it: one runner per projection (or reactor, or sweeper) at a time.
pub(crate) async fn try_lock(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(lock_key(name))
        .fetch_one(conn)
        .await
}

/// One advisory-lock key per projection: one runner (or rebuild) at a time.
fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("invite-ledger projection {name}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}
