//! The audit API under `/api/ledger`: read-only answers about the ledger, for
//! admins and API keys. Each handler reads its request, asks one question of
//! `queries/` and answers. One file per resource; `auditor.rs` says who may
//! ask, `params.rs` holds the parameters several routes share.

mod auditor;
pub(super) mod events;
pub(super) mod invites;
pub(super) mod organizations;
mod params;
pub(super) mod periods;
mod plain_dates;
pub(super) mod users;

use axum::routing::{get, post};
use axum::Router;

use super::HttpState;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/invites", get(invites::list_invites))
        .route("/invites/{id}", get(invites::get_invite))
        .route("/invites/{id}/events", get(invites::invite_events))
        .route("/uses", get(invites::list_uses))
        .route("/users/{id}/invitees", get(users::invitees))
        .route("/users/{id}/inviter-chain", get(users::inviter_chain))
        .route("/events", get(events::events))
        .route("/events/stream", get(events::event_stream))
        .route("/stats", get(periods::stats))
        .route("/users", get(users::find_user))
        .route("/users/{id}", get(users::get_user))
        .route("/users/{id}/erase", post(users::erase_user))
        .route("/diff", get(periods::diff))
        .route("/organizations", get(organizations::list_organizations))
        .route(
            "/organizations/{id}/invitations",
            get(organizations::organization_invitations),
        )
        .route(
            "/organizations/{id}/members",
            get(organizations::organization_members),
        )
        .route(
            "/organizations/{id}/tree",
            get(organizations::organization_tree),
        )
        .route(
            "/organizations/{id}/members/{userId}/inviter-chain",
            get(organizations::member_inviter_chain),
        )
        .route(
            "/organizations/{id}/diff",
            get(organizations::organization_diff),
        )
        .route(
            "/organizations/{id}/events",
            get(organizations::organization_events),
        )
        .route(
            "/organizations/{id}/invitations/{invitation}/events",
            get(organizations::invitation_events),
        )
        .layer(axum::middleware::from_fn(plain_dates::rewrite))
}
