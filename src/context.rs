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
use crate::projections::model::ReadModel;
use crate::projections::user_account::UserAccounts;
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

/// Which read models a request's reads need to show this process's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    /// Every read model, for every write appended here.
    Everything,
    /// `user_account`, for the writes appended here that change an account: a
    /// signed-in request reads its own account and role.
    Accounts,
}

impl Context {
    /// Notes a command's position for its answer (`Ledger-Position`). The
    /// command does not wait for the read models: its answer is built from its
    /// own events, and the next read waits for them (`see_writes_here`,
    /// `see_the_log`).
    pub fn written(&self, position: Option<Position>) {
        let Some(position) = position else { return };
        // Outside a request (the sweeper, tests calling a use case) there is no record.
        let _ = WRITTEN.try_with(|written| written.set(written.get().max(Some(position))));
    }

    /// Read your writes on this replica: waits (at most `POSITION_WAIT_MS`)
    /// until the read models `reads` names have applied everything this
    /// process had appended when the request came in. A session's next request
    /// reaches the replica after its write was answered, so it sees it. Answers
    /// anyway when the time is up, as an answer without a position would.
    pub async fn see_writes_here(&self, reads: Reads) {
        let written = self.ledger.written_here();
        let (position, read_models): (_, &[&str]) = match reads {
            Reads::Everything => (written.all, &[]),
            Reads::Accounts => (written.accounts, &[UserAccounts::NAME]),
        };
        if position == Position::default() || self.progress.has_applied(position, read_models) {
            return;
        }
        let wait = Duration::from_millis(self.settings.config.position_wait_ms);
        if !self.progress.wait_for(position, read_models, wait).await {
            tracing::warn!(%position, "read models did not catch up in time; answering anyway");
        }
    }

    /// For a read that found nothing: waits (at most `POSITION_WAIT_MS`) until
    /// the read models have applied the log's last event, wherever it was
    /// written. Returns whether reading again may find what was missing: the
    /// read models may have moved since that read, even if they stand at the
    /// head now, so only an empty log says no.
    pub async fn see_the_log(&self) -> Result<bool, sqlx::Error> {
        let Some(head) = Position::head(&self.pool).await? else {
            return Ok(false);
        };
        if !self.progress.has_applied(head, &[]) {
            let wait = Duration::from_millis(self.settings.config.position_wait_ms);
            self.progress.wait_for(head, &[], wait).await;
        }
        Ok(true)
    }

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
