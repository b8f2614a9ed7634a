//! The audit API's answers about Better Auth organizations: which the ledger
//! knows, an organization's invitations and members now or as they stood at a
//! moment (from the read models' history), and an organization's or one
//! invitation's events from the log.

use std::borrow::Cow;

use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use utoipa::ToSchema;

use super::as_of::At;
use super::export::{self, Format, Query};
use super::feed;
use super::source::{Reflects, Source};
use super::standby;
use crate::context::Context;
use crate::domain::organization::AGGREGATE_TYPE as ORGANIZATION;
use crate::error::ServiceError;
use crate::ledger::stored::{field_sql, ORGANIZATION_CREATED_NAME, ORGANIZATION_CREATED_SLUG};
use crate::ledger::{EventView, Position};
use crate::projections::organization::{OrganizationInvitationRow, OrganizationMemberRow, MEMBER};
use crate::projections::row::Row;
use crate::projections::user_account::UserAccount;

/// An organization the ledger has heard of.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationSummary {
    /// Better Auth's organization id.
    pub id: String,
    /// As created (`null` when the ledger did not record the creation).
    pub name: Option<String>,
    pub slug: Option<String>,
    /// Members now.
    pub members: i64,
    /// Invitations still pending (some may be past their expiry).
    pub pending_invitations: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationList {
    pub organizations: Vec<OrganizationSummary>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationList {
    /// Oldest first.
    pub invitations: Vec<OrganizationInvitationRow>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

/// A membership, with the member's email and who invited them, where known.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    #[serde(flatten)]
    pub member: OrganizationMemberRow,
    /// The member's email as the ledger knows the Better Auth user.
    pub email: Option<String>,
    /// The inviter of the invitation accepted, when that is how they came in.
    pub invited_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberList {
    /// Oldest first.
    pub members: Vec<MemberView>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationEvents {
    pub events: Vec<EventView>,
}

/// `404 ORGANIZATION_NOT_FOUND`: no event of this organization in the log.
pub fn organization_missing() -> ServiceError {
    ServiceError::NotFound {
        code: "ORGANIZATION_NOT_FOUND",
        message: Cow::Borrowed("The ledger holds no event of this organization"),
    }
}

/// The organization has events in the log (at any time), else
/// `organization_missing`: a moment before its first event is an empty answer,
/// an id never heard of is a 404.
pub async fn check_known(
    conn: &mut PgConnection,
    organization_id: &str,
) -> Result<(), ServiceError> {
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2)",
    )
    .bind(ORGANIZATION)
    .bind(organization_id)
    .persistent(false)
    .fetch_one(conn)
    .await?;
    if known {
        Ok(())
    } else {
        Err(organization_missing())
    }
}

/// Every organization the ledger has events of, by id.
pub async fn list(
    context: &Context,
    seen: Option<Position>,
) -> Result<OrganizationList, ServiceError> {
    let (mut conn, _) = standby::connection(context, seen).await?;
    let name = field_sql(Some("e"), ORGANIZATION_CREATED_NAME);
    let slug = field_sql(Some("e"), ORGANIZATION_CREATED_SLUG);
    let organizations = sqlx::query_as(&format!(
        "SELECT o.id,
                (SELECT {name} FROM events e WHERE e.aggregate_type = '{ORGANIZATION}'
                    AND e.aggregate_id = o.id AND e.event_type = 'OrganizationCreated' LIMIT 1) AS name,
                (SELECT {slug} FROM events e WHERE e.aggregate_type = '{ORGANIZATION}'
                    AND e.aggregate_id = o.id AND e.event_type = 'OrganizationCreated' LIMIT 1) AS slug,
                (SELECT count(*) FROM organization_member m
                  WHERE m.organization_id = o.id AND m.status = '{MEMBER}') AS members,
                (SELECT count(*) FROM organization_invitation i
                  WHERE i.organization_id = o.id AND i.status = 'pending') AS pending_invitations
           FROM (SELECT DISTINCT aggregate_id AS id FROM events
                  WHERE aggregate_type = '{ORGANIZATION}') o
          ORDER BY o.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    Ok(OrganizationList { organizations })
}

/// The organization's invitations, now or as they stood at `as_of`.
pub async fn invitations(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
) -> Result<InvitationList, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    check_known(source.conn(), organization_id).await?;
    let at = source.at;
    let query = invitations_query(at, organization_id)?;
    let mut invitations: Vec<OrganizationInvitationRow> =
        sqlx::query_as_with(&query.sql, query.args)
            .persistent(false)
            .fetch_all(source.conn())
            .await?;
    for invitation in &mut invitations {
        invitation.as_at(at.moment());
    }
    Ok(InvitationList {
        invitations,
        reflects: source.reflects(),
    })
}

/// The organization's members, now or at `as_of`; with `ended`, also the
/// memberships that had ended by then (removed, left).
pub async fn members(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
    ended: bool,
) -> Result<MemberList, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    check_known(source.conn(), organization_id).await?;
    let at = source.at;
    let members = member_rows(source.conn(), at, organization_id, ended).await?;
    Ok(MemberList {
        members,
        reflects: source.reflects(),
    })
}

/// The organization's invitations at `at`, oldest first (a page and an export).
fn invitations_query(at: At, organization_id: &str) -> anyhow::Result<Query> {
    Query::new(format!(
        "SELECT {} FROM {} WHERE organization_id = $1 ORDER BY created_at, id",
        OrganizationInvitationRow::column_list(),
        at.table::<OrganizationInvitationRow>(),
    ))
    .bind(organization_id.to_string())
}

/// The organization's memberships at `at` (with `ended`, the ended ones too),
/// oldest first.
pub(super) async fn member_rows(
    conn: &mut PgConnection,
    at: At,
    organization_id: &str,
    ended: bool,
) -> anyhow::Result<Vec<MemberView>> {
    let query = members_query(at, organization_id, ended)?;
    let rows = sqlx::query_with(&query.sql, query.args)
        .persistent(false)
        .fetch_all(conn)
        .await?;
    rows.iter().map(member_view).collect()
}

/// One row of `members_query` as the answers show it.
fn member_view(row: &PgRow) -> anyhow::Result<MemberView> {
    use sqlx::{FromRow, Row as _};
    Ok(MemberView {
        member: OrganizationMemberRow::from_row(row)?,
        email: row.try_get("member_email")?,
        invited_by: row.try_get("invited_by")?,
    })
}

/// Memberships with the member's email (as the ledger knows the user, so an
/// erased person reads `[erased]`) and the inviter of the invitation accepted.
fn members_query(at: At, organization_id: &str, ended: bool) -> anyhow::Result<Query> {
    let columns: Vec<String> = OrganizationMemberRow::COLUMNS
        .iter()
        .map(|c| format!("organization_member.{c}"))
        .collect();
    let query = format!(
        "SELECT {columns}, user_account.email AS member_email, i.inviter_id AS invited_by
           FROM {members}
           LEFT JOIN {accounts} ON user_account.id = organization_member.user_id
           LEFT JOIN {invitations} ON i.id = organization_member.invitation_id
          WHERE organization_member.organization_id = $1
            AND ($2 OR organization_member.status = '{MEMBER}')
          ORDER BY organization_member.added_at, organization_member.id",
        columns = columns.join(", "),
        members = at.table::<OrganizationMemberRow>(),
        accounts = at.table::<UserAccount>(),
        invitations = invitations_as(at),
    );
    Query::new(query)
        .bind(organization_id.to_string())?
        .bind(ended)
}

/// The organization's invitations as CSV or NDJSON, now or as they stood at
/// `as_of` (statuses worked out for that moment, as the list shows them).
pub async fn export_invitations(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
    format: Format,
) -> Result<Response, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    check_known(source.conn(), organization_id).await?;
    let moment = source.at.moment();
    let query = invitations_query(source.at, organization_id)?;
    let columns =
        export::json_columns::<OrganizationInvitationRow>(OrganizationInvitationRow::COLUMNS);
    Ok(export::respond(
        source.into_conn(),
        query,
        format,
        "organization-invitations",
        columns,
        move |row| {
            use sqlx::FromRow;
            let mut invitation = OrganizationInvitationRow::from_row(row)?;
            invitation.as_at(moment);
            Ok(invitation)
        },
    ))
}

/// The organization's membership periods (with `ended`, the ended ones too)
/// as CSV or NDJSON, a row each, now or as they stood at `as_of`.
pub async fn export_members(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
    ended: bool,
    format: Format,
) -> Result<Response, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    check_known(source.conn(), organization_id).await?;
    let query = members_query(source.at, organization_id, ended)?;
    let mut columns = export::json_columns::<OrganizationMemberRow>(OrganizationMemberRow::COLUMNS);
    columns.extend(["email".to_string(), "invitedBy".to_string()]);
    Ok(export::respond(
        source.into_conn(),
        query,
        format,
        "organization-members",
        columns,
        member_view,
    ))
}

/// The invitations at `at`, named `i`.
fn invitations_as(at: At) -> String {
    let table = at.table::<OrganizationInvitationRow>();
    match at {
        At::Now(_) => format!("{table} AS i"),
        At::Past(_) => table.replace(
            &format!(") AS {}", OrganizationInvitationRow::TABLE),
            ") AS i",
        ),
    }
}

/// The organization's events in order, up to `as_of` if given; with an
/// invitation id, only that invitation's (and the membership it began).
pub async fn events(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
    invitation_id: Option<&str>,
) -> Result<OrganizationEvents, ServiceError> {
    let until = as_of
        .map(|asked| At::asked(asked).map(At::moment))
        .transpose()?;
    let (mut conn, _) = match until {
        Some(moment) => standby::connection_until(context, seen, moment).await,
        None => standby::connection(context, seen).await,
    }?;
    let mut events = feed::of_aggregate(&mut conn, ORGANIZATION, organization_id, None).await?;
    if events.is_empty() {
        return Err(organization_missing());
    }
    if let Some(invitation_id) = invitation_id {
        events.retain(|event| event.data["invitationId"].as_str() == Some(invitation_id));
        if events.is_empty() {
            return Err(ServiceError::NotFound {
                code: "INVITATION_NOT_FOUND",
                message: Cow::Borrowed("The ledger holds no event of this invitation"),
            });
        }
    }
    if let Some(until) = until {
        events.retain(|event| event.recorded_at <= until);
    }
    Ok(OrganizationEvents { events })
}
