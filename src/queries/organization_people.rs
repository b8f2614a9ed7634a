//! Who invited whom into an organization: its members as a tree (each under
//! the member whose invitation they accepted) and the chain of inviters above
//! one member, now or as they stood at a moment. Built from the memberships
//! the members answer reads (emails as the ledger knows the users), so both
//! say what `/members` says.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::organizations::{check_known, member_rows, MemberView};
use super::source::{Reflects, Source};
use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::Position;
use crate::projections::organization::MEMBER;

/// A member and the members who came in by their invitations.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberNode {
    #[serde(flatten)]
    pub member: MemberView,
    /// Who accepted an invitation of this member's, in the order they joined.
    #[schema(no_recursion)]
    pub invitees: Vec<MemberNode>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationTree {
    pub organization_id: String,
    /// Members who joined without an invitation (the creator, those added
    /// directly), and members whose inviter is not in the tree (no longer a
    /// member, unless `ended` is asked; `invitedBy` still names them).
    pub roots: Vec<MemberNode>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationChain {
    pub organization_id: String,
    /// The member's membership (their current one, else their last).
    pub member: MemberView,
    /// The membership of who invited them into this organization, then of
    /// who invited that one, up to a member who joined without an invitation
    /// (or an inviter the ledger holds no membership of).
    pub chain: Vec<MemberView>,
    #[serde(flatten)]
    pub reflects: Reflects,
}

fn member_missing() -> ServiceError {
    ServiceError::NotFound {
        code: "USER_NOT_FOUND",
        message: Cow::Borrowed("This user was no member of the organization (at that time)"),
    }
}

/// The organization's members as a tree, now or at `as_of`; with `ended`, the
/// ended memberships are in it too.
pub async fn tree(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
    ended: bool,
) -> Result<OrganizationTree, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    check_known(source.conn(), organization_id).await?;
    let at = source.at;
    let members = member_rows(source.conn(), at, organization_id, ended).await?;
    Ok(OrganizationTree {
        organization_id: organization_id.to_string(),
        roots: assemble(members),
        reflects: source.reflects(),
    })
}

/// The member with this (Better Auth) user id and the inviters above them.
pub async fn inviter_chain(
    context: &Context,
    seen: Option<Position>,
    as_of: Option<DateTime<Utc>>,
    organization_id: &str,
    user_id: &str,
) -> Result<OrganizationChain, ServiceError> {
    let mut source = Source::open(context, seen, as_of).await?;
    check_known(source.conn(), organization_id).await?;
    let at = source.at;
    let mut members = member_rows(source.conn(), at, organization_id, true).await?;
    let reflects = source.reflects();
    drop(source);
    let start = membership_of(&members, user_id, None).ok_or_else(member_missing)?;
    let mut path = vec![start];
    while let Some(above) = inviter_of(&members, *path.last().expect("a start")) {
        // Memberships are found by time, so a chain cannot loop; the check
        // guards a damaged read model.
        if path.contains(&above) {
            break;
        }
        path.push(above);
    }
    let mut taken: Vec<Option<MemberView>> = members.drain(..).map(Some).collect();
    let mut views = path
        .into_iter()
        .map(|i| taken[i].take().expect("once each"));
    let member = views.next().expect("a start");
    Ok(OrganizationChain {
        organization_id: organization_id.to_string(),
        member,
        chain: views.collect(),
        reflects,
    })
}

/// The membership of `user_id` (an index into `members`): the one that had
/// begun by `by` (when given) and began last, a current one first.
fn membership_of(
    members: &[MemberView],
    user_id: &str,
    by: Option<DateTime<Utc>>,
) -> Option<usize> {
    members
        .iter()
        .enumerate()
        .filter(|(_, m)| m.member.user_id == user_id)
        .filter(|(_, m)| by.is_none_or(|by| m.member.added_at <= by))
        .max_by_key(|(_, m)| (m.member.status == MEMBER, m.member.added_at))
        .map(|(i, _)| i)
}

/// The membership of whoever invited `members[child]` in: the inviter's
/// membership that had begun when the child joined (an inviter invites as a
/// member), else any of theirs.
fn inviter_of(members: &[MemberView], child: usize) -> Option<usize> {
    let child_view = &members[child];
    let inviter = child_view.invited_by.as_deref()?;
    membership_of(members, inviter, Some(child_view.member.added_at))
        .or_else(|| membership_of(members, inviter, None))
        .filter(|&i| i != child)
}

/// The memberships (oldest first) as a tree: each under its inviter's.
fn assemble(members: Vec<MemberView>) -> Vec<MemberNode> {
    let parents: Vec<Option<usize>> = (0..members.len())
        .map(|i| inviter_of(&members, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); members.len()];
    let mut roots = Vec::new();
    for (child, parent) in parents.iter().enumerate() {
        match parent {
            Some(parent) => children[*parent].push(child),
            None => roots.push(child),
        }
    }
    // A loop (only a damaged read model makes one) has no root: its oldest
    // member becomes one, so every member shows once.
    let mut reached = HashSet::new();
    let mut stack = roots.clone();
    while let Some(i) = stack.pop() {
        if reached.insert(i) {
            stack.extend(&children[i]);
        }
    }
    for i in 0..members.len() {
        if !reached.contains(&i) {
            roots.push(i);
            let mut stack = vec![i];
            while let Some(j) = stack.pop() {
                if reached.insert(j) {
                    stack.extend(&children[j]);
                }
            }
        }
    }
    roots.sort();
    let mut taken: Vec<Option<MemberView>> = members.into_iter().map(Some).collect();
    let mut placed = HashSet::new();
    roots
        .into_iter()
        .filter_map(|root| node(root, &children, &mut taken, &mut placed))
        .collect()
}

fn node(
    i: usize,
    children: &[Vec<usize>],
    taken: &mut [Option<MemberView>],
    placed: &mut HashSet<usize>,
) -> Option<MemberNode> {
    if !placed.insert(i) {
        return None;
    }
    let member = taken[i].take()?;
    let invitees = children[i]
        .iter()
        .filter_map(|&child| node(child, children, taken, placed))
        .collect();
    Some(MemberNode { member, invitees })
}
