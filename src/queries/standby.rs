//! Audit reads from a streaming standby (`DATABASE_READ_URL`), never showing
//! less than the caller has seen: given a position (`Ledger-Position`), the read
//! waits until the standby has replayed the primary's WAL as far as the primary
//! had written when its read models had applied that position, and falls back
//! to the primary when the standby does not get there within `POSITION_WAIT_MS`,
//! or cannot be reached. Without a position the standby answers as it stands.
//! Reads `as_of` a past moment pass the position of the moment's last event, so
//! the standby answers them once it has replayed the read models that far.

use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres};

use crate::context::Context;
use crate::ledger::Position;

/// How often a waiting read looks at the standby's replay position.
const REPLAY_POLL: Duration = Duration::from_millis(10);

/// A connection for an audit read, and whether it is the standby's.
pub async fn connection(
    context: &Context,
    seen: Option<Position>,
) -> sqlx::Result<(PoolConnection<Postgres>, bool)> {
    if let Some(standby) = &context.read_pool {
        match standby_connection(context, standby, seen).await {
            Ok(Some(conn)) => {
                counted("standby");
                return Ok((conn, true));
            }
            Ok(None) => tracing::debug!("the standby is behind the caller; reading the primary"),
            Err(error) => tracing::warn!(%error, "the standby cannot be read; reading the primary"),
        }
    }
    counted("primary");
    Ok((context.pool.acquire().await?, false))
}

/// A connection for a read of the log up to `moment` (a diff): the standby's
/// once it has replayed the last event recorded by then, as well as `seen`.
pub async fn connection_until(
    context: &Context,
    seen: Option<Position>,
    moment: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<(PoolConnection<Postgres>, bool)> {
    if context.read_pool.is_none() {
        return connection(context, seen).await;
    }
    let last = {
        let mut conn = context.pool.acquire().await?;
        super::as_of::last_position_until(&mut conn, moment).await?
    };
    connection(context, last.max(seen)).await
}

/// `audit_reads_total{database}`: how much of the audit load the standby takes.
fn counted(database: &'static str) {
    metrics::counter!("audit_reads_total", "database" => database).increment(1);
}

async fn standby_connection(
    context: &Context,
    standby: &sqlx::PgPool,
    seen: Option<Position>,
) -> sqlx::Result<Option<PoolConnection<Postgres>>> {
    // The request's middleware has waited until the primary's read models
    // applied `seen`: everything they wrote is in the WAL before this point.
    // The insert position, not the write position: read models commit without
    // waiting for the disk, so their last records may not be written out yet.
    let target: Option<String> = match seen {
        Some(_) => Some(
            sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
                .fetch_one(&context.pool)
                .await?,
        ),
        None => None,
    };
    let mut conn = standby.acquire().await?;
    let Some(target) = target else {
        return Ok(Some(conn));
    };
    let wait = Duration::from_millis(context.settings.config.position_wait_ms);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if replayed(&mut conn, &target).await? {
            return Ok(Some(conn));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(REPLAY_POLL).await;
    }
}

/// Whether the standby has replayed the WAL up to `lsn`.
async fn replayed(conn: &mut PgConnection, lsn: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT coalesce(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)")
        .bind(lsn)
        .fetch_one(conn)
        .await
}

/// The position every read model named in `names` has applied, as the
/// connection's database sees it (the standby's copy of the checkpoints).
pub async fn applied(conn: &mut PgConnection, names: &[String]) -> sqlx::Result<Option<Position>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT last_xid::text::bigint, last_position FROM projection_checkpoint
          WHERE name = ANY($1) ORDER BY last_xid, last_position LIMIT 1",
    )
    .bind(names)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(xid, global)| Position { xid, global }))
}
