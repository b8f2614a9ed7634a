//! Invite histories written straight into the log, in bulk, as the server
//! writes them: event version 2, every personal field sealed under its
//! person's key by the ledger's own `SealingKeys`. PostgreSQL generates the
//! plain events (in exactly the JSON the event enums serialize to:
//! `check_format` proves it); they are sealed here and inserted in chunks.
//!
//! Invitee `i` has four events: its invite's `Created` and `Activated`, its
//! account's `Registered`, then the invite's `Used`. One invitee in ten (`i`
//! ending in 7) was later made an admin and then a user again: two `RoleSet`
//! events by the bench's admin. Invitees form trees of a
//! thousand accounts: invitee `i` (not a multiple of 1,000) was invited by
//! invitee `i - 1` when `i` is odd and `i - 2` when even, so each tree is a
//! spine of even invitees, each with one odd invitee beside the next. Invite `i` is keyed by the
//! hash of the token `bench-token-{i}`; user `i` signs in with the session token
//! `bench-session-{i}` once `add_sessions` has run.

use cqrs_es::persist::SerializedEvent;
use serde_json::Value;
use sqlx::{PgPool, Row};

use invite_ledger::ledger::person_keys::SealingKeys;
use invite_ledger::ledger::personal::EVENT_VERSION;
use invite_ledger::ledger::{read_batch, LedgerEvent, Position};

/// Events of ten invitees: four each, and two role changes for one of them.
const EVENTS_PER_TEN_INVITEES: u64 = 42;
/// Invitees per chunk: each chunk is sealed in memory and inserted in one statement.
const CHUNK: u64 = 10_000;

/// How many events the histories of invitees `0..invitees` hold.
pub fn events_of(invitees: u64) -> u64 {
    4 * invitees + (invitees + 2) / 10
}

/// How many invitees' histories make about `events` events.
pub fn invitees_for(events: u64) -> u64 {
    events * 10 / EVENTS_PER_TEN_INVITEES
}

const HISTORIES: &str = r#"
SELECT e.aggregate_type, e.aggregate_id, e.sequence, e.event_type, e.payload::text AS payload
  FROM generate_series($1::bigint, $2::bigint) AS i
 CROSS JOIN LATERAL (SELECT
        encode(sha256(convert_to('bench-token-' || i, 'UTF8')), 'hex') AS invite_key,
        md5('bench-invite-' || i)::uuid::text AS invite_id,
        md5('bench-user-' || i)::uuid::text AS user_id,
        'invitee' || i || '@bench.example' AS email,
        CASE WHEN i % 1000 = 0 THEN 'bench-admin'
             ELSE md5('bench-user-' || (i - 1 - (1 - i % 2)))::uuid::text END AS inviter_id,
        to_char((timestamptz '2026-03-01 09:00:00+00' + i * interval '1 second')
                AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS at,
        to_char((timestamptz '2036-03-01 09:00:00+00' + i * interval '1 second')
                AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS expires_at) AS v
 CROSS JOIN LATERAL (VALUES
    (1, 'invite', v.invite_key, 1, 'Created', json_build_object('Created', json_build_object(
        'terms', json_build_object(
            'invite_id', v.invite_id, 'token_type', 'token', 'role', 'user', 'email', NULL,
            'new_account', true, 'max_uses', 1, 'expires_at', v.expires_at,
            'redirect_to_sign_up', '/auth/sign-up', 'redirect_to_sign_in', '/auth/sign-in',
            'redirect_to_after_upgrade', '/auth/invited', 'share_inviter_name', true,
            'sender_response_redirect', 'signUp'),
        'inviter_id', v.inviter_id, 'inviter_name', 'Bench Admin',
        'inviter_email', 'admin@bench.example', 'inviter_role', 'admin', 'at', v.at))),
    (2, 'invite', v.invite_key, 2, 'Activated', json_build_object('Activated', json_build_object(
        'by_user_id', NULL, 'at', v.at))),
    (3, 'user', v.user_id, 1, 'Registered', json_build_object('Registered', json_build_object(
        'email', v.email, 'name', 'Bench Invitee', 'role', 'user',
        'at', v.at))),
    (4, 'invite', v.invite_key, 3, 'Used', json_build_object('Used', json_build_object(
        'invite_id', v.invite_id, 'inviter_id', v.inviter_id, 'user_id', v.user_id,
        'user_email', v.email, 'role_before', 'user', 'role_after', 'user',
        'new_account', true, 'at', v.at))),
    (5, 'user', v.user_id, 2, 'RoleSet', json_build_object('RoleSet', json_build_object(
        'role_before', 'user', 'role', 'admin', 'by_user_id', 'bench-admin', 'at', v.at))),
    (6, 'user', v.user_id, 3, 'RoleSet', json_build_object('RoleSet', json_build_object(
        'role_before', 'admin', 'role', 'user', 'by_user_id', 'bench-admin', 'at', v.at)))
 ) AS e(k, aggregate_type, aggregate_id, sequence, event_type, payload)
 WHERE e.k <= 4 OR i % 10 = 7
 ORDER BY i, e.k
"#;

/// Every account's password hash, beside the log (never in it).
const INSERT_PASSWORDS: &str = r#"
INSERT INTO password (user_id, hash, set_at)
SELECT md5('bench-user-' || i)::uuid::text, $3, timestamptz '2026-03-01 09:00:00+00'
  FROM generate_series($1::bigint, $2::bigint) AS i
    ON CONFLICT (user_id) DO NOTHING
"#;

const INSERT_EVENTS: &str = r#"
INSERT INTO events
    (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
SELECT a, i, s, t, $5, p::json, '{}'
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $6::text[])
       AS e(a, i, s, t, p)
"#;

/// The plain events of invitees `first..=last`, in log order.
async fn plain_histories(
    pool: &PgPool,
    first: u64,
    last: u64,
) -> anyhow::Result<Vec<SerializedEvent>> {
    let rows = sqlx::query(HISTORIES)
        .bind(first as i64)
        .bind(last as i64)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(SerializedEvent {
                aggregate_type: row.get("aggregate_type"),
                aggregate_id: row.get("aggregate_id"),
                sequence: row.get::<i32, _>("sequence") as usize,
                event_type: row.get("event_type"),
                event_version: EVENT_VERSION.to_string(),
                payload: serde_json::from_str(row.get("payload"))?,
                metadata: Value::Object(Default::default()),
            })
        })
        .collect()
}

/// Appends the histories of invitees `first..first + count`, sealed, in
/// chunks of one statement each. `password_hash` is stored for every account.
pub async fn append(
    pool: &PgPool,
    first: u64,
    count: u64,
    password_hash: &str,
) -> anyhow::Result<()> {
    let keys = SealingKeys::new(pool.clone());
    let end = first + count;
    let mut from = first;
    while from < end {
        let to = (from + CHUNK).min(end);
        let mut events = plain_histories(pool, from, to - 1).await?;
        keys.seal(&mut events).await?;
        let column = |f: fn(&SerializedEvent) -> String| events.iter().map(f).collect::<Vec<_>>();
        sqlx::query(INSERT_EVENTS)
            .bind(column(|e| e.aggregate_type.clone()))
            .bind(column(|e| e.aggregate_id.clone()))
            .bind(events.iter().map(|e| e.sequence as i64).collect::<Vec<_>>())
            .bind(column(|e| e.event_type.clone()))
            .bind(EVENT_VERSION)
            .bind(column(|e| e.payload.to_string()))
            .execute(pool)
            .await?;
        sqlx::query(INSERT_PASSWORDS)
            .bind(from as i64)
            .bind(to as i64 - 1)
            .bind(password_hash)
            .execute(pool)
            .await?;
        from = to;
    }
    Ok(())
}

/// Signs in invitees `first..first + count`: invitee `i` gets the session token
/// `bench-session-{i}`.
pub async fn add_sessions(pool: &PgPool, first: u64, count: u64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO session (id, token_hash, user_id, created_at, expires_at)
         SELECT md5('bench-session-' || i)::uuid,
                encode(sha256(convert_to('bench-session-' || i, 'UTF8')), 'hex'),
                md5('bench-user-' || i)::uuid::text, now(), now() + interval '1 day'
           FROM generate_series($1::bigint, $2::bigint) AS i",
    )
    .bind(first as i64)
    .bind((first + count) as i64 - 1)
    .execute(pool)
    .await?;
    Ok(())
}

pub fn session_token(invitee: u64) -> String {
    format!("bench-session-{invitee}")
}

/// Waits until readers may take every event: they stop below the oldest
/// transaction of this database still running (`ledger_read_horizon`).
pub async fn wait_visible(pool: &PgPool) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        let hidden: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM events
              WHERE transaction_id >= ledger_read_horizon()",
        )
        .fetch_one(pool)
        .await?;
        if hidden == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "{hidden} events stay behind a long-running transaction on the server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Fails unless the log's first events (ten invitees', role changes
/// included) are sealed and decode into the event enums that encode back into
/// the very JSON generated: no field misnamed, none left to a default, none
/// left plain.
pub async fn check_format(pool: &PgPool) -> anyhow::Result<()> {
    let plain = plain_histories(pool, 0, 9).await?;
    let mut conn = pool.acquire().await?;
    let events = read_batch(&mut conn, Position::default(), plain.len() as i64).await?;
    anyhow::ensure!(
        events.len() == plain.len(),
        "expected {} events in the log, found {}",
        plain.len(),
        events.len()
    );
    for (event, generated) in events.iter().zip(&plain) {
        let (version, stored): (String, String) = sqlx::query_as(
            "SELECT event_version, payload::text FROM events WHERE global_position = $1",
        )
        .bind(event.position.global)
        .fetch_one(&mut *conn)
        .await?;
        anyhow::ensure!(version == EVENT_VERSION, "an event of version {version}");
        anyhow::ensure!(
            !stored.contains("@bench.example") && !stored.contains("Bench Invitee"),
            "a personal field left plain: {stored}"
        );
        let encoded = match &event.event {
            LedgerEvent::Invite(e) => serde_json::to_value(e)?,
            LedgerEvent::User(e) => serde_json::to_value(e)?,
            LedgerEvent::Organization(e) => serde_json::to_value(e)?,
        };
        anyhow::ensure!(
            encoded == generated.payload,
            "generated event differs from its serialization:\n generated {}\n encoded   {encoded}",
            generated.payload
        );
    }
    Ok(())
}
