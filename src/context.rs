//! What the use cases work with: the database, the ledger, the read models'
//! progress, the settings and the clock. The running application holds one.

use std::cell::Cell;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use crate::clock::Clock;
use crate::config::Settings;
use crate::ledger::{Ledger, Position};
use crate::projections::Progress;
use crate::rate_limit::Limiter;

/// How long a command waits for the read models to show its own event.
const READ_YOUR_WRITES: Duration = Duration::from_secs(10);

tokio::task_local! {
    /// The furthest log position written while serving one request, so that
    /// its answer can carry it (`Ledger-Position`) without every use case
    /// returning it.
    static WRITTEN: Cell<Option<Position>>;
}

/// Runs `work` and also returns the furthest log position its commands wrote.
pub async fn recording_writes<F: Future>(work: F) -> (F::Output, Option<Position>) {
    WRITTEN
        .scope(Cell::new(None), async {
            let output = work.await;
            (output, WRITTEN.with(Cell::get))
        })
        .await
}

#[derive(Clone)]
pub struct Context {
    pub pool: PgPool,
    /// The standby the audit API reads from (`DATABASE_READ_URL`), if any.
    pub read_pool: Option<PgPool>,
    pub ledger: Ledger,
    pub progress: Progress,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    /// The rate limits' counters (in PostgreSQL, shared by every replica).
    pub limiter: Arc<Limiter>,
}

impl Context {
    /// Read your writes: waits until every read model shows the event at `position`.
    pub async fn settle(&self, position: Option<Position>) {
        self.settle_on(position, &[]).await
    }

    /// Read your writes for answers (and next requests) that read only `read_models`.
    pub async fn settle_on(&self, position: Option<Position>, read_models: &[&str]) {
        let Some(position) = position else { return };
        // Outside a request (the sweeper, tests calling a use case) there is no record.
        let _ = WRITTEN.try_with(|written| written.set(written.get().max(Some(position))));
        if !self
            .progress
            .wait_for(position, read_models, READ_YOUR_WRITES)
            .await
        {
            tracing::warn!(%position, "read models did not catch up in time; answering anyway");
        }
    }
}
