//! Measure 11: the log grows through `create-many` calls (1,000 private
//! invites each) on a database whose autovacuum is off, as right after a
//! restore or a bulk load; every quarter second the bench reads how far the
//! slowest read model is behind the log: in events, and in seconds (the age
//! of the oldest event it has not applied).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::PgPool;

use super::bulk::INVITES_PER_CALL;
use super::report::Row;
use super::workload::Api;

const READ_MODELS: [&str; 3] = ["invite", "invite_use", "user_account"];
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// How long the bench waits for the read models once the calls are done.
const CATCH_UP: Duration = Duration::from_secs(300);

#[derive(Debug, Default, Clone, Copy)]
pub struct Lag {
    pub events: i64,
    pub seconds: f64,
}

pub struct Figures {
    pub events: i64,
    pub calls: usize,
    pub elapsed: Duration,
    pub max_lag: Lag,
    pub caught_up_after: Duration,
    /// The server's peak resident memory after measures 10 and 11 (KiB).
    pub server_peak_kib: u64,
}

/// Waits, bounded, until the read models reach the log's head; how long it took.
pub async fn caught_up(pool: &PgPool) -> anyhow::Result<Duration> {
    let started = Instant::now();
    while lag(pool).await?.events > 0 {
        anyhow::ensure!(
            started.elapsed() < CATCH_UP,
            "the read models did not catch up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(started.elapsed())
}

/// The slowest read model's lag now.
async fn lag(pool: &PgPool) -> anyhow::Result<Lag> {
    let (events, seconds): (Option<i64>, Option<f64>) = sqlx::query_as(
        "WITH slowest AS (
             SELECT last_xid, last_position FROM projection_checkpoint
              WHERE name = ANY($1) ORDER BY last_xid, last_position LIMIT 1),
         next AS (
             SELECT e.global_position, e.recorded_at FROM events e, slowest s
              WHERE (e.transaction_id, e.global_position) > (s.last_xid, s.last_position)
              ORDER BY e.transaction_id, e.global_position LIMIT 1)
         SELECT (SELECT max(global_position) FROM events) - (SELECT global_position FROM next) + 1,
                EXTRACT(EPOCH FROM now() - (SELECT recorded_at FROM next))::float8",
    )
    .bind(READ_MODELS.map(String::from).to_vec())
    .fetch_one(pool)
    .await?;
    Ok(Lag {
        events: events.unwrap_or(0),
        seconds: seconds.unwrap_or(0.0),
    })
}

/// Grows the log by `calls` calls of `INVITES_PER_CALL` invites, sampling the
/// lag meanwhile; then waits for the read models to catch up.
pub async fn measure(
    api: &Api,
    admin: &str,
    pool: &PgPool,
    calls: usize,
) -> anyhow::Result<Figures> {
    let autovacuum: String = sqlx::query_scalar("SHOW autovacuum")
        .fetch_one(pool)
        .await?;
    eprintln!("bench: log growth with autovacuum {autovacuum}");
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (pool, done) = (pool.clone(), done.clone());
        tokio::spawn(async move {
            let mut worst = Lag::default();
            while !done.load(Ordering::Relaxed) {
                let now = lag(&pool).await?;
                worst.events = worst.events.max(now.events);
                worst.seconds = worst.seconds.max(now.seconds);
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
            anyhow::Ok(worst)
        })
    };
    let started = Instant::now();
    let result = grow(api, admin, calls).await;
    let elapsed = started.elapsed();
    let caught_up = caught_up(pool).await;
    done.store(true, Ordering::Relaxed);
    let max_lag = sampler.await??;
    result?;
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(pool)
        .await?;
    Ok(Figures {
        events,
        calls,
        elapsed,
        max_lag,
        caught_up_after: caught_up?,
        server_peak_kib: 0,
    })
}

async fn grow(api: &Api, admin: &str, calls: usize) -> anyhow::Result<()> {
    for call in 0..calls {
        let invites: Vec<Value> = (0..INVITES_PER_CALL)
            .map(|i| json!({ "email": format!("grown{call}.{i}@bench.example"), "role": "user" }))
            .collect();
        let answer = api
            .create_many(admin, json!({ "invites": invites }))
            .await?;
        anyhow::ensure!(
            answer["created"] == INVITES_PER_CALL,
            "create-many made {} of {INVITES_PER_CALL} invites",
            answer["created"]
        );
    }
    Ok(())
}

pub fn row(figures: &Figures) -> Row {
    Row {
        measure: format!("11. log grown to {} events by create-many", figures.events),
        clients: "1".into(),
        throughput: format!(
            "{:.0} event/s",
            (figures.calls * INVITES_PER_CALL) as f64 / figures.elapsed.as_secs_f64()
        ),
        notes: format!(
            "read models at most {} events / {:.2} s behind; caught up {:.2} s after the last call; \
             server peak RSS {:.1} MiB",
            figures.max_lag.events,
            figures.max_lag.seconds,
            figures.caught_up_after.as_secs_f64(),
            figures.server_peak_kib as f64 / 1024.0
        ),
        ..Row::default()
    }
}

impl Figures {
    pub fn max_lag_seconds(&self) -> f64 {
        self.max_lag.seconds
    }
}
