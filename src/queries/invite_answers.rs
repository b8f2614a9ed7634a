//! The audit API's answers about invites: pages and exports of invites and of
//! their uses, one invite now or as it stood, and one invite's events.

use std::borrow::Cow;

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;
use uuid::Uuid;

use super::as_of::At;
use super::export::{self, Format};
use super::feed;
use super::invites::{self, InviteFilter, UseFilter};
use super::source::{Reflects, Source};
use super::standby;
use super::use_view::{self, UseView};
use crate::context::Context;
use crate::domain::invite::AGGREGATE_TYPE as INVITE;
use crate::error::ServiceError;
use crate::ledger::{EventView, Position};
use crate::projections::invite::InviteRow;
use crate::projections::invite_use::InviteUseRow;
use crate::projections::row::Row;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitePage {
    pub invites: Vec<InviteRow>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteAnswer {
    pub invite: InviteRow,
    #[serde(flatten)]
    pub reflects: Reflects,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventList {
    pub events: Vec<EventView>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsePage {
    pub uses: Vec<UseView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

fn invite_missing() -> ServiceError {
    ServiceError::NotFound {
        code: "INVITE_NOT_FOUND",
        message: Cow::Borrowed("No invite has this id"),
    }
}

/// A role no one can hold is a mistake, in a page and an export alike.
pub fn check_role_filter(context: &Context, filter: &InviteFilter) -> Result<(), ServiceError> {
    let Some(role) = filter.role.as_deref() else {
        return Ok(());
    };
    if context.settings.roles.is_configured(role) {
        return Ok(());
    }
    Err(ServiceError::bad_request(
        "VALIDATION_ERROR",
        format!(
            "role: `{}` is not a configured role ({})",
            role.chars().take(40).collect::<String>(),
            context.settings.roles.roles().join(", ")
        ),
    ))
}

/// Every invite the filter keeps, as CSV or NDJSON, now or as they stood at
/// `as_of` (statuses worked out for that moment, as a page shows them).
pub async fn export_invites(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    filter: &InviteFilter,
    format: Format,
) -> Result<Response, ServiceError> {
    let source = Source::open(context, seen, as_of).await?;
    let moment = source.at.moment();
    let query = invites::list_query(source.at, filter, None, None)?;
    let columns = export::json_columns::<InviteRow>(InviteRow::COLUMNS);
    Ok(export::respond(
        source.into_conn(),
        query,
        format,
        "invites",
        columns,
        move |row| {
            let mut invite = InviteRow::from_row(row)?;
            super::invites::as_at(&mut invite, moment);
            Ok(invite)
        },
    ))
}

/// A page of the invites the filter keeps, now or as of a past moment.
pub async fn invite_page(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    filter: &InviteFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<InvitePage, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    let at = source.at;
    let page = invites::list(source.conn(), at, filter, cursor, limit).await??;
    Ok(InvitePage {
        invites: page.rows,
        next_cursor: page.next_cursor,
        reflects: source.reflects(),
    })
}

/// The invite with this id as it stands now.
async fn live_invite(context: &Context, id: &str) -> Result<InviteRow, ServiceError> {
    let id: Uuid = id.parse().map_err(|_| invite_missing())?;
    let mut conn = context.pool.acquire().await?;
    let now = At::Now(context.clock.now());
    invites::by_id(&mut conn, now, id)
        .await?
        .ok_or_else(invite_missing)
}

/// One invite, now or as it stood at `as_of`.
pub async fn invite(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    id: &str,
) -> Result<InviteAnswer, ServiceError> {
    let id: Uuid = id.parse().map_err(|_| invite_missing())?;
    let mut source = Source::open(context, seen, as_of).await?;
    let at = source.at;
    let found = invites::by_id(source.conn(), at, id).await?;
    let reflects = source.reflects();
    drop(source);
    if let Some(invite) = found {
        return Ok(InviteAnswer { invite, reflects });
    }
    // Not there: say whether it never existed, or not yet at that moment.
    match at {
        At::Now(_) => Err(invite_missing()),
        At::Past(_) => {
            let live = live_invite(context, &id.to_string()).await?;
            Err(ServiceError::NotFound {
                code: "INVITE_NOT_FOUND",
                message: Cow::Owned(format!(
                    "The invite did not exist yet at {}: as_of is compared with the time the \
                 ledger recorded each event, and this invite's creation was recorded at {} \
                 (its createdAt is {})",
                    crate::json_time::format(&at.moment()),
                    crate::json_time::format(&live.recorded_at),
                    crate::json_time::format(&live.created_at),
                )),
            })
        }
    }
}

/// The invite's whole history, in order, up to `as_of` if given.
pub async fn invite_events(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    id: &str,
) -> Result<EventList, ServiceError> {
    let hash = live_invite(context, id).await?.token_hash;
    // As every `as_of`: to the end of its millisecond, on a standby that has
    // replayed that moment.
    let until = as_of
        .map(|asked| At::asked(asked).map(At::moment))
        .transpose()?;
    let (mut conn, _) = match until {
        Some(moment) => standby::connection_until(context, seen, moment).await,
        None => standby::connection(context, seen).await,
    }?;
    let events = feed::of_aggregate(&mut conn, INVITE, &hash, until).await?;
    Ok(EventList { events })
}

/// Every use the filter keeps, as CSV or NDJSON, now or as of `as_of`.
pub async fn export_uses(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    filter: &UseFilter,
    format: Format,
) -> Result<Response, ServiceError> {
    let source = Source::open(context, seen, as_of).await?;
    let query = invites::uses_query(source.at, filter, 0, None)?;
    let columns = export::columns::<UseView>(use_view::COLUMNS);
    Ok(export::respond(
        source.into_conn(),
        query,
        format,
        "uses",
        columns,
        |row| Ok(UseView::from(InviteUseRow::from_row(row)?)),
    ))
}

/// A page of the uses the filter keeps, now or as of a past moment.
pub async fn use_page(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    filter: &UseFilter,
    cursor: Option<&str>,
    limit: i64,
) -> Result<UsePage, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    let at = source.at;
    let page = invites::uses(source.conn(), at, filter, cursor, limit).await??;
    Ok(UsePage {
        uses: page.rows.into_iter().map(UseView::from).collect(),
        next_cursor: page.next_cursor,
        reflects: source.reflects(),
    })
}
