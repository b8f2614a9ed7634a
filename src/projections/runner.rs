//! Keeps every projection caught up with the log, one batch per transaction.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{PgConnection, PgPool};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;

use super::{lock_key, Projection};
use crate::ledger::{read_batch, Position};

const BATCH: i64 = 500;
const IDLE_POLL: Duration = Duration::from_millis(100);
/// A request waits for an event not yet visible (an older transaction, maybe in
/// another database or process, is still running): look again this soon.
const BLOCKED_RETRY: Duration = Duration::from_millis(1);
const ERROR_BACKOFF: Duration = Duration::from_secs(1);

pub struct ProjectionRunner;

/// What each projection has applied so far, for read-your-writes and `/readyz`.
#[derive(Clone)]
pub struct Progress {
    checkpoints: Vec<(&'static str, watch::Receiver<Position>)>,
    /// The furthest position a request waits for: while a runner is behind it,
    /// the runner retries at once instead of idling.
    wanted: Arc<watch::Sender<Position>>,
}

impl Progress {
    pub fn checkpoints(&self) -> Vec<(&'static str, Position)> {
        self.checkpoints
            .iter()
            .map(|(name, rx)| (*name, *rx.borrow()))
            .collect()
    }

    /// Waits until every projection has applied the event at `position`, or the
    /// timeout passes. Returns whether they got there.
    pub async fn wait_for(&self, position: Position, timeout: Duration) -> bool {
        self.wanted.send_if_modified(|wanted| {
            let further = position > *wanted;
            if further {
                *wanted = position;
            }
            further
        });
        let all_applied = async {
            for (_, checkpoint) in &self.checkpoints {
                let mut checkpoint = checkpoint.clone();
                if checkpoint.wait_for(|at| *at >= position).await.is_err() {
                    return false; // the runner is gone
                }
            }
            true
        };
        tokio::time::timeout(timeout, all_applied)
            .await
            .unwrap_or(false)
    }
}

enum Step {
    Applied(usize, Position),
    Idle(Position),
    /// Another runner (another replica, or a rebuild) holds this projection.
    Busy(Position),
}

impl ProjectionRunner {
    /// Starts one task per projection. `wake` is notified after local appends.
    pub fn spawn(
        pool: PgPool,
        projections: Vec<Arc<dyn Projection>>,
        wake: Arc<Notify>,
    ) -> (Progress, Vec<JoinHandle<()>>) {
        let mut checkpoints = Vec::new();
        let mut handles = Vec::new();
        let wanted = Arc::new(watch::Sender::new(Position::default()));
        for projection in projections {
            let (tx, rx) = watch::channel(Position::default());
            checkpoints.push((projection.name(), rx));
            handles.push(tokio::spawn(run(
                pool.clone(),
                projection,
                tx,
                wake.clone(),
                wanted.subscribe(),
            )));
        }
        (
            Progress {
                checkpoints,
                wanted,
            },
            handles,
        )
    }

    /// Applies everything currently visible, then returns the number applied.
    pub async fn catch_up(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            match step(pool, projection).await? {
                Step::Applied(n, _) => total += n,
                Step::Idle(_) | Step::Busy(_) => return Ok(total),
            }
        }
    }
}

async fn run(
    pool: PgPool,
    projection: Arc<dyn Projection>,
    progress: watch::Sender<Position>,
    wake: Arc<Notify>,
    mut wanted: watch::Receiver<Position>,
) {
    loop {
        let woken = wake.notified();
        wanted.mark_unchanged();
        match step(&pool, &*projection).await {
            Ok(Step::Applied(n, at)) => {
                progress.send_replace(at);
                if n as i64 == BATCH {
                    continue;
                }
            }
            Ok(Step::Idle(at)) => {
                progress.send_if_modified(|p| std::mem::replace(p, at) != at);
                if *wanted.borrow() > at {
                    tokio::time::sleep(BLOCKED_RETRY).await;
                    continue;
                }
            }
            Ok(Step::Busy(at)) => {
                progress.send_if_modified(|p| std::mem::replace(p, at) != at);
            }
            Err(error) => {
                tracing::error!(projection = projection.name(), %error, "projection failed; retrying");
                tokio::time::sleep(ERROR_BACKOFF).await;
                continue;
            }
        }
        tokio::select! {
            _ = woken => {}
            Ok(()) = wanted.changed() => {}
            _ = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

async fn step(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<Step> {
    let mut tx = pool.begin().await?;
    // Read models are disposable and their checkpoint commits with them: a commit
    // lost in a crash is lost whole and replayed from the durable log. So they
    // need not wait for the disk, and requests waiting on them get answered sooner.
    let locked: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_xact_lock($1), set_config('synchronous_commit', 'off', true)",
    )
    .bind(lock_key(projection.name()))
    .fetch_one(&mut *tx)
    .await?;
    let checkpoint = read_checkpoint(&mut tx, projection.name()).await?;
    if !locked || is_stale(&mut tx, projection).await? {
        return Ok(Step::Busy(checkpoint));
    }
    let events = read_batch(&mut tx, checkpoint, BATCH).await?;
    let Some(last) = events.last().map(|e| e.position) else {
        return Ok(Step::Idle(checkpoint));
    };
    for event in &events {
        projection.apply(&mut tx, event).await.map_err(|e| {
            anyhow::anyhow!(
                "{} failed to apply the event at {}: {e}",
                projection.name(),
                event.position
            )
        })?;
    }
    write_checkpoint(&mut tx, projection.name(), last).await?;
    tx.commit().await?;
    Ok(Step::Applied(events.len(), last))
}

/// Tables built by another version of the projection's SQL may not fit this
/// code: leave them as they are until a rebuild swaps new ones in.
async fn is_stale(conn: &mut PgConnection, projection: &dyn Projection) -> anyhow::Result<bool> {
    let stored = stored_version(conn, projection.name()).await?;
    Ok(stored.is_some_and(|v| v != projection.version()))
}

/// The version of the SQL that built the projection's tables, if they exist.
pub(super) async fn stored_version(
    conn: &mut PgConnection,
    name: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT version FROM projection_checkpoint WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

pub(crate) async fn read_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> anyhow::Result<Position> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT last_xid::text::bigint, last_position FROM projection_checkpoint WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    let (xid, global) =
        row.ok_or_else(|| anyhow::anyhow!("projection {name} has no checkpoint; run migrate"))?;
    Ok(Position { xid, global })
}

pub(crate) async fn write_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    at: Position,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE projection_checkpoint
            SET last_xid = $2::text::xid8, last_position = $3, updated_at = now()
          WHERE name = $1",
    )
    .bind(name)
    .bind(at.xid.to_string())
    .bind(at.global)
    .execute(conn)
    .await?;
    Ok(())
}
