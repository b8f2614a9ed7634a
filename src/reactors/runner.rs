//! The reactors' follower of the log: it plans every reactor's deliveries (in
//! the batch's transaction, with each reactor's checkpoint), and between
//! batches performs the due ones.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use rand::Rng;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::watch;

use super::{Delivery, Reactor};
use crate::config::Config;
use crate::ledger::{Consumer, Cursor, Follower, Position, RecordedEvent};

const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// A reactor's checkpoint lives beside the read models' under this name.
pub(super) fn checkpoint_name(reactor: &str) -> String {
    format!("{CHECKPOINT_PREFIX}{reactor}")
}

/// Names the checkpoints that belong to reactors.
pub(super) const CHECKPOINT_PREFIX: &str = "reactor:";

/// How deliveries are timed and when they give up.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryPolicy {
    pub timeout: Duration,
    pub max_attempts: u32,
    pub retry_base: Duration,
}

impl DeliveryPolicy {
    pub fn from_config(config: &Config) -> DeliveryPolicy {
        DeliveryPolicy {
            timeout: Duration::from_millis(config.delivery_timeout_ms),
            max_attempts: config.delivery_max_attempts,
            retry_base: Duration::from_millis(config.delivery_retry_base_ms),
        }
    }

    /// Long enough that a live worker finishes before another takes over: a
    /// batch's shared read and then each delivery, each within the timeout.
    fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(1)
    }

    /// Exponential, capped, with a little jitter so retries do not march in step.
    fn backoff(&self, attempt: i32) -> Duration {
        let doublings = attempt.clamp(1, 20) as u32 - 1;
        let base = self
            .retry_base
            .saturating_mul(1 << doublings)
            .min(MAX_BACKOFF);
        base + base.mul_f64(rand::thread_rng().gen_range(0.0..0.1))
    }
}

/// Creates the reactor's checkpoint at the current end of the log, if it has none.
pub(super) async fn start_at_log_end(pool: &PgPool, reactor: &str) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO projection_checkpoint (name, version, last_xid, last_position)
         SELECT $1, 'reactor', coalesce(head.transaction_id, '0'),
                coalesce(head.global_position, 0)
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
                SELECT transaction_id, global_position FROM events
                 WHERE transaction_id < ledger_read_horizon()
                 ORDER BY transaction_id DESC, global_position DESC
                 LIMIT 1) AS head ON true
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(checkpoint_name(reactor))
    .execute(pool)
    .await?;
    Ok(())
}

/// Follows the log for every reactor until the task is dropped: one follower,
/// so one batch transaction plans for all of them (each from its own
/// checkpoint), instead of one transaction each for every append.
pub(super) async fn run(
    pool: PgPool,
    reactors: Vec<Arc<dyn Reactor>>,
    policy: DeliveryPolicy,
    appended: watch::Receiver<Position>,
) {
    let planner = Planner {
        pool: pool.clone(),
        reactors: reactors
            .into_iter()
            .map(|reactor| Scheduled {
                reactor,
                due: Mutex::new(Due::Now),
            })
            .collect(),
        policy,
    };
    let (_nobody_waits, wanted) = watch::channel(Position::default());
    Follower::new(pool, Arc::new(planner))
        .run(appended, wanted)
        .await
}

/// A batch's planned deliveries, as the columns of their rows.
#[derive(Default)]
struct PlannedRows {
    reactors: Vec<&'static str>,
    xids: Vec<String>,
    positions: Vec<i64>,
    keys: Vec<String>,
    payloads: Vec<serde_json::Value>,
    not_before: Vec<Option<chrono::DateTime<Utc>>>,
}

impl PlannedRows {
    fn push(
        &mut self,
        reactor: &'static str,
        event: &RecordedEvent,
        planned: super::Planned,
        not_before: Option<chrono::DateTime<Utc>>,
    ) {
        self.reactors.push(reactor);
        self.xids.push(event.position.xid.to_string());
        self.positions.push(event.position.global);
        self.keys.push(planned.key);
        self.payloads.push(planned.payload);
        self.not_before.push(not_before);
    }
}

/// When a reactor next has deliveries to look for. Between batches the
/// follower asks only the reactors that may have some, so an append that
/// plans nothing costs no lease query.
#[derive(Debug, Clone, Copy)]
enum Due {
    /// It planned some, or its last round was full.
    Now,
    /// A failed delivery's retry, or the next look for deliveries planned
    /// elsewhere (another replica, `reactors retry`), whichever comes first.
    At(Instant),
}

/// How often a reactor looks for deliveries it did not plan itself: another
/// replica's, or parked ones put back by `invite-ledger reactors retry`.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

/// A reactor and when it next has work.
struct Scheduled {
    reactor: Arc<dyn Reactor>,
    due: Mutex<Due>,
}

impl Scheduled {
    fn is_due(&self) -> bool {
        match *self.due.lock().expect("not poisoned") {
            Due::Now => true,
            Due::At(at) => Instant::now() >= at,
        }
    }

    fn set_due(&self, due: Due) {
        *self.due.lock().expect("not poisoned") = due;
    }
}

/// Plans the reactors' deliveries from the log and performs them.
struct Planner {
    pool: PgPool,
    reactors: Vec<Scheduled>,
    policy: DeliveryPolicy,
}

#[async_trait]
impl Consumer for Planner {
    fn checkpoints(&self) -> Vec<String> {
        self.reactors
            .iter()
            .map(|p| checkpoint_name(p.reactor.name()))
            .collect()
    }

    /// One delivery row per event a reactor cares about (each event once:
    /// the rows commit with the checkpoints), all reactors' in one statement.
    async fn consume(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
        cursors: &[Cursor],
    ) -> anyhow::Result<()> {
        let mut rows = PlannedRows::default();
        let mut planning = Vec::new();
        for (scheduled, cursor) in self.reactors.iter().zip(cursors) {
            if !cursor.active {
                continue;
            }
            let reactor = &scheduled.reactor;
            let start = events.partition_point(|e| e.position <= cursor.at);
            let before = rows.xids.len();
            for event in &events[start..] {
                if let Some(delivery) = reactor.plan(conn, event).await? {
                    rows.push(reactor.name(), event, delivery, reactor.not_before(event));
                }
            }
            if rows.xids.len() > before {
                planning.push(scheduled);
            }
        }
        if rows.xids.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO reactor_delivery
                (reactor, event_xid, event_position, ordering_key, payload, next_attempt_at)
             SELECT r, x::xid8, p, k, d, coalesce(n, now())
               FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::jsonb[],
                           $6::timestamptz[])
                    AS r(r, x, p, k, d, n)
             ON CONFLICT (reactor, event_position) DO NOTHING",
        )
        .bind(&rows.reactors)
        .bind(&rows.xids)
        .bind(&rows.positions)
        .bind(&rows.keys)
        .bind(&rows.payloads)
        .bind(&rows.not_before)
        .execute(&mut *conn)
        .await?;
        // Due once the batch commits, which is before `between_batches`.
        planning.iter().for_each(|p| p.set_due(Due::Now));
        Ok(())
    }

    /// Performs the due deliveries of each reactor that may have some.
    async fn between_batches(&self) -> anyhow::Result<bool> {
        let mut more = false;
        for scheduled in self.reactors.iter().filter(|s| s.is_due()) {
            let round = deliver_due(&self.pool, &scheduled.reactor, self.policy).await?;
            let full = round.delivered == scheduled.reactor.batch_size();
            more |= full;
            let look_again = Instant::now() + LOOK_AGAIN;
            scheduled.set_due(match round.retry_at {
                _ if full => Due::Now,
                Some(retry) => Due::At(retry.min(look_again)),
                None => Due::At(look_again),
            });
        }
        Ok(more)
    }
}

/// What a round of deliveries did: how many it performed, and when the
/// soonest of its failures is tried again.
struct Round {
    delivered: usize,
    retry_at: Option<Instant>,
}

/// Leases a batch of due deliveries (for an ordered reactor, only the first open
/// one of each key), performs them at once and records each outcome.
async fn deliver_due(
    pool: &PgPool,
    reactor: &Arc<dyn Reactor>,
    policy: DeliveryPolicy,
) -> anyhow::Result<Round> {
    let rows = sqlx::query(
        "UPDATE reactor_delivery
            SET leased_until = now() + make_interval(secs => $3), attempts = attempts + 1
          WHERE id IN (
                SELECT d.id FROM reactor_delivery d
                 WHERE d.reactor = $1 AND d.status = 'pending' AND d.next_attempt_at <= now()
                   AND (d.leased_until IS NULL OR d.leased_until < now())
                   AND (NOT $2 OR NOT EXISTS (
                        SELECT 1 FROM reactor_delivery e
                         WHERE e.reactor = d.reactor AND e.ordering_key = d.ordering_key
                           AND e.id < d.id AND e.status <> 'delivered'))
                 ORDER BY d.id
                 LIMIT $4
                   FOR UPDATE SKIP LOCKED)
      RETURNING id, event_xid::text::bigint AS event_xid, event_position, ordering_key,
                payload, attempts",
    )
    .bind(reactor.name())
    .bind(reactor.ordered())
    .bind(policy.lease().as_secs_f64())
    .bind(reactor.batch_size() as i64)
    .fetch_all(pool)
    .await?;
    let count = rows.len();
    if count == 0 {
        return Ok(Round {
            delivered: 0,
            retry_at: None,
        });
    }
    let deliveries: Vec<Delivery> = rows
        .iter()
        .map(|row| Delivery {
            id: row.get("id"),
            event_position: row.get("event_position"),
            event_xid: row.get("event_xid"),
            key: row.get("ordering_key"),
            payload: row.get("payload"),
            attempt: row.get("attempts"),
        })
        .collect();
    let started = Utc::now();
    // In a task of its own, as a panic in a delivery ends only this round:
    // the leases run out and the batch goes again.
    let (deliveries, results) = tokio::spawn({
        let reactor = reactor.clone();
        async move {
            let results = reactor.deliver_batch(&deliveries, policy.timeout).await;
            (deliveries, results)
        }
    })
    .await?;
    anyhow::ensure!(
        results.len() == count,
        "{} performed {} of a batch of {count}",
        reactor.name(),
        results.len()
    );
    let mut outcomes = Vec::with_capacity(count);
    for (delivery, outcome) in deliveries.into_iter().zip(results) {
        if let Err(error) = &outcome {
            tracing::warn!(
                reactor = reactor.name(),
                delivery = delivery.id,
                attempt = delivery.attempt,
                error = format!("{error:#}"),
                "delivery failed"
            );
        }
        outcomes.push((delivery, started, outcome));
    }
    // The batch's outcomes in one transaction: one commit (one WAL flush) for
    // all of them. A crash before it leaves the leases to run out, and the
    // deliveries go again, as they would after a crash mid-delivery.
    let mut tx = pool.begin().await?;
    let retry_in = record(&mut tx, outcomes, policy).await?;
    tx.commit().await?;
    Ok(Round {
        delivered: count,
        retry_at: retry_in.map(|wait| Instant::now() + wait),
    })
}

/// Writes each attempt and each delivery's new state: the attempts in one
/// statement, the delivered in another, a failure on its own (each has its
/// own backoff and may be parked). Returns the soonest retry's wait, if any.
async fn record(
    tx: &mut PgConnection,
    outcomes: Vec<(Delivery, chrono::DateTime<Utc>, anyhow::Result<()>)>,
    policy: DeliveryPolicy,
) -> anyhow::Result<Option<Duration>> {
    let outcomes: Vec<(Delivery, chrono::DateTime<Utc>, Option<String>)> = outcomes
        .into_iter()
        .map(|(d, started, outcome)| (d, started, outcome.err().map(|e| format!("{e:#}"))))
        .collect();
    sqlx::query(
        "INSERT INTO reactor_attempt (delivery_id, attempt, started_at, outcome, error)
         SELECT d, a, s, CASE WHEN e IS NULL THEN 'delivered' ELSE 'failed' END, e
           FROM unnest($1::bigint[], $2::int[], $3::timestamptz[], $4::text[]) AS o(d, a, s, e)",
    )
    .bind(outcomes.iter().map(|(d, ..)| d.id).collect::<Vec<i64>>())
    .bind(
        outcomes
            .iter()
            .map(|(d, ..)| d.attempt)
            .collect::<Vec<i32>>(),
    )
    .bind(outcomes.iter().map(|(_, s, _)| *s).collect::<Vec<_>>())
    .bind(
        outcomes
            .iter()
            .map(|(.., e)| e.clone())
            .collect::<Vec<Option<String>>>(),
    )
    .execute(&mut *tx)
    .await?;
    let delivered: Vec<i64> = outcomes
        .iter()
        .filter(|(.., e)| e.is_none())
        .map(|(d, ..)| d.id)
        .collect();
    if !delivered.is_empty() {
        sqlx::query(
            "UPDATE reactor_delivery
                SET status = 'delivered', delivered_at = now(), leased_until = NULL,
                    last_error = NULL
              WHERE id = ANY($1)",
        )
        .bind(&delivered)
        .execute(&mut *tx)
        .await?;
    }
    let mut soonest: Option<Duration> = None;
    for (delivery, _, error) in &outcomes {
        let Some(error) = error else { continue };
        let parked = delivery.attempt as u32 >= policy.max_attempts;
        let backoff = policy.backoff(delivery.attempt);
        if !parked {
            soonest = Some(soonest.map_or(backoff, |s| s.min(backoff)));
        }
        if parked {
            tracing::error!(delivery = delivery.id, attempts = delivery.attempt, %error, "delivery parked: see `invite-ledger reactors status`");
        }
        sqlx::query(
            "UPDATE reactor_delivery
                SET status = CASE WHEN $2 THEN 'parked' ELSE 'pending' END,
                    next_attempt_at = now() + make_interval(secs => $3),
                    leased_until = NULL, last_error = $4
              WHERE id = $1",
        )
        .bind(delivery.id)
        .bind(parked)
        .bind(backoff.as_secs_f64())
        .bind(error)
        .execute(&mut *tx)
        .await?;
    }
    Ok(soonest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let policy = DeliveryPolicy {
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            retry_base: Duration::from_secs(1),
        };
        let within = |attempt, secs: f64| {
            let wait = policy.backoff(attempt).as_secs_f64();
            assert!(
                wait >= secs && wait <= secs * 1.1,
                "attempt {attempt}: {wait}"
            );
        };
        within(1, 1.0);
        within(2, 2.0);
        within(4, 8.0);
        within(30, 3600.0);
    }
}
