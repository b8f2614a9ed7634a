//! The expiry sweeper: appends `Expired` for open invites past their time, so the
//! `invite` view and the audit show expiry without anyone touching the invite.
//!
//! Time comes from the injected clock. One replica sweeps at a time (an advisory
//! lock; the others skip the round), and the aggregate ignores an `Expire` for an
//! invite already expired, closed or used up, so a sweep that races a request or
//! another replica writes nothing twice.

use std::time::Duration;

use crate::context::Context;
use crate::domain::closing;
use crate::domain::invite::InviteCommand;
use crate::ledger::{try_lock, Guard};
use crate::projections::invite::InviteStatus;

const BATCH: i64 = 200;

pub(super) async fn run(app: Context) {
    let every = Duration::from_millis(app.settings.config.expiry_sweep_interval_ms.max(10));
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep_expired(&app).await {
            Ok(0) => {}
            Ok(expired) => tracing::info!(expired, "expiry sweep"),
            Err(error) => tracing::error!(error = format!("{error:#}"), "expiry sweep failed"),
        }
    }
}

/// One sweep: expires every open invite past the clock's time, in batches.
/// Returns how many it expired (0 when another replica is sweeping).
pub async fn sweep_expired(app: &Context) -> anyhow::Result<usize> {
    let now = app.clock.now();
    let mut expired = 0;
    loop {
        // The transaction only holds the lock: the view is read outside it, so a
        // read-model swap never waits for a sweep that is settling its writes.
        let mut tx = app.pool.begin().await?;
        if !try_lock(&mut tx, "sweeper:expiry").await? {
            return Ok(expired);
        }
        let due: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT token_hash FROM invite
              WHERE status = $3 AND {}
              ORDER BY expires_at
              LIMIT $2",
            closing::expired_sql("expires_at", "$1")
        ))
        .bind(now)
        .bind(BATCH)
        .bind(InviteStatus::Pending)
        .fetch_all(&app.pool)
        .await?;
        let mut last = None;
        for hash in &due {
            match app
                .ledger
                .execute(hash, InviteCommand::Expire { at: now }, &Guard::default())
                .await
            {
                Ok(Some(position)) => {
                    expired += 1;
                    last = Some(position);
                }
                Ok(None) => {}
                Err(error) => tracing::warn!(%error, invite = %hash, "could not expire"),
            }
        }
        // The next batch is read from the view: let it show this one first.
        app.settle(last).await;
        tx.commit().await?;
        if (due.len() as i64) < BATCH || last.is_none() {
            return Ok(expired);
        }
    }
}
