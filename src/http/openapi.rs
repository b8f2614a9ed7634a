//! The OpenAPI 3.1 document, generated from the handlers' annotations, served at
//! `/openapi.json`, with an interactive reference at `/docs`: Scalar's viewer,
//! vendored in `assets/scalar/` and embedded in the binary, so the page needs
//! nothing but this server.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::companion::CompanionPaths;
use super::idempotency::KeyHeader;
use super::ledger::{events, organizations, periods, users};
use super::position::PositionHeader;
use super::{
    accounts, admin_users, health, invites, ledger, passwords, profile, verification, HttpState,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "invite-ledger",
        description = "An event-sourced invitation service that speaks Better Auth's invite \
            protocol under `/api/auth`, with a read-only audit API over its ledger under \
            `/api/ledger`. Errors are `{\"code\", \"message\"}` with a fitting status."
    ),
    paths(
        accounts::sign_up,
        accounts::sign_in,
        accounts::sign_out,
        accounts::get_session,
        accounts::set_role,
        profile::update_user,
        profile::delete_user,
        admin_users::ban_user,
        admin_users::unban_user,
        admin_users::revoke_user_sessions,
        admin_users::remove_user,
        admin_users::list_users,
        passwords::request_reset,
        passwords::reset_link,
        passwords::reset,
        passwords::change,
        passwords::list_sessions,
        passwords::revoke_session,
        passwords::revoke_sessions,
        passwords::revoke_other_sessions,
        verification::send_verification_email,
        verification::verify_email,
        verification::change_email,
        invites::create,
        invites::create_many,
        invites::quota_left,
        invites::list,
        invites::activate,
        invites::get_by_query,
        invites::get_by_body,
        invites::cancel,
        invites::reject,
        invites::resend,
        invites::activate_link,
        health::healthz,
        health::readyz,
        ledger::invites::list_invites,
        ledger::invites::get_invite,
        ledger::invites::invite_events,
        ledger::invites::list_uses,
        users::invitees,
        users::inviter_chain,
        events::events,
        events::event_stream,
        periods::stats,
        users::find_user,
        users::get_user,
        users::erase_user,
        periods::diff,
        organizations::list_organizations,
        organizations::organization_invitations,
        organizations::organization_members,
        organizations::organization_tree,
        organizations::member_inviter_chain,
        organizations::organization_diff,
        organizations::organization_events,
        organizations::invitation_events,
    ),
    // The companion's paths first: `Ledger-Position` applies to them too.
    modifiers(&SecuritySchemes, &CompanionPaths, &PositionHeader, &KeyHeader),
    tags(
        (name = "auth", description = "Better Auth's accounts and sessions"),
        (name = "invite", description = "The invite plugin's routes"),
        (name = "ledger", description = "The audit API: admins (session) or API keys"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token (the `token` a sign-in answers, or its \
                         `set-auth-token` header) as `Authorization: Bearer`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "sessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "better-auth.session_token",
                "The session cookie a sign-in sets (its name follows `COOKIE_PREFIX`, with \
                 `__Secure-` in front under an https `BASE_URL`)",
            ))),
        );
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "x-api-key",
                "A key from `invite-ledger apikey create` (also accepted as a bearer token)",
            ))),
        );
    }
}

pub fn routes() -> Router<HttpState> {
    let document = ApiDoc::openapi();
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .route("/docs", get(|| async { (DOCS_HEADERS, Html(DOCS_PAGE)) }))
        .route(
            "/docs/scalar.js",
            get(|| async {
                let headers = [
                    (CONTENT_TYPE, "text/javascript; charset=utf-8"),
                    (CACHE_CONTROL, "public, max-age=3600"),
                ];
                (headers, SCALAR_JS)
            }),
        )
}

/// The reference page talks to this server only (its offline promise, and no
/// script of elsewhere), and may not be framed by another site (clickjacking).
/// The viewer writes its styles inline, hence `'unsafe-inline'` for styles only.
const DOCS_HEADERS: [(axum::http::HeaderName, &str); 3] = [
    (
        axum::http::header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'none'; form-action 'none'; object-src 'none'",
    ),
    (axum::http::header::X_FRAME_OPTIONS, "DENY"),
    (axum::http::header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

/// The reference page; it loads the viewer below and reads `/openapi.json`.
const DOCS_PAGE: &str = include_str!("../../assets/scalar/docs.html");
/// Scalar's standalone viewer (`assets/scalar/README.md` says which version).
const SCALAR_JS: &[u8] = include_bytes!("../../assets/scalar/standalone.js");
