//! The audit API's answers about the log itself: the feed in global order, a
//! page at a time or exported, and the same feed followed live.

use std::time::Duration;

use axum::response::Response;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::as_of::At;
use super::export::{self, Format};
use super::feed::{self, EventFilter};
use super::invites;
use super::standby;
use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::{decode_rows, read_batch, views, EventView, Position};

/// How many events a live follower reads at a time.
const FOLLOW_BATCH: i64 = 100;
/// How often an idle live follower looks for new events (it is also woken by
/// this server's own appends).
const FOLLOW_POLL: Duration = Duration::from_millis(250);

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedPage {
    pub events: Vec<EventView>,
    /// Pass as `after` for the next page (the last event's position, or the
    /// `after` given when there was nothing new).
    pub next: String,
}

/// The feed's filters as asked for, before they are checked.
pub struct FeedAsked<'a> {
    pub actor: Option<&'a str>,
    /// Event types, each maybe a comma list.
    pub types: &'a [String],
    /// A user id, an invite's id, or an aggregate id.
    pub aggregate: Option<&'a str>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// The log as it stood then.
    pub as_of: Option<DateTime<Utc>>,
}

fn invalid(message: impl Into<String>) -> ServiceError {
    ServiceError::bad_request("VALIDATION_ERROR", message)
}

/// Where a page starts: after the position `transaction/position`, or after
/// the event whose `globalPosition` is a bare number (the form `/uses` and
/// older cursors carry), looked up in the log.
pub async fn position_after(
    context: &Context,
    after: Option<&str>,
) -> Result<Position, ServiceError> {
    let invalid = |message: String| ServiceError::bad_request("INVALID_POSITION", message);
    let Some(a) = after.filter(|a| !a.is_empty()) else {
        return Ok(Position::default());
    };
    let position = match a.parse::<i64>() {
        Ok(0) => Position::default(),
        Ok(global) if global > 0 => {
            let mut conn = context.pool.acquire().await?;
            let found = Position::of_global(&mut conn, global).await?;
            found.ok_or_else(|| invalid(format!("No event has globalPosition {global}")))?
        }
        Ok(_) => Position {
            xid: -1,
            global: -1,
        },
        Err(_) => a.parse().map_err(invalid)?,
    };
    // Positions start at zero: a negative one would page forever past nothing.
    if position.xid < 0 || position.global < 0 {
        return Err(invalid("A log position is never negative".into()));
    }
    Ok(position)
}

/// The filter, checked; an invite's id becomes its aggregate id too.
pub async fn event_filter(
    context: &Context,
    asked: FeedAsked<'_>,
) -> Result<EventFilter, ServiceError> {
    let types: Vec<String> = asked
        .types
        .iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    if let Some(unknown) = types
        .iter()
        .find(|t| !feed::EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(invalid(format!(
            "`{unknown}` is not an event type ({})",
            feed::EVENT_TYPES.join(", ")
        )));
    }
    if let (Some(from), Some(to)) = (asked.from, asked.to) {
        if from > to {
            return Err(invalid("from must not be after to"));
        }
    }
    let aggregates = match asked.aggregate {
        None => None,
        Some(id) => {
            let mut ids = vec![id.to_string()];
            if let Ok(invite_id) = id.parse::<Uuid>() {
                let mut conn = context.pool.acquire().await?;
                let now = At::Now(context.clock.now());
                if let Some(invite) = invites::by_id(&mut conn, now, invite_id).await? {
                    ids.push(invite.token_hash);
                }
            }
            Some(ids)
        }
    };
    let until = asked
        .as_of
        .map(|asked| At::asked(asked).map(At::moment))
        .transpose()?;
    Ok(EventFilter {
        actor: asked.actor.map(str::to_string),
        until,
        types,
        aggregates,
        from: asked.from,
        to: asked.to,
        settled: context
            .progress
            .checkpoints()
            .into_iter()
            .map(|(_, position)| position)
            .min()
            .unwrap_or_default(),
    })
}

/// Where the feed reads: a standby that has replayed what the caller has seen
/// and, for the log as of a moment, that moment's last event.
async fn connection(
    context: &Context,
    seen: Option<Position>,
    filter: &EventFilter,
) -> sqlx::Result<(sqlx::pool::PoolConnection<sqlx::Postgres>, bool)> {
    match filter.until {
        Some(moment) => standby::connection_until(context, seen, moment).await,
        None => standby::connection(context, seen).await,
    }
}

/// A page of the filtered feed after `after`.
pub async fn event_page(
    context: &Context,
    seen: Option<Position>,
    filter: &EventFilter,
    after: Position,
    limit: i64,
) -> Result<FeedPage, ServiceError> {
    let (mut conn, _) = connection(context, seen, filter).await?;
    let events = feed::filtered(&mut conn, filter, after, limit).await?;
    let next = events.last().map(|e| e.position).unwrap_or(after);
    Ok(FeedPage {
        events: views(&mut conn, &events).await?,
        next: next.to_string(),
    })
}

/// Every event of the filtered feed after `after`, as CSV or NDJSON.
pub async fn export_events(
    context: &Context,
    seen: Option<Position>,
    filter: &EventFilter,
    after: Position,
    format: Format,
) -> Result<Response, ServiceError> {
    let (conn, _) = connection(context, seen, filter).await?;
    let query = feed::filtered_query(filter, after, None)?;
    let columns = export::columns::<EventView>(&[
        "position",
        "globalPosition",
        "aggregateType",
        "aggregateId",
        "sequence",
        "type",
        "recordedAt",
        "data",
    ]);
    let pool = context.pool.clone();
    Ok(export::respond_in_batches(
        conn,
        query,
        format,
        "events",
        columns,
        move |rows| {
            let pool = pool.clone();
            async move {
                let mut keys = pool.acquire().await?;
                let events = decode_rows(&mut keys, &rows).await?;
                Ok(views(&mut keys, &events).await?)
            }
        },
    ))
}

/// Every event after `after`, then each new one as it is recorded, for as long
/// as the caller reads. A read error ends the stream: a follower resumes
/// after the last event it received and loses nothing.
pub fn follow(context: Context, after: Position) -> impl Stream<Item = EventView> {
    futures_util::stream::unfold(
        (context, after, Vec::<EventView>::new().into_iter()),
        |(context, mut after, mut pending)| async move {
            loop {
                if let Some(event) = pending.next() {
                    return Some((event, (context, after, pending)));
                }
                let mut appended = context.ledger.appended();
                appended.mark_unchanged();
                let batch = match context.pool.acquire().await {
                    Ok(mut conn) => read_views(&mut conn, after).await,
                    Err(e) => Err(e.into()),
                };
                match batch {
                    Ok((events, last)) if !events.is_empty() => {
                        after = last;
                        pending = events.into_iter();
                    }
                    Ok(_) => {
                        tokio::select! {
                            _ = appended.changed() => {}
                            _ = tokio::time::sleep(FOLLOW_POLL) => {}
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "event stream ends on a read error");
                        return None;
                    }
                }
            }
        },
    )
}

/// The next batch after `after` as views, and the position of its last event.
async fn read_views(
    conn: &mut sqlx::PgConnection,
    after: Position,
) -> anyhow::Result<(Vec<EventView>, Position)> {
    let events = read_batch(conn, after, FOLLOW_BATCH).await?;
    let last = events.last().map(|e| e.position).unwrap_or(after);
    Ok((views(conn, &events).await?, last))
}
