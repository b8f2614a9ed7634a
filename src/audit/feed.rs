//! The log as the audit API shows it: every event with its place and time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use super::export::Query;
use crate::ledger::{decode_rows, Position, RecordedEvent, RECORDED_COLUMNS};

/// One event of the log.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// The place in the global order, `transaction/position`: pass it as `after`
    /// (or `Last-Event-ID`) to continue right after this event.
    pub position: String,
    pub global_position: i64,
    /// `invite` (keyed by the hash of its token) or `user`.
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    /// The event's type: one of `EVENT_TYPES`.
    #[serde(rename = "type")]
    #[schema(schema_with = event_type_schema)]
    pub event_type: String,
    /// When the ledger recorded it (what `as_of` compares with).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    /// The event's fields, in camelCase; secrets (password hashes, sealed tokens)
    /// are left out.
    #[schema(value_type = Object)]
    pub data: Value,
}

/// `type` in the OpenAPI document: a string that is one of `EVENT_TYPES`.
fn event_type_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .description(Some(
            "The event's type: invites' `Created`, `Activated`, `Used`, `Cancelled`, \
             `Rejected`, `Expired`, `Resent`, `Refused`, `SeatReserved`, `SeatReleased`; users' `Registered`, `Introduced`, `RoleSet`, `Erased`",
        ))
        .enum_values(Some(EVENT_TYPES.iter().copied()))
        .build()
}

impl From<&RecordedEvent> for EventView {
    fn from(recorded: &RecordedEvent) -> Self {
        let (aggregate_type, event_type, tagged) = recorded.event.public_json();
        // Events serialize as `{"Type": {fields}}`: the fields are the data,
        // named in camelCase like every other field of our answers.
        let data = match tagged {
            Value::Object(map) => map.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
            other => other,
        };
        let data = camel_case_keys(data);
        EventView {
            position: recorded.position.to_string(),
            global_position: recorded.position.global,
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: recorded.aggregate_id.clone(),
            sequence: recorded.sequence,
            event_type,
            recorded_at: recorded.recorded_at,
            data,
        }
    }
}

/// `value` with every object key in camelCase (events are stored with the
/// Rust field names, in snake_case).
fn camel_case_keys(value: Value) -> Value {
    use heck::ToLowerCamelCase;
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_lower_camel_case(), camel_case_keys(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_keys).collect()),
        other => other,
    }
}

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
    Ok(decode_rows(conn, &rows)
        .await?
        .iter()
        .map(EventView::from)
        .collect())
}

/// Every event type the log holds, for checking the feed's `type` filter.
pub const EVENT_TYPES: &[&str] = &[
    "Created",
    "Activated",
    "Used",
    "Cancelled",
    "Rejected",
    "Expired",
    "Resent",
    "Registered",
    "RoleSet",
    "Refused",
    "Erased",
    "Introduced",
    "SeatReserved",
    "SeatReleased",
];

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
    .bind(filter.settled.global)
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
