//! Creating, versioning and rebuilding read models from the log, without downtime.
//!
//! A rebuild never touches the live tables until the very end:
//! 1. it creates the projections' tables in a scratch schema of its own;
//! 2. reads the whole log in pages (a reader task fetches and a decoder task
//!    decodes the next pages while this one is folded) and runs each read
//!    model's fold in memory, at most `rows_in_memory` rows at a time: rows
//!    past that are COPYed out by a task per read model, the rest at the end;
//!    then builds keys and indexes, and applies the events set aside because
//!    they touched rows already written out;
//! 3. catches the scratch tables up with what was appended meanwhile;
//! 4. in one short transaction under each projection's advisory lock, applies the
//!    last events, drops the live tables, moves the new ones in and writes the
//!    checkpoints and versions.
//!
//! Reads are served from the old tables until that transaction commits, and the
//! runner keeps them current (unless their version is stale: then the runner
//! waits for the swap, since the new code may not fit the old tables).

use std::sync::Arc;

use futures_util::future::try_join_all;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{apply_deferred, Fold, Projection, Spilled, ROWS_IN_MEMORY};
use crate::ledger::{
    count_after, decode_rows, fetch_batch, lock, position_of, read_batch, read_checkpoint,
    save_checkpoint, Position, RecordedEvent,
};

/// Events per page of the bulk read: pages in flight are a good part of a
/// rebuild's memory.
const PAGE: i64 = 2_500;
/// Catch up outside the swap's locks until the tail is this short.
const SHORT_TAIL: u64 = 500;
/// How long the swap waits for a table lock before it lets go and retries.
const SWAP_LOCK_TIMEOUT: &str = "SET LOCAL lock_timeout = '1s'";
const SWAP_RETRY: std::time::Duration = std::time::Duration::from_millis(200);
const SWAP_ATTEMPTS: u32 = 100;

/// Creates the tables of projections that have none yet, and returns those whose
/// tables were built by another version of their SQL (to rebuild).
pub async fn create_missing(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
) -> anyhow::Result<Vec<Arc<dyn Projection>>> {
    let mut stale = Vec::new();
    for projection in projections {
        let stored = stored_version(&mut *pool.acquire().await?, projection.name()).await?;
        match stored {
            Some(version) if version == projection.version() => {}
            Some(version) => {
                tracing::warn!(
                    projection = projection.name(),
                    from = %version,
                    to = %projection.version(),
                    "projection schema changed; it will be rebuilt from the log"
                );
                stale.push(projection.clone());
            }
            None => create(pool, &**projection).await?,
        }
    }
    Ok(stale)
}

/// Creates missing tables and rebuilds stale ones before returning.
pub async fn ensure_schema(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
) -> anyhow::Result<()> {
    let stale = create_missing(pool, projections).await?;
    if !stale.is_empty() {
        rebuild(pool, &stale, ROWS_IN_MEMORY, |_, _| {}).await?;
    }
    Ok(())
}

/// Rebuilds stale projections in the background while the server answers from
/// the old tables.
pub fn rebuild_in_background(pool: PgPool, stale: Vec<Arc<dyn Projection>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        if stale.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        match rebuild(&pool, &stale, ROWS_IN_MEMORY, |_, _| {}).await {
            Ok(events) => tracing::info!(
                events,
                elapsed = ?started.elapsed(),
                "stale projections rebuilt and swapped in"
            ),
            Err(error) => tracing::error!(%error, "rebuilding stale projections failed"),
        }
    })
}

async fn create(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, projection.name()).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projection_checkpoint WHERE name = $1)")
            .bind(projection.name())
            .fetch_one(&mut *tx)
            .await?;
    if !exists {
        run(&mut *tx, projection.schema()).await?;
        save_checkpoint(
            &mut tx,
            projection.name(),
            &projection.version(),
            Position::default(),
        )
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Replays the whole log into new tables for `projections` beside the live ones,
/// keeping at most `rows_in_memory` rows of each in memory, then swaps them in. `progress(done, total)` is told the events read so far
/// and the size of the log. Returns the number of events replayed.
pub async fn rebuild(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
    rows_in_memory: usize,
    progress: impl FnMut(u64, u64),
) -> anyhow::Result<u64> {
    let scratch = Scratch::create(pool, projections).await?;
    let result = build_and_swap(pool, &scratch, projections, rows_in_memory, progress).await;
    if result.is_err() {
        if let Err(error) = scratch.drop(pool).await {
            tracing::warn!(%error, schema = %scratch.schema, "could not drop the scratch schema");
        }
    }
    result
}

async fn build_and_swap(
    pool: &PgPool,
    scratch: &Scratch,
    projections: &[Arc<dyn Projection>],
    rows_in_memory: usize,
    progress: impl FnMut(u64, u64),
) -> anyhow::Result<u64> {
    let (mut at, mut replayed) =
        bulk_load(pool, scratch, projections, rows_in_memory, progress).await?;
    loop {
        let mut conn = pool.acquire().await?;
        let applied = scratch.catch_up(&mut conn, projections, &mut at).await?;
        replayed += applied;
        if applied < SHORT_TAIL {
            break;
        }
    }
    // The swap needs the live tables to itself for a moment. A reader that holds
    // one (in a transaction waiting on this very projection, say) must not stall
    // it, nor everyone queued behind it: give up quickly, catch up, try again.
    for attempt in 1.. {
        match scratch.swap_in(pool, projections, &mut at).await {
            Ok(applied) => return Ok(replayed + applied),
            Err(error) if attempt < SWAP_ATTEMPTS && is_lock_timeout(&error) => {
                tracing::info!(attempt, "live tables busy; retrying the swap");
                tokio::time::sleep(SWAP_RETRY).await;
                let mut conn = pool.acquire().await?;
                replayed += scratch.catch_up(&mut conn, projections, &mut at).await?;
            }
            Err(error) => return Err(error),
        }
    }
    unreachable!("the loop returns")
}

fn is_lock_timeout(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<sqlx::Error>()
        .and_then(|e| e.as_database_error())
        .and_then(|e| e.code())
        .is_some_and(|code| code == "55P03")
}

/// Reads the log in pages (fetched and decoded by a task of its own, one page
/// ahead) and folds every event; writes the rows into the scratch tables.
async fn bulk_load(
    pool: &PgPool,
    scratch: &Scratch,
    projections: &[Arc<dyn Projection>],
    rows_in_memory: usize,
    mut progress: impl FnMut(u64, u64),
) -> anyhow::Result<(Position, u64)> {
    let started = std::time::Instant::now();
    let keys = scratch.drop_keys(pool).await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    // Stages at once: the database sends a page, tasks decode the pages
    // before it (decoding is the costliest stage: up to three pages at a time,
    // each on a connection of its own for its persons' keys), and this task
    // folds them in log order.
    let (rows_tx, mut rows) = mpsc::channel::<Vec<PgRow>>(1);
    let (pages_tx, mut pages) = mpsc::channel::<JoinHandle<anyhow::Result<Vec<RecordedEvent>>>>(1);
    let reader_pool = pool.clone();
    let reader = tokio::spawn(async move {
        let mut conn = reader_pool.acquire().await?;
        let mut at = Position::default();
        loop {
            let page = fetch_batch(&mut conn, at, PAGE).await?;
            let Some(last) = page.last().map(position_of) else {
                return anyhow::Ok(());
            };
            at = last;
            if rows_tx.send(page).await.is_err() {
                return Ok(());
            }
        }
    });
    let decoder_pool = pool.clone();
    let decoders = tokio::spawn(async move {
        while let Some(page) = rows.recv().await {
            let pool = decoder_pool.clone();
            let decoding = tokio::spawn(async move {
                let mut conn = pool.acquire().await?;
                decode_rows(&mut conn, &page).await
            });
            if pages_tx.send(decoding).await.is_err() {
                break;
            }
        }
    });

    // Each read model's rows on a connection of its own, out of the pool: it
    // leaves with the scratch tables first in its search path.
    let mut folds: Vec<Box<dyn Fold>> =
        projections.iter().map(|p| p.fold(rows_in_memory)).collect();
    // Rows written out early go to a task per read model, so COPY runs while
    // the next pages fold (one batch queued at most: memory stays bounded).
    let mut spillers = Vec::new();
    for _ in projections {
        let mut conn = pool.acquire().await?.detach();
        run(&mut conn, scratch.search_path("SET")).await?;
        let (tx, mut rx) = mpsc::channel::<Spilled>(1);
        let task = tokio::spawn(async move {
            while let Some(spilled) = rx.recv().await {
                spilled.send(&mut conn).await?;
            }
            anyhow::Ok(conn)
        });
        spillers.push((tx, task));
    }
    let mut at = Position::default();
    let mut replayed = 0u64;
    while let Some(decoding) = pages.recv().await {
        let page = decoding.await??;
        for (fold, (spiller, _)) in folds.iter_mut().zip(&spillers) {
            page.iter().for_each(|event| fold.fold(event));
            let spilled = fold.take_spilled();
            if !spilled.is_empty() && spiller.send(spilled).await.is_err() {
                break; // the task failed: its error is reported below
            }
        }
        at = page.last().map(|e| e.position).unwrap_or(at);
        replayed += page.len() as u64;
        progress(replayed, (total as u64).max(replayed));
    }
    reader.await??;
    decoders.await?;
    let mut conns = Vec::new();
    for (spiller, task) in spillers {
        drop(spiller);
        conns.push(task.await??);
    }

    tracing::debug!(replayed, elapsed = ?started.elapsed(), "log read and folded");
    try_join_all(
        folds
            .iter_mut()
            .zip(conns.iter_mut())
            .map(|(fold, conn)| async {
                fold.write(conn).await?;
                anyhow::Ok(())
            }),
    )
    .await?;
    tracing::debug!(elapsed = ?started.elapsed(), "rows written");
    try_join_all(keys.iter().map(|sql| run(pool, sql))).await?;
    tracing::debug!(elapsed = ?started.elapsed(), "keys and indexes built");
    // Fresh tables have no statistics: the planner would guess, and the
    // history's indexes go unused until autovacuum gets round to them.
    let tables: Vec<String> = projections
        .iter()
        .flat_map(|p| p.tables())
        .map(|table| format!("{}.{table}", scratch.schema))
        .collect();
    run(pool, format!("ANALYZE {}", tables.join(", "))).await?;
    // Events that touched rows written out early, now that the keys are there.
    for ((fold, conn), projection) in folds.iter_mut().zip(conns.iter_mut()).zip(projections) {
        let deferred = fold.take_deferred();
        if !deferred.is_empty() {
            tracing::debug!(
                projection = projection.name(),
                events = deferred.len(),
                "applying deferred events"
            );
            apply_deferred(conn, &**projection, &deferred).await?;
        }
    }
    for conn in conns {
        sqlx::Connection::close(conn).await?;
    }
    Ok((at, replayed))
}

async fn apply_all(
    conn: &mut PgConnection,
    projections: &[Arc<dyn Projection>],
    events: &[RecordedEvent],
) -> anyhow::Result<()> {
    for projection in projections {
        projection
            .apply(conn, events)
            .await
            .map_err(|e| anyhow::anyhow!("{} failed to apply a batch: {e}", projection.name()))?;
    }
    Ok(())
}

/// A schema of its own where a rebuild builds the new tables.
struct Scratch {
    schema: String,
    live: String,
}

impl Scratch {
    async fn create(pool: &PgPool, projections: &[Arc<dyn Projection>]) -> anyhow::Result<Self> {
        let live: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(pool)
            .await?;
        let scratch = Scratch {
            schema: format!("projection_rebuild_{}", uuid::Uuid::new_v4().simple()),
            live,
        };
        run(pool, &format!("CREATE SCHEMA {}", scratch.schema)).await?;
        let mut tx = scratch.begin(pool).await?;
        for projection in projections {
            run(&mut *tx, projection.schema()).await?;
        }
        tx.commit().await?;
        Ok(scratch)
    }

    /// Drops the scratch tables' keys and indexes and returns the statements
    /// that build them again: building an index once, after a bulk load, is
    /// several times faster than keeping it current row by row.
    async fn drop_keys(&self, pool: &PgPool) -> anyhow::Result<Vec<String>> {
        let constraints: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
               FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
              WHERE n.nspname = $1 AND c.contype IN ('p', 'u')",
        )
        .bind(&self.schema)
        .fetch_all(pool)
        .await?;
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT indexname, indexdef FROM pg_indexes i
              WHERE schemaname = $1
                AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                 WHERE c.conname = i.indexname
                                   AND c.connamespace = $1::regnamespace)",
        )
        .bind(&self.schema)
        .fetch_all(pool)
        .await?;
        let mut drop = String::new();
        let mut restore = Vec::new();
        for (name, definition) in indexes {
            drop += &format!("DROP INDEX {}.{name};", self.schema);
            restore.push(definition);
        }
        for (table, name, definition) in constraints {
            drop += &format!("ALTER TABLE {table} DROP CONSTRAINT {name};");
            restore.push(format!(
                "ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
            ));
        }
        run(pool, &drop).await?;
        Ok(restore)
    }

    /// A transaction whose unqualified table names are the scratch tables.
    async fn begin(
        &self,
        pool: &PgPool,
    ) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = pool.begin().await?;
        self.enter(&mut tx).await?;
        Ok(tx)
    }

    async fn enter(&self, conn: &mut PgConnection) -> anyhow::Result<()> {
        run(conn, self.search_path("SET LOCAL")).await?;
        Ok(())
    }

    /// `set` (`SET` or `SET LOCAL`) the search path to the scratch tables first.
    fn search_path(&self, set: &str) -> String {
        format!("{set} search_path TO {}, {}", self.schema, self.live)
    }

    /// Applies the events appended after `at` to the scratch tables, in pages.
    async fn catch_up(
        &self,
        conn: &mut PgConnection,
        projections: &[Arc<dyn Projection>],
        at: &mut Position,
    ) -> anyhow::Result<u64> {
        let mut applied = 0;
        loop {
            let events = read_batch(conn, *at, PAGE).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                return Ok(applied);
            };
            let mut tx = sqlx::Connection::begin(&mut *conn).await?;
            self.enter(&mut tx).await?;
            apply_all(&mut tx, projections, &events).await?;
            tx.commit().await?;
            applied += events.len() as u64;
            *at = last;
        }
    }

    /// The swap: under every projection's lock, the last events, then the new
    /// tables replace the live ones, with their checkpoints, in one transaction.
    async fn swap_in(
        &self,
        pool: &PgPool,
        projections: &[Arc<dyn Projection>],
        at: &mut Position,
    ) -> anyhow::Result<u64> {
        let mut tx = pool.begin().await?;
        run(&mut *tx, SWAP_LOCK_TIMEOUT).await?;
        // One order for every locker of several projections: no deadlock.
        let mut locked: Vec<_> = projections.iter().collect();
        locked.sort_by_key(|p| p.name());
        for projection in locked {
            lock(&mut tx, projection.name()).await?;
        }
        self.enter(&mut tx).await?;
        let mut applied = 0;
        loop {
            let events = read_batch(&mut tx, *at, PAGE).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                break;
            };
            apply_all(&mut tx, projections, &events).await?;
            applied += events.len() as u64;
            *at = last;
        }
        run(&mut *tx, "SET LOCAL search_path TO DEFAULT").await?;
        for projection in projections {
            for table in projection.tables() {
                run(
                    &mut *tx,
                    &format!(
                        "DROP TABLE IF EXISTS {live}.{table} CASCADE;
                         ALTER TABLE {scratch}.{table} SET SCHEMA {live};",
                        live = self.live,
                        scratch = self.schema,
                    ),
                )
                .await?;
            }
            save_checkpoint(&mut tx, projection.name(), &projection.version(), *at).await?;
        }
        run(&mut *tx, &format!("DROP SCHEMA {} CASCADE", self.schema)).await?;
        tx.commit().await?;
        Ok(applied)
    }

    async fn drop(&self, pool: &PgPool) -> anyhow::Result<()> {
        run(
            pool,
            &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema),
        )
        .await?;
        Ok(())
    }
}

/// The version of the SQL that built the read model's tables, if they exist.
async fn stored_version(conn: &mut PgConnection, name: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT version FROM projection_checkpoint WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionStatus {
    pub name: &'static str,
    pub version: String,
    pub stored_version: Option<String>,
    pub checkpoint: Option<String>,
    /// Events in the log that the projection has not applied yet.
    pub lag: i64,
}

pub async fn status(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
) -> anyhow::Result<Vec<ProjectionStatus>> {
    let mut conn = pool.acquire().await?;
    let mut out = Vec::new();
    for projection in projections {
        let stored = stored_version(&mut conn, projection.name()).await?;
        let checkpoint = match stored {
            Some(_) => Some(read_checkpoint(&mut conn, projection.name()).await?),
            None => None,
        };
        let at = checkpoint.unwrap_or_default();
        let lag = count_after(&mut conn, at).await?;
        out.push(ProjectionStatus {
            name: projection.name(),
            version: projection.version(),
            stored_version: stored,
            checkpoint: checkpoint.map(|p| p.to_string()),
            lag,
        });
    }
    Ok(out)
}

/// Runs statements without parameters (DDL, several at once).
async fn run(executor: impl sqlx::PgExecutor<'_>, sql: impl AsRef<str>) -> sqlx::Result<()> {
    sqlx::Executor::execute(executor, sql.as_ref())
        .await
        .map(drop)
}
