//! Measure 8: the audit API over a big log, one client at a time, over HTTP:
//! `as_of` of one invite, of a list of 100, of an invitee tree 20 levels deep,
//! and the live list of 100. The targets are set at 200k and 1M events.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::load::Stats;
use super::server::{Cli, Server};

/// The audit figures at one size of the log.
pub struct Figures {
    pub events: u64,
    pub single: Stats,
    pub list: Stats,
    pub invitees: Stats,
    pub live_list: Stats,
}

/// Serves the database behind `cli` (its log already written and projected)
/// and times `requests` of each question.
pub async fn measure(
    cli: &Cli,
    pool: &PgPool,
    events: u64,
    requests: usize,
) -> anyhow::Result<Figures> {
    let key = cli.run(&["apikey", "create", "--name", "bench"]).await?;
    let key = key.trim().to_string();
    // A moment halfway through the log: versions before and after it exist.
    let middle: DateTime<Utc> = sqlx::query_scalar(
        "SELECT recorded_at FROM events ORDER BY global_position OFFSET $1 LIMIT 1",
    )
    .bind((events / 2) as i64)
    .fetch_one(pool)
    .await?;
    let invites: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT id FROM invite WHERE recorded_at <= $1 ORDER BY md5(id::text) LIMIT $2",
    )
    .bind(middle)
    .bind(requests as i64)
    .fetch_all(pool)
    .await?;
    // Roots of the bench's trees (see `history`) written before that moment.
    let invitees_before = super::history::invitees_for(events / 2);
    let roots: Vec<String> = sqlx::query_scalar(
        "SELECT md5('bench-user-' || i)::uuid::text
           FROM generate_series(0, $1::bigint - 3, 1000) AS i LIMIT $2",
    )
    .bind(invitees_before as i64)
    .bind(requests as i64)
    .fetch_all(pool)
    .await?;
    anyhow::ensure!(
        !invites.is_empty() && !roots.is_empty(),
        "the log has no invites or trees before its middle"
    );

    let server = Server::start(cli).await?;
    let http = reqwest::Client::new();
    let as_of = invite_ledger::json_time::format(&middle);
    let get = |path: String| {
        let request = http
            .get(format!("{}/api/ledger{path}", server.base))
            .header("x-api-key", &key);
        async move {
            let reply = request.send().await?;
            anyhow::ensure!(reply.status().is_success(), "{path}: {}", reply.status());
            reply.bytes().await?;
            anyhow::Ok(())
        }
    };
    let single = timed(requests, |n| {
        get(format!(
            "/invites/{}?as_of={as_of}",
            invites[n % invites.len()]
        ))
    })
    .await?;
    let list = timed(requests, |_| {
        get(format!("/invites?limit=100&as_of={as_of}"))
    })
    .await?;
    let invitees = timed(requests, |n| {
        get(format!(
            "/users/{}/invitees?depth=20&as_of={as_of}",
            roots[n % roots.len()]
        ))
    })
    .await?;
    let live_list = timed(requests, |_| get("/invites?limit=100".to_string())).await?;
    server.stop().await?;
    Ok(Figures {
        events,
        single,
        list,
        invitees,
        live_list,
    })
}

/// `count` requests one after another, each timed.
async fn timed<Fut>(count: usize, mut request: impl FnMut(usize) -> Fut) -> anyhow::Result<Stats>
where
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::with_capacity(count);
    for n in 0..count {
        let begun = Instant::now();
        request(n).await?;
        latencies.push(begun.elapsed());
    }
    Ok(Stats::new(1, started.elapsed(), latencies))
}
