//! The log as the audit API shows it: every event with its place and time.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use crate::ledger::{recorded_from_row, RecordedEvent, RECORDED_COLUMNS};

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
    /// `Created`, `Activated`, `Used`, `Cancelled`, `Rejected`, `Expired`,
    /// `Registered` or `RoleSet`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// When the ledger recorded it (what `as_of` compares with).
    #[serde(serialize_with = "crate::json_time::serialize")]
    pub recorded_at: DateTime<Utc>,
    /// The event's fields; secrets (password hashes, sealed tokens) are left out.
    pub data: Value,
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
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| recorded_from_row(row).map(|e| EventView::from(&e)))
        .collect()
}
