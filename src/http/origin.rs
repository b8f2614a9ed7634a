//! Cross-site request forgery: a state-changing request that carries one of
//! our cookies must come from a trusted origin, as Better Auth's origin check
//! demands. Requests with a bearer token are not at risk (a browser never adds
//! one on its own) and pass; so do requests that name no origin at all
//! (scripts and servers), since browsers name it on every cross-site write.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use url::Url;

use super::cookies;
use super::error::ApiError;
use crate::app::App;

pub async fn check(State(app): State<App>, request: Request, next: Next) -> Response {
    if needs_check(&app, request.method(), request.headers())
        && !claims_trusted_origin(&app, request.headers())
    {
        return ApiError::refused(
            StatusCode::FORBIDDEN,
            "INVALID_ORIGIN",
            untrusted_message(&app, request.headers()),
        )
        .into_response();
    }
    next.run(request).await
}

fn needs_check(app: &App, method: &Method, headers: &HeaderMap) -> bool {
    let state_changing = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    state_changing
        && !bearer
        && cookies::carries_ours(&CookieJar::from_headers(headers), &app.settings)
}

/// The request's `Origin` (or, without one, its `Referer`) is trusted, or it
/// names none. `Origin: null` (sandboxed frames, privacy redirects) is not.
fn claims_trusted_origin(app: &App, headers: &HeaderMap) -> bool {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER));
    let Some(claimed) = claimed else {
        return true;
    };
    claimed
        .to_str()
        .ok()
        .and_then(|value| Url::parse(value).ok())
        .is_some_and(|url| app.settings.trusted_origins.contains(&url.origin()))
}

/// "Invalid origin", with which origin came and which are trusted: a console
/// opened at a LAN address while `BASE_URL` says `localhost` is a common slip.
fn untrusted_message(app: &App, headers: &HeaderMap) -> String {
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|value| Url::parse(value).ok())
        .map_or_else(
            || "this page".to_string(),
            |url| url.origin().ascii_serialization(),
        );
    let trusted: Vec<String> = app
        .settings
        .trusted_origins
        .iter()
        .map(|origin| origin.ascii_serialization())
        .collect();
    format!(
        "Invalid origin: {claimed} is not trusted (trusted: {}); open the page at BASE_URL's \
         origin or add it to TRUSTED_ORIGINS",
        trusted.join(", ")
    )
}
