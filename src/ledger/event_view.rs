//! One recorded event as every reader outside the service sees it (the audit
//! API, webhooks, NATS): its place and time, and its data in camelCase with
//! secrets left out.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::RecordedEvent;

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
    "PasswordResetRequested",
    "PasswordSet",
    "SessionsRevoked",
    "ProfileUpdated",
    "VerificationEmailRequested",
    "EmailVerified",
    "EmailChanged",
    "Banned",
    "Unbanned",
];

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
             `Rejected`, `Expired`, `Resent`, `Refused`, `SeatReserved`, `SeatReleased`; users' `Registered`, `Introduced`, `RoleSet`, `Erased`, `PasswordResetRequested`, `PasswordSet`, `SessionsRevoked`, `ProfileUpdated`, `VerificationEmailRequested`, `EmailVerified`, `EmailChanged`, `Banned`, `Unbanned`",
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
