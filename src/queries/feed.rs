//! The log as the audit API shows it: every event with its place and time.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use super::export::Query;
use crate::ledger::{decode_rows, EventView, Position, RecordedEvent, RECORDED_COLUMNS};

pub use crate::ledger::EVENT_TYPES;

/// One aggregate's events in order, recorded at or before `until` if given.
pub async fn of_aggregate(
    conn: &mut PgConnection,
    aggregate_type: &str,
    aggregate_id: &str,
    until: Option<DateTime<Utc>>,
) -> anyhow::Result<Vec<EventView>> {
    let rows = sqlx::query(&format!(
        "SELECT {RECORDED_COLUMNS} FROM events
          WHERE aggregate_type = $1 AND aggregate_id = $2
            AND ($3::timestamptz IS NULL OR recorded_at <= $3)
          ORDER BY sequence"
    ))
    .bind(aggregate_type)
    .bind(aggregate_id)
    .bind(until)
    .fetch_all(&mut *conn)
    .await?;
    let events = decode_rows(conn, &rows).await?;
    Ok(crate::ledger::views(conn, &events).await?)
}

/// Which events of the feed to show; every field narrows it.
#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// The user who acted (see migration 0008's `ledger_actor`).
    pub actor: Option<String>,
    /// Any of these event types; all when empty.
    pub types: Vec<String>,
    /// Any of these aggregate ids; all when `None`.
    pub aggregates: Option<Vec<String>>,
    /// Recorded at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before this time.
    pub to: Option<DateTime<Utc>>,
    /// Recorded at or before this time (`as_of`, already taken to the end of
    /// its millisecond).
    pub until: Option<DateTime<Utc>>,
    /// Where every read model has got to. Events up to it are shown whatever
    /// the read horizon says: the horizon may dip for a moment (a transaction
    /// it cannot place counts as running), but every transaction older than
    /// an applied event has ended.
    pub settled: Position,
}

/// The feed's query after `after` in global order, below the read horizon (as
/// `read_batch` reads) or up to where the read models have got, for a page (`limit`) or an export (every event). The
/// horizon is a sub-select so that it is worked out once, not once per row.
pub fn filtered_query(
    filter: &EventFilter,
    after: Position,
    limit: Option<i64>,
) -> anyhow::Result<Query> {
    Query::new(format!(
        "SELECT {RECORDED_COLUMNS}
           FROM events
          WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
            AND ((transaction_id, global_position) <= ($9::text::xid8, $10)
                 OR transaction_id < (SELECT ledger_read_horizon()))
            AND ($3::text IS NULL OR ledger_actor(aggregate_type, aggregate_id, payload) = $3)
            AND (cardinality($4::text[]) = 0 OR event_type = ANY($4))
            AND ($5::text[] IS NULL OR aggregate_id = ANY($5))
            AND ($6::timestamptz IS NULL OR recorded_at >= $6)
            AND ($7::timestamptz IS NULL OR recorded_at < $7)
            AND ($11::timestamptz IS NULL OR recorded_at <= $11)
          ORDER BY transaction_id, global_position
          LIMIT $8"
    ))
    .bind(after.xid.to_string())?
    .bind(after.global)?
    .bind(filter.actor.clone())?
    .bind(filter.types.clone())?
    .bind(filter.aggregates.clone())?
    .bind(filter.from)?
    .bind(filter.to)?
    .bind(limit)?
    .bind(filter.settled.xid.to_string())?
    .bind(filter.settled.global)?
    .bind(filter.until)
}

/// A page of the filtered feed.
pub async fn filtered(
    conn: &mut PgConnection,
    filter: &EventFilter,
    after: Position,
    limit: i64,
) -> anyhow::Result<Vec<RecordedEvent>> {
    let query = filtered_query(filter, after, Some(limit))?;
    let rows = sqlx::query_with(&query.sql, query.args)
        .persistent(false)
        .fetch_all(&mut *conn)
        .await?;
    decode_rows(conn, &rows).await
}
