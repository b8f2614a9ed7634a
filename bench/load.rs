//! A closed-loop load driver: `clients` tasks each run one operation after
//! another until the time is up; every operation's latency is kept.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

/// What a run measured: how many operations, over how long, and each one's time.
pub struct Stats {
    pub clients: usize,
    pub ops: usize,
    pub elapsed: Duration,
    /// Sorted, fastest first.
    latencies: Vec<Duration>,
}

impl Stats {
    pub fn new(clients: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Stats {
        latencies.sort_unstable();
        Stats {
            clients,
            ops: latencies.len(),
            elapsed,
            latencies,
        }
    }

    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `percent` of the operations finished.
    pub fn percentile(&self, percent: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let rank = (percent / 100.0 * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1]
    }
}

/// Runs `op(client)` in `clients` concurrent loops for `duration`. The first
/// failing operation stops the run with its error: a benchmark of errors is no
/// benchmark.
pub async fn closed_loop<F, Fut>(clients: usize, duration: Duration, op: F) -> anyhow::Result<Stats>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = JoinSet::new();
    for client in 0..clients {
        let op = op.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(1024);
            while Instant::now() < deadline {
                let begun = Instant::now();
                op(client).await?;
                latencies.push(begun.elapsed());
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(finished) = tasks.join_next().await {
        latencies.extend(finished??);
    }
    Ok(Stats::new(clients, started.elapsed(), latencies))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_ranked_latency() {
        let latencies = (1..=100).map(Duration::from_millis).collect();
        let stats = Stats::new(1, Duration::from_secs(2), latencies);
        assert_eq!(stats.percentile(50.0), Duration::from_millis(50));
        assert_eq!(stats.percentile(99.0), Duration::from_millis(99));
        assert_eq!(stats.percentile(100.0), Duration::from_millis(100));
        assert_eq!(stats.per_second(), 50.0);
    }

    #[tokio::test]
    async fn a_failing_operation_fails_the_run() {
        let run = closed_loop(2, Duration::from_millis(50), |_| async {
            anyhow::bail!("refused")
        });
        assert!(run.await.is_err());
    }
}
