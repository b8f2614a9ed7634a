//! What followers outside the service receive for one ledger event, secrets
//! removed (no sealed token, no password hash): the webhook's own body, or the
//! same data in a CloudEvents 1.0 JSON envelope (NATS always; webhooks with
//! `WEBHOOK_FORMAT=cloudevents`), so one consumer parses both.

use cloudevents::{EventBuilder, EventBuilderV10};
use serde_json::{json, Value};

use crate::ledger::{read_positions, views, EventView, Position, RecordedEvent};
use crate::reactors::Delivery;

/// The CloudEvents `source` of every event.
pub const SOURCE: &str = "invite-ledger";

/// An event on its way out: as the log holds it, and as readers see it.
pub struct Outgoing {
    pub recorded: RecordedEvent,
    pub view: EventView,
}

/// The event a delivery is for, read from the log when it is delivered (not
/// when planned): a delivery row keeps no personal data, and a person erased
/// in between is sent as `[erased]`.
pub async fn event_of(pool: &sqlx::PgPool, delivery: &Delivery) -> anyhow::Result<Outgoing> {
    let position = Position {
        xid: delivery.event_xid,
        global: delivery.event_position,
    };
    let mut conn = pool.acquire().await?;
    let recorded = read_positions(&mut conn, &[position])
        .await?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("the event at {position} is not in the log"))?;
    let view = views(&mut conn, std::slice::from_ref(&recorded))
        .await?
        .pop()
        .expect("one view per event");
    Ok(Outgoing { recorded, view })
}

/// What orders an ordered reactor's deliveries: one aggregate's events go out
/// in log order, each after the one before it.
pub fn ordering_key(recorded: &RecordedEvent) -> String {
    let (aggregate_type, _, _) = recorded.event.public_json();
    format!("{aggregate_type}:{}", recorded.aggregate_id)
}

/// `invite.used`: the aggregate type and the event, lower case.
pub fn event_type(recorded: &RecordedEvent) -> String {
    let (aggregate_type, event_type, _) = recorded.event.public_json();
    format!("{aggregate_type}.{}", event_type.to_lowercase())
}

/// The event as the audit API's feed shows it (`EventView`): `position`
/// (`transaction/position`), `globalPosition`, `aggregateType`, `aggregateId`,
/// `sequence`, `type`, `recordedAt` and `data` in camelCase, so a consumer
/// parses webhooks, NATS messages and `/api/ledger/events` alike.
pub fn data(event: &Outgoing) -> Value {
    serde_json::to_value(&event.view).expect("an event view serializes")
}

/// The webhook's standard body: `{type, timestamp, data}`.
pub fn standard(event: &Outgoing) -> Value {
    json!({
        "type": event_type(&event.recorded),
        "timestamp": crate::json_time::format(&event.recorded.recorded_at),
        "data": data(event),
    })
}

/// A CloudEvents 1.0 structured-mode JSON event: `id` is the log position (as
/// NATS' `Nats-Msg-Id` and the webhook's `evt_<position>`), `type`
/// `invite-ledger.invite.used`, `subject` the `aggregateId` (an invite's or a
/// user's id), `data` as above, and the extensions `ledgerposition` and
/// `ledgersequence`.
pub fn cloudevent(event: &Outgoing) -> anyhow::Result<Value> {
    let recorded = &event.recorded;
    let built = EventBuilderV10::new()
        .id(recorded.position.global.to_string())
        .source(SOURCE)
        .ty(format!("{SOURCE}.{}", event_type(recorded)))
        .subject(event.view.aggregate_id.clone())
        .time(recorded.recorded_at)
        .extension("ledgerposition", recorded.position.global)
        .extension("ledgersequence", recorded.sequence)
        .data("application/json", data(event))
        .build()?;
    Ok(serde_json::to_value(built)?)
}
