//! Rate limits whose counters live in PostgreSQL, so that several replicas
//! share one budget per client address or account: fixed
//! windows, one upsert per counted attempt and one primary-key read per check.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

/// At most `max` counted attempts per `window` for each key.
#[derive(Debug, Clone)]
pub struct Limit {
    /// Names the bucket family, so one key may be counted by several limits.
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// The bucket family of wrong passwords per account, keyed by normalized email.
pub const SIGN_IN_ACCOUNT: &str = "sign-in-account";

/// How often (in counted attempts) this process clears windows long over.
const SWEEP_EVERY: u64 = 1_000;

/// How long a check that found a key within its limit is believed without
/// asking again. Every counted attempt still goes to the database (and learns
/// the shared total), so this only spares the read on the path of legitimate
/// requests: a key over its limit through other replicas may get one more
/// request answered here within this time, and its next counted attempt is
/// refused all the same.
const CLEAR_FOR: Duration = Duration::from_secs(1);
/// Keys remembered as clear at most; past that the memory starts over.
const CLEAR_KEYS: usize = 10_000;

pub struct Limiter {
    pool: PgPool,
    counted: AtomicU64,
    /// Buckets found within their limit, and until when that is believed.
    clear: Mutex<HashMap<String, Instant>>,
}

impl Limiter {
    pub fn new(pool: PgPool) -> Self {
        Limiter {
            pool,
            counted: AtomicU64::new(0),
            clear: Mutex::new(HashMap::new()),
        }
    }

    /// The wait before `key` may try again, if it has used up `limit`.
    pub async fn blocked(&self, limit: &Limit, key: &str) -> sqlx::Result<Option<Duration>> {
        let bucket = bucket(limit, key);
        let now = Instant::now();
        if self
            .clear
            .lock()
            .expect("not poisoned")
            .get(&bucket)
            .is_some_and(|until| *until > now)
        {
            return Ok(None);
        }
        let blocked = self.read_blocked(limit, &bucket).await?;
        if blocked.is_none() {
            let mut clear = self.clear.lock().expect("not poisoned");
            if clear.len() >= CLEAR_KEYS {
                clear.clear();
            }
            clear.insert(bucket, now + CLEAR_FOR);
        }
        Ok(blocked)
    }

    async fn read_blocked(&self, limit: &Limit, bucket: &str) -> sqlx::Result<Option<Duration>> {
        let row: Option<(i32, f64)> = sqlx::query_as(
            "SELECT hits, EXTRACT(EPOCH FROM window_start + make_interval(secs => $2) - now())::float8
               FROM rate_limit
              WHERE bucket = $1 AND window_start + make_interval(secs => $2) > now()",
        )
        .bind(bucket)
        .bind(limit.window.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .filter(|(hits, _)| *hits as i64 >= i64::from(limit.max))
            .map(|(_, left)| wait(left)))
    }

    /// Counts an attempt of `key`; the wait before it may try again when this
    /// attempt went over `limit`.
    pub async fn count(&self, limit: &Limit, key: &str) -> sqlx::Result<Option<Duration>> {
        let bucket = bucket(limit, key);
        self.clear.lock().expect("not poisoned").remove(&bucket);
        let (hits, left): (i32, f64) = sqlx::query_as(
            "INSERT INTO rate_limit AS r (bucket, window_start, hits) VALUES ($1, now(), 1)
             ON CONFLICT (bucket) DO UPDATE SET
               window_start = CASE WHEN r.window_start + make_interval(secs => $2) <= now()
                                   THEN now() ELSE r.window_start END,
               hits = CASE WHEN r.window_start + make_interval(secs => $2) <= now()
                           THEN 1 ELSE r.hits + 1 END
             RETURNING hits,
                       EXTRACT(EPOCH FROM window_start + make_interval(secs => $2) - now())::float8",
        )
        .bind(&bucket)
        .bind(limit.window.as_secs_f64())
        .fetch_one(&self.pool)
        .await?;
        self.sweep_now_and_then();
        Ok((hits as i64 > i64::from(limit.max)).then(|| wait(left)))
    }

    /// Deletes the counter of `key` in the family `name` (an erased person's
    /// email must not stay in a bucket's name until the sweep).
    pub async fn forget(&self, name: &'static str, key: &str) -> sqlx::Result<()> {
        let bucket = bucket(
            &Limit {
                name,
                max: 0,
                window: Duration::ZERO,
            },
            key,
        );
        self.clear.lock().expect("not poisoned").remove(&bucket);
        sqlx::query("DELETE FROM rate_limit WHERE bucket = $1")
            .bind(&bucket)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Deletes windows over for an hour, in the background, once in a while.
    fn sweep_now_and_then(&self) {
        if self.counted.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let swept = sqlx::query(
                "DELETE FROM rate_limit WHERE window_start < now() - interval '1 hour'",
            )
            .execute(&pool)
            .await;
            if let Err(error) = swept {
                tracing::warn!(%error, "could not clear old rate-limit windows");
            }
        });
    }
}

/// One key's limit, for a statement that reads it beside what it guards
/// (`guarded_sql`): a lookup and its check in one round trip, no write.
#[derive(Debug, Clone)]
pub struct Check {
    pub bucket: String,
    pub window_secs: f64,
    pub max: i32,
}

impl Limit {
    pub fn check(&self, key: &str) -> Check {
        Check {
            bucket: bucket(self, key),
            window_secs: self.window.as_secs_f64(),
            max: self.max.min(i32::MAX as u32) as i32,
        }
    }
}

/// Wraps `lookup` (a statement with at most one row, whose columns are named)
/// so that it also says whether the check with parameters `$b` (bucket), `$b+1`
/// (window in seconds) and `$b+2` (max) is used up: one row always, the
/// lookup's columns (null when it found nothing) and `limit_wait`, the seconds
/// left (null when clear). The limit is read in the lookup's own snapshot, so
/// every replica sees the same count, and nothing is written.
pub fn guarded_sql(lookup: &str, b: usize) -> String {
    format!(
        "SELECT found.*, blocked.limit_wait
           FROM (SELECT 1) AS one
           LEFT JOIN LATERAL (
                SELECT EXTRACT(EPOCH FROM window_start + make_interval(secs => ${w}) - now())::float8
                       AS limit_wait
                  FROM rate_limit
                 WHERE bucket = ${b} AND window_start + make_interval(secs => ${w}) > now()
                   AND hits >= ${m}) AS blocked ON true
           LEFT JOIN LATERAL ({lookup}) AS found ON blocked.limit_wait IS NULL",
        w = b + 1,
        m = b + 2,
    )
}

/// What a guarded statement's `limit_wait` column says: the wait, if blocked.
pub fn blocked_by(limit_wait: Option<f64>) -> Option<Duration> {
    limit_wait.map(wait)
}

fn bucket(limit: &Limit, key: &str) -> String {
    format!("{}:{key}", limit.name)
}

fn wait(seconds_left: f64) -> Duration {
    Duration::from_secs_f64(seconds_left.max(0.0))
}
