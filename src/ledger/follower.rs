//! The one follower of the log: checkpoints, advisory locks, the read horizon and
//! the batch loop, for read models and reactors alike.
//!
//! A follower keeps one or more named checkpoints (rows of
//! `projection_checkpoint`). Each batch is one transaction: it takes each
//! checkpoint's advisory lock (one holder across replicas), reads the
//! checkpoints, reads the next events in global order below the read horizon,
//! hands them to its consumer and moves the checkpoints, then commits. What the
//! consumer writes and the checkpoints commit together: each event is consumed
//! exactly once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tokio::sync::watch;

use super::{read_batch, Position, RecordedEvent};

const BATCH: i64 = 500;
/// Appends from other processes are noticed this soon (this process's own wake
/// the follower at once).
const IDLE_POLL: Duration = Duration::from_millis(100);
/// An event appended here is not visible yet (an older transaction of this
/// database still runs): look again this soon.
const BLOCKED_RETRY: Duration = Duration::from_millis(1);
const ERROR_BACKOFF: Duration = Duration::from_secs(1);
/// Another replica holds the checkpoints and a request here waits for a
/// position they have not reached: read them again this soon.
const WATCH_RETRY: Duration = Duration::from_millis(5);

/// One checkpoint as a batch found it.
#[derive(Debug, Clone)]
pub struct Cursor {
    pub name: String,
    pub at: Position,
    /// This batch holds its lock and the consumer accepts its version.
    pub active: bool,
}

#[async_trait]
pub trait Consumer: Send + Sync {
    /// The checkpoints it keeps.
    fn checkpoints(&self) -> Vec<String>;
    /// Whether it may go on from a checkpoint written by `stored_version` (a
    /// read model's tables built by other code wait for their rebuild).
    fn accepts(&self, _checkpoint: &str, _stored_version: &str) -> bool {
        true
    }
    /// Consumes `events` inside the batch's transaction; each active cursor
    /// takes only the events after its own position.
    async fn consume(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
        cursors: &[Cursor],
    ) -> anyhow::Result<()>;
    /// Work to do between batches, outside their transaction (a reactor's
    /// deliveries). Returns whether there is more right away.
    async fn between_batches(&self) -> anyhow::Result<bool> {
        Ok(false)
    }
}

/// What one batch did.
enum Step {
    /// Consumed this many events.
    Consumed(usize),
    /// Nothing new is visible.
    Idle,
    /// Another holder (another replica, or a rebuild) has every checkpoint;
    /// the step also returns the lowest of them.
    Busy,
}

/// Follows the log for one consumer and publishes each checkpoint's position.
pub struct Follower {
    pool: PgPool,
    consumer: Arc<dyn Consumer>,
    names: Vec<String>,
    positions: Vec<watch::Sender<Position>>,
}

impl Follower {
    pub fn new(pool: PgPool, consumer: Arc<dyn Consumer>) -> Follower {
        let names = consumer.checkpoints();
        let positions = names
            .iter()
            .map(|_| watch::Sender::new(Position::default()))
            .collect();
        Follower {
            pool,
            consumer,
            names,
            positions,
        }
    }

    /// Each checkpoint's name and a receiver of its position.
    pub fn progress(&self) -> Vec<(String, watch::Receiver<Position>)> {
        self.names
            .iter()
            .cloned()
            .zip(self.positions.iter().map(watch::Sender::subscribe))
            .collect()
    }

    /// Follows until the task is dropped. `appended` tells of this process's
    /// appends and `wanted` of positions a request waits for: while an active
    /// checkpoint is behind either, the follower looks again at once.
    pub async fn run(
        self,
        mut appended: watch::Receiver<Position>,
        mut wanted: watch::Receiver<Position>,
    ) {
        loop {
            appended.mark_unchanged();
            wanted.mark_unchanged();
            let behind = match self.step().await {
                Ok((Step::Consumed(n), _)) if n as i64 == BATCH => continue,
                Ok((Step::Consumed(_) | Step::Idle, lowest)) => {
                    let target = (*appended.borrow()).max(*wanted.borrow());
                    lowest.is_some_and(|at| at < target)
                }
                Ok((Step::Busy, lowest)) => {
                    if lowest.is_some_and(|at| at < *wanted.borrow()) {
                        tokio::time::sleep(WATCH_RETRY).await;
                        continue;
                    }
                    false
                }
                Err(error) => {
                    tracing::error!(
                        follower = %self.names.join(","),
                        error = format!("{error:#}"),
                        "following the log failed; retrying"
                    );
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    continue;
                }
            };
            let more = match self.consumer.between_batches().await {
                Ok(more) => more,
                Err(error) => {
                    tracing::error!(
                        follower = %self.names.join(","),
                        error = format!("{error:#}"),
                        "work between batches failed; retrying"
                    );
                    tokio::time::sleep(ERROR_BACKOFF).await;
                    continue;
                }
            };
            if more {
                continue;
            }
            if behind {
                tokio::time::sleep(BLOCKED_RETRY).await;
                continue;
            }
            tokio::select! {
                _ = appended.changed() => {}
                _ = wanted.changed() => {}
                _ = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    /// One batch in one transaction. Also returns the lowest active position
    /// (when busy: the lowest of all).
    async fn step(&self) -> anyhow::Result<(Step, Option<Position>)> {
        let mut tx = self.pool.begin().await?;
        let cursors = self.lock_and_read(&mut tx).await?;
        for (cursor, position) in cursors.iter().zip(&self.positions) {
            position.send_if_modified(|p| std::mem::replace(p, cursor.at) != cursor.at);
        }
        let Some(lowest) = cursors.iter().filter(|c| c.active).map(|c| c.at).min() else {
            return Ok((Step::Busy, cursors.iter().map(|c| c.at).min()));
        };
        let events = read_batch(&mut tx, lowest, BATCH).await?;
        let Some(last) = events.last().map(|e| e.position) else {
            return Ok((Step::Idle, Some(lowest)));
        };
        self.consumer.consume(&mut tx, &events, &cursors).await?;
        let moved: Vec<&Cursor> = cursors.iter().filter(|c| c.active && c.at < last).collect();
        write_checkpoints(&mut tx, &moved, last).await?;
        tx.commit().await?;
        for (cursor, position) in cursors.iter().zip(&self.positions) {
            if cursor.active {
                position.send_if_modified(|p| std::mem::replace(p, last) != last);
            }
        }
        Ok((Step::Consumed(events.len()), Some(last)))
    }

    /// Takes each checkpoint's lock (without waiting) and reads it, and sets
    /// the transaction's durability, in one statement.
    async fn lock_and_read(&self, conn: &mut PgConnection) -> anyhow::Result<Vec<Cursor>> {
        let keys: Vec<i64> = self.names.iter().map(|name| lock_key(name)).collect();
        // A batch's commit need not wait for the disk: lost in a crash, it is
        // lost whole, checkpoint included, and the batch is consumed again from
        // the durable log (a reactor may then deliver twice, never lose one).
        let rows: Vec<(String, String, i64, i64, bool, String)> = sqlx::query_as(
            "SELECT c.name, c.version, c.last_xid::text::bigint, c.last_position,
                    pg_try_advisory_xact_lock(k.key),
                    set_config('synchronous_commit', 'off', true)
               FROM unnest($1::text[], $2::bigint[]) AS k(name, key)
               JOIN projection_checkpoint c ON c.name = k.name
              ORDER BY c.name",
        )
        .bind(&self.names)
        .bind(&keys)
        .fetch_all(&mut *conn)
        .await?;
        self.names
            .iter()
            .map(|name| {
                let (_, version, xid, global, locked, _) =
                    rows.iter()
                        .find(|row| &row.0 == name)
                        .ok_or_else(|| anyhow::anyhow!("{name} has no checkpoint; run migrate"))?;
                Ok(Cursor {
                    name: name.clone(),
                    at: Position {
                        xid: *xid,
                        global: *global,
                    },
                    active: *locked && self.consumer.accepts(name, version),
                })
            })
            .collect()
    }
}

async fn write_checkpoints(
    conn: &mut PgConnection,
    cursors: &[&Cursor],
    at: Position,
) -> sqlx::Result<()> {
    if cursors.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = cursors.iter().map(|c| c.name.as_str()).collect();
    sqlx::query(
        "UPDATE projection_checkpoint
            SET last_xid = $2::text::xid8, last_position = $3, updated_at = now()
          WHERE name = ANY($1)",
    )
    .bind(names)
    .bind(at.xid.to_string())
    .bind(at.global)
    .execute(conn)
    .await?;
    Ok(())
}

/// The position of checkpoint `name`.
pub async fn read_checkpoint(conn: &mut PgConnection, name: &str) -> anyhow::Result<Position> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT last_xid::text::bigint, last_position FROM projection_checkpoint WHERE name = $1",
    )
    .bind(name)
    .fetch_optional(conn)
    .await?;
    let (xid, global) =
        row.ok_or_else(|| anyhow::anyhow!("{name} has no checkpoint; run migrate"))?;
    Ok(Position { xid, global })
}

/// Sets checkpoint `name` to `at`, writing `version` as the code it belongs to.
pub async fn save_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    version: &str,
    at: Position,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO projection_checkpoint (name, version, last_xid, last_position)
         VALUES ($1, $2, $3::text::xid8, $4)
         ON CONFLICT (name) DO UPDATE
            SET version = EXCLUDED.version, last_xid = EXCLUDED.last_xid,
                last_position = EXCLUDED.last_position, updated_at = now()",
    )
    .bind(name)
    .bind(version)
    .bind(at.xid.to_string())
    .bind(at.global)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the advisory lock named `name` for the rest of the transaction, unless
/// another holds it: one holder of a checkpoint (or the sweeper) at a time.
pub async fn try_lock(conn: &mut PgConnection, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
        .bind(lock_key(name))
        .fetch_one(conn)
        .await
}

/// Waits for the advisory lock named `name`, for the rest of the transaction.
pub async fn lock(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_key(name))
        .execute(conn)
        .await
        .map(drop)
}

/// One advisory-lock key per name.
fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(format!("invite-ledger projection {name}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}
