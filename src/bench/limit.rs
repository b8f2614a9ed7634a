//! The physical limit of this machine: single-row durable inserts into a table
//! shaped like the event log, and primary-key reads of it, straight through sqlx
//! with as many connections as clients. What the service does per request can
//! only be slower; the ratio says how much slower.

use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use super::load::{closed_loop, Stats};

pub struct Limits {
    pub inserts: Stats,
    pub reads: Stats,
}

/// Inserts, then reads back what was inserted, with `clients` connections.
/// `payload` is a real event's JSON, so rows are the size of real ones.
pub async fn measure(
    database_url: &str,
    clients: usize,
    duration: Duration,
    payload: &str,
) -> anyhow::Result<Limits> {
    let pool = pool(database_url, clients).await?;
    // The event table's columns, defaults (identity, transaction id, time), key
    // and indexes; not its append-only trigger, which fires on UPDATE/DELETE only.
    let table = format!("limit_events_{clients}");
    sqlx::raw_sql(&format!("CREATE TABLE {table} (LIKE events INCLUDING ALL)"))
        .execute(&pool)
        .await?;
    let insert: &'static str = Box::leak(
        format!(
            "INSERT INTO {table}
                (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('invite', $1, 1, 'Created', '1', $2::json, '{{}}')"
        )
        .into_boxed_str(),
    );
    let select: &'static str = Box::leak(
        format!(
            "SELECT * FROM {table}
              WHERE aggregate_type = 'invite' AND aggregate_id = $1 AND sequence = 1"
        )
        .into_boxed_str(),
    );

    let next = Arc::new(AtomicUsize::new(0));
    let inserts = {
        let (pool, next, payload) = (pool.clone(), next.clone(), payload.to_string());
        closed_loop(clients, duration, move |_| {
            let (pool, payload) = (pool.clone(), payload.clone());
            let id = next.fetch_add(1, Ordering::Relaxed);
            async move {
                sqlx::query(insert)
                    .bind(aggregate_id(id))
                    .bind(payload)
                    .execute(&pool)
                    .await?;
                Ok(())
            }
        })
        .await?
    };

    let written = next.load(Ordering::Relaxed).max(1);
    let reads = {
        let pool = pool.clone();
        closed_loop(clients, duration, move |_| {
            let pool = pool.clone();
            let id = rand::thread_rng().gen_range(0..written);
            async move {
                sqlx::query(select)
                    .bind(aggregate_id(id))
                    .fetch_one(&pool)
                    .await?;
                Ok(())
            }
        })
        .await?
    };
    pool.close().await;
    Ok(Limits { inserts, reads })
}

fn aggregate_id(n: usize) -> String {
    format!("limit-{n:012}")
}

/// Every client its own connection, opened before the clock starts.
async fn pool(database_url: &str, clients: usize) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(database_url)?.disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(clients as u32)
        .connect_with(options)
        .await?;
    let mut opened = Vec::with_capacity(clients);
    for _ in 0..clients {
        opened.push(pool.acquire().await?);
    }
    drop(opened);
    Ok(pool)
}
