//! Keeps every read model caught up with the log: one follower, one transaction
//! per batch for all of them (one lock statement, one checkpoint write, one
//! commit), each read model written with one statement per batch.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Projection;
use crate::ledger::{Consumer, Cursor, Follower, Position, RecordedEvent};

/// Applies batches of the log to the read models.
struct ReadModels {
    projections: Vec<Arc<dyn Projection>>,
}

impl ReadModels {
    fn new(projections: Vec<Arc<dyn Projection>>) -> Self {
        ReadModels { projections }
    }
}

#[async_trait]
impl Consumer for ReadModels {
    fn checkpoints(&self) -> Vec<String> {
        self.projections
            .iter()
            .map(|p| p.name().to_string())
            .collect()
    }

    /// Tables built by another version of a read model's SQL may not fit this
    /// code: leave them as they are until a rebuild swaps new ones in.
    fn accepts(&self, checkpoint: &str, stored_version: &str) -> bool {
        self.projections
            .iter()
            .any(|p| p.name() == checkpoint && p.version() == stored_version)
    }

    async fn consume(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
        cursors: &[Cursor],
    ) -> anyhow::Result<()> {
        for (projection, cursor) in self.projections.iter().zip(cursors) {
            if !cursor.active {
                continue;
            }
            let start = events.partition_point(|e| e.position <= cursor.at);
            projection
                .apply(conn, &events[start..])
                .await
                .map_err(|e| {
                    anyhow::anyhow!("{} failed to apply a batch: {e}", projection.name())
                })?;
        }
        Ok(())
    }
}

/// What each read model has applied so far, for read-your-writes and `/readyz`.
#[derive(Clone)]
pub struct Progress {
    /// Shared: every request clones the context, and so this.
    checkpoints: Arc<[(String, watch::Receiver<Position>)]>,
    /// The furthest position a request waits for: while the runner is behind
    /// it, the runner looks again at once instead of idling.
    wanted: Arc<watch::Sender<Position>>,
}

impl Progress {
    pub fn checkpoints(&self) -> Vec<(String, Position)> {
        self.checkpoints
            .iter()
            .map(|(name, rx)| (name.clone(), *rx.borrow()))
            .collect()
    }

    /// Whether the read models named in `read_models` (every one when empty)
    /// have applied the event at `position`.
    pub fn has_applied(&self, position: Position, read_models: &[&str]) -> bool {
        self.checkpoints
            .iter()
            .filter(|(name, _)| read_models.is_empty() || read_models.contains(&name.as_str()))
            .all(|(_, at)| *at.borrow() >= position)
    }

    /// Waits until the read models named in `read_models` (every one when empty)
    /// have applied the event at `position`, or the timeout passes. Returns
    /// whether they got there.
    pub async fn wait_for(
        &self,
        position: Position,
        read_models: &[&str],
        timeout: Duration,
    ) -> bool {
        self.wanted.send_if_modified(|wanted| {
            let further = position > *wanted;
            if further {
                *wanted = position;
            }
            further
        });
        let applied = async {
            for (name, checkpoint) in self.checkpoints.iter() {
                if !read_models.is_empty() && !read_models.contains(&name.as_str()) {
                    continue;
                }
                let mut checkpoint = checkpoint.clone();
                if checkpoint.wait_for(|at| *at >= position).await.is_err() {
                    return false; // the runner is gone
                }
            }
            true
        };
        tokio::time::timeout(timeout, applied)
            .await
            .unwrap_or(false)
    }
}

/// Starts the runner of `projections`, woken by `appended` (this process's
/// appends).
pub fn spawn(
    pool: PgPool,
    projections: Vec<Arc<dyn Projection>>,
    appended: watch::Receiver<Position>,
) -> (Progress, JoinHandle<()>) {
    let follower = Follower::new(pool, Arc::new(ReadModels::new(projections)));
    let wanted = Arc::new(watch::Sender::new(Position::default()));
    let progress = Progress {
        checkpoints: follower.progress().into(),
        wanted: wanted.clone(),
    };
    let handle = tokio::spawn(follower.run(appended, wanted.subscribe()));
    (progress, handle)
}
