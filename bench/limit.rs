//! The physical limit of this machine: single-row durable inserts into a table
//! shaped like the event log, and primary-key reads of it, straight through sqlx
//! with as many connections as clients, each statement prepared once per
//! connection and reused (sqlx has no pipelining); and the same two statements
//! through pgbench (`-M prepared`), when it is on PATH. What the service does
//! per request can only be slower; the ratio says how much slower, against the
//! faster of the two.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

use super::load::{closed_loop, Stats};

pub struct Limits {
    pub inserts: Stats,
    pub reads: Stats,
    pub pgbench_inserts: Option<Pgbench>,
    pub pgbench_reads: Option<Pgbench>,
}

impl Limits {
    /// Durable single-row inserts per second: the faster of sqlx and pgbench.
    pub fn insert_rate(&self) -> f64 {
        faster(&self.inserts, &self.pgbench_inserts)
    }

    /// Primary-key reads per second: the faster of sqlx and pgbench.
    pub fn read_rate(&self) -> f64 {
        faster(&self.reads, &self.pgbench_reads)
    }
}

fn faster(sqlx: &Stats, pgbench: &Option<Pgbench>) -> f64 {
    let pgbench = pgbench.as_ref().map_or(0.0, |p| p.per_second);
    sqlx.per_second().max(pgbench)
}

/// What pgbench reported for one script.
pub struct Pgbench {
    pub clients: usize,
    pub per_second: f64,
    pub latency_average_ms: f64,
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
                    .persistent(true)
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
                    .persistent(true)
                    .bind(aggregate_id(id))
                    .fetch_one(&pool)
                    .await?;
                Ok(())
            }
        })
        .await?
    };
    pool.close().await;

    let insert_script = format!(
        "INSERT INTO {table}
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('invite', 'pgbench-' || gen_random_uuid(), 1, 'Created', '1', :payload::json, '{{}}');"
    );
    let select_script = format!(
        "\\set n random(0, {last})
         SELECT * FROM {table}
          WHERE aggregate_type = 'invite'
            AND aggregate_id = 'limit-' || lpad(:n::text, 12, '0') AND sequence = 1;",
        last = written - 1
    );
    let pgbench_inserts = pgbench(database_url, &insert_script, payload, clients, duration).await?;
    let pgbench_reads = pgbench(database_url, &select_script, payload, clients, duration).await?;
    Ok(Limits {
        inserts,
        reads,
        pgbench_inserts,
        pgbench_reads,
    })
}

/// Runs `script` with pgbench (prepared statements, one connection per client),
/// `:payload` bound to `payload`; `None` when pgbench is not on PATH.
async fn pgbench(
    database_url: &str,
    script: &str,
    payload: &str,
    clients: usize,
    duration: Duration,
) -> anyhow::Result<Option<Pgbench>> {
    let file =
        std::env::temp_dir().join(format!("invite-ledger-bench-{}.sql", uuid::Uuid::new_v4()));
    std::fs::write(&file, script)?;
    let output = tokio::process::Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-f"])
        .arg(&file)
        .args([
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(2).to_string(),
        ])
        .args(["-T", &duration.as_secs().max(1).to_string()])
        .arg("-D")
        .arg(format!("payload={payload}"))
        .arg(database_url)
        .output()
        .await;
    let _ = std::fs::remove_file(&file);
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "pgbench failed: {}{}",
        text,
        String::from_utf8_lossy(&output.stderr)
    );
    // A run too short for its clients to connect (a loaded machine, the
    // smoke run's one second) processes nothing: no figure, not a failure.
    if text.contains("transactions actually processed: 0") {
        eprintln!("bench: pgbench at {clients} clients processed nothing in its window");
        return Ok(None);
    }
    let figure = |prefix: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .ok_or_else(|| anyhow::anyhow!("pgbench printed no `{prefix}`: {text}"))
    };
    Ok(Some(Pgbench {
        clients,
        per_second: figure("tps = ")?,
        latency_average_ms: figure("latency average = ")?,
    }))
}

fn aggregate_id(n: usize) -> String {
    format!("limit-{n:012}")
}

/// Every client its own connection, opened before the clock starts.
async fn pool(database_url: &str, clients: usize) -> anyhow::Result<PgPool> {
    // Connected as the server connects (no TLS on loopback), so the limit is
    // the database's, not the encryption's.
    let options = invite_ledger::app::connect_options(database_url)?;
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
