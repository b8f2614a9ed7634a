//! Creating, versioning and rebuilding read models from the log.

use std::sync::Arc;

use sqlx::{PgConnection, PgPool};

use super::runner::{read_checkpoint, write_checkpoint};
use super::{lock_key, Projection};
use crate::ledger::{count_after, read_batch, Position};

const REBUILD_BATCH: i64 = 5_000;

/// Creates each projection's tables on first start; rebuilds those whose SQL
/// changed since their tables were built (reads wait for the rebuild to commit).
pub async fn ensure_schema(
    pool: &PgPool,
    projections: &[Arc<dyn Projection>],
) -> anyhow::Result<()> {
    for projection in projections {
        let mut conn = pool.acquire().await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT version FROM projection_checkpoint WHERE name = $1")
                .bind(projection.name())
                .fetch_optional(&mut *conn)
                .await?;
        match stored {
            Some(version) if version == projection.version() => {}
            Some(version) => {
                tracing::warn!(
                    projection = projection.name(),
                    from = %version,
                    to = %projection.version(),
                    "projection schema changed; rebuilding from the log"
                );
                rebuild(pool, &**projection, |_| {}).await?;
            }
            None => create(pool, &**projection).await?,
        }
    }
    Ok(())
}

async fn create(pool: &PgPool, projection: &dyn Projection) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, projection).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM projection_checkpoint WHERE name = $1)")
            .bind(projection.name())
            .fetch_one(&mut *tx)
            .await?;
    if !exists {
        recreate_tables(&mut tx, projection).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Drops the projection's tables and replays the whole log into new ones, in one
/// transaction: readers see the old rows until the new ones commit.
/// `progress` is told the number of events applied after each batch.
pub async fn rebuild(
    pool: &PgPool,
    projection: &dyn Projection,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let mut tx = pool.begin().await?;
    lock(&mut tx, projection).await?;
    recreate_tables(&mut tx, projection).await?;
    let mut at = Position::default();
    let mut applied = 0u64;
    loop {
        let events = read_batch(&mut tx, at, REBUILD_BATCH).await?;
        let Some(last) = events.last().map(|e| e.position) else {
            break;
        };
        for event in &events {
            projection.apply(&mut tx, event).await?;
        }
        applied += events.len() as u64;
        at = last;
        progress(applied);
    }
    write_checkpoint(&mut tx, projection.name(), at).await?;
    tx.commit().await?;
    Ok(applied)
}

async fn lock(conn: &mut PgConnection, projection: &dyn Projection) -> anyhow::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock_key(projection.name()))
        .execute(conn)
        .await?;
    Ok(())
}

async fn recreate_tables(
    conn: &mut PgConnection,
    projection: &dyn Projection,
) -> anyhow::Result<()> {
    for table in projection.tables() {
        sqlx::raw_sql(&format!("DROP TABLE IF EXISTS {table} CASCADE"))
            .execute(&mut *conn)
            .await?;
    }
    sqlx::raw_sql(projection.schema())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO projection_checkpoint (name, version) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE
            SET version = $2, last_xid = '0', last_position = 0, updated_at = now()",
    )
    .bind(projection.name())
    .bind(projection.version())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, serde::Serialize)]
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
        let stored: Option<String> =
            sqlx::query_scalar("SELECT version FROM projection_checkpoint WHERE name = $1")
                .bind(projection.name())
                .fetch_optional(&mut *conn)
                .await?;
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
