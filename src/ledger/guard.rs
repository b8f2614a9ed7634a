//! What an append may have to do in the transaction of its events: hold an
//! inviter's quota (counted from the log itself, under a lock per inviter, so
//! replicas and concurrent requests take turns) and write an idempotency
//! receipt (so a retry finds the events and their answer, or neither).

use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use super::stored;
use crate::auth::passwords::PasswordSet;
use crate::domain::closing;

/// How long a receipt answers for its key.
pub const RECEIPT_LIFETIME: Duration = Duration::hours(24);

/// Namespace of the advisory locks taken per inviter (the first of the two keys).
const QUOTA_LOCK_SPACE: i32 = 0x1d_e3_70;

/// Extra work for the append's transaction; the default does none.
#[derive(Default)]
pub struct Guard {
    pub quota: Option<Quota>,
    pub receipt: Option<Receipt>,
    /// A password hash stored with the event that sets it (never in the event).
    pub password: Option<PasswordSet>,
}

impl Guard {
    pub fn is_empty(&self) -> bool {
        self.quota.is_none() && self.receipt.is_none() && self.password.is_none()
    }
}

/// An inviter's limits: each event appended under it is one new invite.
#[derive(Debug, Clone)]
pub struct Quota {
    pub inviter_id: String,
    /// Invites open at once (not used up, cancelled, rejected or expired).
    pub open: Option<u32>,
    /// Invites created in the 24 hours before `now`.
    pub day: Option<u32>,
    pub now: DateTime<Utc>,
}

/// What an inviter has used of their limits, counted from the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub open: u32,
    pub day: u32,
}

/// How many of the invites asked for fit, and the limit that stopped the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admission {
    pub admitted: usize,
    /// The limit reached, e.g. `open invites: 5 of 5`.
    pub refused_by: Option<String>,
}

/// The answer to keep under a user's key. `answer` gets what the quota let
/// through (a bulk create's answer depends on it) and gives the sealed body.
pub struct Receipt {
    pub user_id: String,
    pub key: String,
    pub fingerprint: Vec<u8>,
    pub status: u16,
    pub at: DateTime<Utc>,
    pub answer: Box<dyn Fn(&Admission) -> String + Send + Sync>,
}

/// Counts an inviter's open invites and the day's, from the `Created` events
/// they wrote and what happened to those invites since. An invite past its
/// `expiresAt` counts as expired, whether or not `Expired` is recorded yet.
pub async fn usage(
    conn: &mut PgConnection,
    inviter_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Usage> {
    static USAGE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH mine AS (
                 SELECT aggregate_id,
                        ({max_uses})::bigint AS max_uses,
                        coalesce(({infinity})::boolean, false) AS infinity_max_uses,
                        ({expires_at})::timestamptz AS expires_at,
                        ({created_at})::timestamptz AS created_at
                   FROM events
                  WHERE ledger_actor(aggregate_type, aggregate_id, payload) = $1
                    AND aggregate_type = 'invite' AND event_type = 'Created')
             SELECT count(*) FILTER (
                        WHERE NOT ({expired})
                          AND NOT EXISTS (
                              SELECT 1 FROM events c
                               WHERE c.aggregate_type = 'invite'
                                 AND c.aggregate_id = mine.aggregate_id
                                 AND c.event_type IN ({closing}))
                          AND (infinity_max_uses
                               OR (SELECT count(*) FROM events u
                                    WHERE u.aggregate_type = 'invite'
                                      AND u.aggregate_id = mine.aggregate_id
                                      AND u.event_type = 'Used') < max_uses)),
                    count(*) FILTER (WHERE created_at > $2 - interval '24 hours')
               FROM mine",
            max_uses = stored::field_sql(None, stored::CREATED_MAX_USES),
            infinity = stored::field_sql(None, stored::CREATED_INFINITY_MAX_USES),
            expires_at = stored::field_sql(None, stored::CREATED_EXPIRES_AT),
            created_at = stored::field_sql(None, stored::CREATED_AT),
            expired = closing::expired_sql("expires_at", "$2"),
            closing = closing::closing_events_sql(),
        )
    });
    let (open, day): (i64, i64) = sqlx::query_as(&USAGE)
        .bind(inviter_id)
        .bind(now)
        .fetch_one(conn)
        .await?;
    Ok(Usage {
        open: open as u32,
        day: day as u32,
    })
}

/// Takes the inviter's turn (until the transaction ends), then tells how many
/// of `wanted` new invites fit. The count runs after the lock is held, so it
/// sees every invite a previous holder committed.
pub async fn admit(
    tx: &mut Transaction<'_, Postgres>,
    quota: &Quota,
    wanted: usize,
) -> sqlx::Result<Admission> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(QUOTA_LOCK_SPACE)
        .bind(&quota.inviter_id)
        .execute(&mut **tx)
        .await?;
    let used = usage(tx, &quota.inviter_id, quota.now).await?;
    Ok(fit(quota, used, wanted))
}

/// The admission of `wanted` invites on top of `used`.
pub fn fit(quota: &Quota, used: Usage, wanted: usize) -> Admission {
    let mut admission = Admission {
        admitted: wanted,
        refused_by: None,
    };
    for (name, limit, used) in [
        ("open invites", quota.open, used.open),
        ("invites in 24 hours", quota.day, used.day),
    ] {
        let Some(limit) = limit else { continue };
        let left = limit.saturating_sub(used) as usize;
        if left < admission.admitted {
            admission.admitted = left;
            // What the refused ones meet: the count with this request's admitted ones.
            let now = used.min(limit) as usize + left;
            admission.refused_by = Some(match left {
                0 => format!("{name}: {now} of {limit}"),
                _ => format!("{name}: {now} of {limit}, {left} of them from this request"),
            });
        }
    }
    admission
}

/// Writes the receipt; `false` when a live receipt already holds this key (a
/// twin request got there first), in which case the caller rolls back.
pub async fn write_receipt(
    tx: &mut Transaction<'_, Postgres>,
    receipt: &Receipt,
    admission: &Admission,
) -> sqlx::Result<bool> {
    let stored = sqlx::query(
        "INSERT INTO idempotency_receipt
             (user_id, key, fingerprint, status, answer, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (user_id, key) DO UPDATE
            SET fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
                answer = EXCLUDED.answer, created_at = EXCLUDED.created_at
          WHERE idempotency_receipt.created_at <= EXCLUDED.created_at - $7::interval",
    )
    .bind(&receipt.user_id)
    .bind(&receipt.key)
    .bind(&receipt.fingerprint)
    .bind(receipt.status as i16)
    .bind((receipt.answer)(admission))
    .bind(receipt.at)
    .bind(format!("{} seconds", RECEIPT_LIFETIME.num_seconds()))
    .execute(&mut **tx)
    .await?;
    Ok(stored.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quota(open: Option<u32>, day: Option<u32>) -> Quota {
        Quota {
            inviter_id: "u".into(),
            open,
            day,
            now: Utc::now(),
        }
    }

    #[test]
    fn the_tightest_limit_admits_and_names_itself() {
        let used = Usage { open: 3, day: 19 };
        let both = quota(Some(5), Some(20));
        assert_eq!(
            fit(&both, used, 1),
            Admission {
                admitted: 1,
                refused_by: None
            }
        );
        let admission = fit(&both, used, 10);
        assert_eq!(admission.admitted, 1);
        assert_eq!(
            admission.refused_by.as_deref(),
            Some("invites in 24 hours: 20 of 20, 1 of them from this request")
        );
        let full = fit(&quota(Some(3), None), used, 1);
        assert_eq!(full.admitted, 0);
        assert_eq!(full.refused_by.as_deref(), Some("open invites: 3 of 3"));
        assert_eq!(fit(&quota(None, None), used, 1000).admitted, 1000);
    }
}
