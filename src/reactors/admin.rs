//! What the `reactors` commands show and do: each reactor's progress, the parked
//! deliveries, and putting them back in the queue.

use sqlx::{FromRow, PgPool};

use super::runner::{checkpoint_name, CHECKPOINT_PREFIX};
use crate::ledger::{count_after, read_checkpoint};

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReactorStatus {
    pub name: String,
    /// The last log position planned (`transaction/position`).
    pub checkpoint: String,
    /// Events in the log the reactor has not planned yet.
    pub lag: i64,
    pub pending: i64,
    pub parked: i64,
    pub delivered: i64,
}

pub async fn status(pool: &PgPool) -> anyhow::Result<Vec<ReactorStatus>> {
    let mut conn = pool.acquire().await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT substr(name, length($1) + 1) FROM projection_checkpoint
          WHERE starts_with(name, $1) ORDER BY name",
    )
    .bind(CHECKPOINT_PREFIX)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for name in names {
        let checkpoint = read_checkpoint(&mut conn, &checkpoint_name(&name)).await?;
        let lag = count_after(&mut conn, checkpoint).await?;
        let (pending, parked, delivered): (i64, i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE status = 'pending'),
                    count(*) FILTER (WHERE status = 'parked'),
                    count(*) FILTER (WHERE status = 'delivered')
               FROM reactor_delivery WHERE reactor = $1",
        )
        .bind(&name)
        .fetch_one(&mut *conn)
        .await?;
        out.push(ReactorStatus {
            name,
            checkpoint: checkpoint.to_string(),
            lag,
            pending,
            parked,
            delivered,
        });
    }
    Ok(out)
}

#[derive(Debug, Clone, FromRow, serde::Serialize)]
pub struct ParkedDelivery {
    pub id: i64,
    pub reactor: String,
    pub ordering_key: String,
    pub event_position: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub async fn parked(pool: &PgPool) -> anyhow::Result<Vec<ParkedDelivery>> {
    Ok(sqlx::query_as(
        "SELECT id, reactor, ordering_key, event_position, attempts, last_error
           FROM reactor_delivery WHERE status = 'parked' ORDER BY id",
    )
    .fetch_all(pool)
    .await?)
}

pub enum RetryTarget {
    One(i64),
    AllParked,
}

/// Puts parked deliveries back in the queue with a fresh count of attempts.
/// Returns how many; retrying an id that is not parked changes nothing.
pub async fn retry(pool: &PgPool, target: RetryTarget) -> anyhow::Result<u64> {
    let id = match target {
        RetryTarget::One(id) => Some(id),
        RetryTarget::AllParked => None,
    };
    let done = sqlx::query(
        "UPDATE reactor_delivery
            SET status = 'pending', attempts = 0, next_attempt_at = now(), leased_until = NULL
          WHERE status = 'parked' AND ($1::bigint IS NULL OR id = $1)",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}
