//! The catch-up reader: events in global order, never past a running transaction.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::person_keys;
use super::personal;
use super::Position;
use crate::domain::{invite, organization, user};

// Events are read in batches and dropped; boxing invite events would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerEvent {
    Invite(invite::InviteEvent),
    User(user::UserEvent),
    Organization(organization::OrganizationEvent),
}

impl LedgerEvent {
    /// `(aggregate type, event type, fields)` as the outside world sees the event:
    /// secrets (a sealed token, a password hash) removed.
    pub fn public_json(&self) -> (&'static str, String, serde_json::Value) {
        use cqrs_es::DomainEvent;
        let (aggregate_type, event_type, event) = match self {
            LedgerEvent::Invite(e) => (
                invite::AGGREGATE_TYPE,
                e.event_type(),
                serde_json::to_value(e),
            ),
            LedgerEvent::User(e) => (
                user::AGGREGATE_TYPE,
                e.event_type(),
                serde_json::to_value(e),
            ),
            LedgerEvent::Organization(e) => (
                organization::AGGREGATE_TYPE,
                e.event_type(),
                serde_json::to_value(e),
            ),
        };
        let mut event = event.expect("events serialize");
        for secret in ["/Created/terms", "/Registered"] {
            if let Some(fields) = event
                .pointer_mut(secret)
                .and_then(serde_json::Value::as_object_mut)
            {
                fields.remove("sealed_token");
                fields.remove("password_hash");
            }
        }
        (aggregate_type, event_type, event)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: Position,
    pub aggregate_id: String,
    pub sequence: i64,
    pub recorded_at: DateTime<Utc>,
    pub event: LedgerEvent,
}

/// Up to `limit` events after `after`, in (transaction id, position) order, taking
/// only transactions older than every one of this database still running: a later one may
/// still commit events that sort before ones already visible.
pub async fn read_batch(
    conn: &mut PgConnection,
    after: Position,
    limit: i64,
) -> anyhow::Result<Vec<RecordedEvent>> {
    let rows = fetch_batch(conn, after, limit).await?;
    decode_rows(conn, &rows).await
}

/// `read_batch` without decoding: the rows, for readers that decode elsewhere.
pub async fn fetch_batch(
    conn: &mut PgConnection,
    after: Position,
    limit: i64,
) -> sqlx::Result<Vec<PgRow>> {
    static NEXT_BATCH: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {RECORDED_COLUMNS}
               FROM events
              WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
                AND transaction_id < ledger_read_horizon()
              ORDER BY transaction_id, global_position
              LIMIT $3"
        )
    });
    sqlx::query(&NEXT_BATCH)
        .bind(after.xid.to_string())
        .bind(after.global)
        .bind(limit)
        .fetch_all(conn)
        .await
}

/// The events at these positions, in global order.
pub async fn read_positions(
    conn: &mut PgConnection,
    positions: &[Position],
) -> anyhow::Result<Vec<RecordedEvent>> {
    static AT_POSITIONS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {RECORDED_COLUMNS}
               FROM events
              WHERE (transaction_id, global_position) IN (
                    SELECT xid::text::xid8, position
                      FROM unnest($1::bigint[], $2::bigint[]) AS p(xid, position))
              ORDER BY transaction_id, global_position"
        )
    });
    let xids: Vec<i64> = positions.iter().map(|p| p.xid).collect();
    let globals: Vec<i64> = positions.iter().map(|p| p.global).collect();
    let rows = sqlx::query(&AT_POSITIONS)
        .bind(xids)
        .bind(globals)
        .fetch_all(&mut *conn)
        .await?;
    decode_rows(conn, &rows).await
}

/// The columns `decode_rows` reads, for other queries of the log.
pub const RECORDED_COLUMNS: &str = "transaction_id::text::bigint AS xid, global_position,
    aggregate_type, aggregate_id, sequence, recorded_at, event_type, event_version,
    payload::text AS payload";

/// The position of a row selected with `RECORDED_COLUMNS`.
pub fn position_of(row: &PgRow) -> Position {
    Position {
        xid: row.get("xid"),
        global: row.get("global_position"),
    }
}

/// Decodes rows selected with `RECORDED_COLUMNS`: the one place events are
/// loaded for reading. Events that may hold personal data are upcast (version
/// 1, before sealing), their persons' keys loaded in one query for the whole
/// batch, and their fields opened: plain text while a key exists, `[erased]`
/// once it is gone. Other events parse straight from the text.
pub async fn decode_rows(
    conn: &mut PgConnection,
    rows: &[PgRow],
) -> anyhow::Result<Vec<RecordedEvent>> {
    let mut personal_payloads: Vec<Option<serde_json::Value>> = Vec::with_capacity(rows.len());
    let mut persons = Vec::new();
    for row in rows {
        let event_type: &str = row.get("event_type");
        if !personal::has_personal_fields(event_type) {
            personal_payloads.push(None);
            continue;
        }
        let mut payload: serde_json::Value =
            serde_json::from_str(row.get("payload")).map_err(|e| undecodable(row, e.into()))?;
        if row.get::<&str, _>("event_version") == "1" {
            personal::upcast_payload(row.get("aggregate_id"), &mut payload);
        }
        personal::persons_in(&payload, &mut persons);
        personal_payloads.push(Some(payload));
    }
    persons.sort();
    persons.dedup();
    let keys = person_keys::keyring(conn, &persons).await?;
    rows.iter()
        .zip(personal_payloads)
        .map(|(row, payload)| {
            let aggregate_type: &str = row.get("aggregate_type");
            let event = match payload {
                None => decode(aggregate_type, row.get("payload")),
                Some(mut payload) => personal::open(&mut payload, &keys)
                    .and_then(|()| decode_value(aggregate_type, payload)),
            }
            .map_err(|e| undecodable(row, e))?;
            Ok(RecordedEvent {
                position: position_of(row),
                aggregate_id: row.get("aggregate_id"),
                sequence: row.get("sequence"),
                recorded_at: row.get("recorded_at"),
                event,
            })
        })
        .collect()
}

fn undecodable(row: &PgRow, error: anyhow::Error) -> anyhow::Error {
    let aggregate_type: &str = row.get("aggregate_type");
    anyhow::anyhow!(
        "event at {} ({aggregate_type}) does not decode: {error}",
        position_of(row)
    )
}

/// Events in the log after `after`, committed or not yet readable: a reader's lag.
pub async fn count_after(conn: &mut PgConnection, after: Position) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)",
    )
    .bind(after.xid.to_string())
    .bind(after.global)
    .fetch_one(conn)
    .await?)
}

fn decode_value(aggregate_type: &str, payload: serde_json::Value) -> anyhow::Result<LedgerEvent> {
    Ok(match aggregate_type {
        invite::AGGREGATE_TYPE => LedgerEvent::Invite(serde_json::from_value(payload)?),
        user::AGGREGATE_TYPE => LedgerEvent::User(serde_json::from_value(payload)?),
        organization::AGGREGATE_TYPE => LedgerEvent::Organization(serde_json::from_value(payload)?),
        other => anyhow::bail!("unknown aggregate type `{other}`"),
    })
}

fn decode(aggregate_type: &str, payload: &str) -> anyhow::Result<LedgerEvent> {
    Ok(match aggregate_type {
        invite::AGGREGATE_TYPE => LedgerEvent::Invite(serde_json::from_str(payload)?),
        user::AGGREGATE_TYPE => LedgerEvent::User(serde_json::from_str(payload)?),
        organization::AGGREGATE_TYPE => LedgerEvent::Organization(serde_json::from_str(payload)?),
        other => anyhow::bail!("unknown aggregate type `{other}`"),
    })
}
