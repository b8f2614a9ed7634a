//! Measure 9: `invite/create-many` with 1,000 private invites in one call, its
//! time and what it costs the server in memory (resident set before and after,
//! and the peak).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::report::{millis, Row};
use super::server::Server;
use super::workload::Api;

/// Invites per call: `INVITE_BULK_MAX`'s default.
pub const INVITES_PER_CALL: usize = 1000;

pub struct Figures {
    pub calls: Vec<Duration>,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    pub peak_kib: u64,
}

/// `calls` calls of `INVITES_PER_CALL` invites each, one after another; each
/// must create every invite.
pub async fn measure(
    api: &Api,
    admin: &str,
    server: &Server,
    calls: usize,
) -> anyhow::Result<Figures> {
    let rss_before_kib = server.rss_kib()?;
    let mut times = Vec::with_capacity(calls);
    for call in 0..calls {
        let invites: Vec<Value> = (0..INVITES_PER_CALL)
            .map(|i| json!({ "email": format!("bulk{call}.{i}@bench.example"), "role": "user" }))
            .collect();
        let started = Instant::now();
        let answer = api
            .create_many(admin, json!({ "invites": invites }))
            .await?;
        times.push(started.elapsed());
        anyhow::ensure!(
            answer["created"] == INVITES_PER_CALL,
            "create-many made {} of {INVITES_PER_CALL} invites: {}",
            answer["created"],
            answer["refused"]
        );
    }
    Ok(Figures {
        calls: times,
        rss_before_kib,
        rss_after_kib: server.rss_kib()?,
        peak_kib: server.peak_rss_kib()?,
    })
}

pub fn row(figures: &Figures) -> Row {
    let mut sorted = figures.calls.clone();
    sorted.sort();
    let p50 = sorted[sorted.len() / 2];
    let max = sorted[sorted.len() - 1];
    let mib = |kib: u64| kib as f64 / 1024.0;
    Row {
        measure: format!("9. create-many, {INVITES_PER_CALL} private invites in one call (HTTP)"),
        clients: "1".into(),
        throughput: format!(
            "{:.0} invite/s",
            INVITES_PER_CALL as f64 / p50.as_secs_f64()
        ),
        p50: millis(p50),
        p99: millis(max),
        notes: format!(
            "{} calls; server RSS {:.1} -> {:.1} MiB, peak {:.1} MiB",
            sorted.len(),
            mib(figures.rss_before_kib),
            mib(figures.rss_after_kib),
            mib(figures.peak_kib)
        ),
        ..Row::default()
    }
}
