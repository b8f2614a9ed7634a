//! The admin console at `/console`: a single page (Preact, built by Vite from
//! `web/`) whose files are embedded in the binary from `web/dist/` at compile
//! time, so the server needs nothing beside itself and the browser loads nothing
//! from elsewhere. The page asks the audit API (`/api/ledger`) for everything,
//! with the admin's session cookie or a pasted API key.
//!
//! Rebuild the files after changing `web/`: `npm ci && npm run build` there
//! (`tests/api/console_assets.rs` fails while `dist/` is older than its sources).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use include_dir::{include_dir, Dir};
use serde_json::json;

static DIST: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/console/web/dist");

/// Only what the page needs: its own scripts and styles, and calls to this server.
/// (Inline styles are what the chart and the funnel's bars set from script.)
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
     form-action 'self'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { file("index.html") }))
        .route(
            "/console/assets/{*file}",
            get(|Path(name): Path<String>| async move { file(&format!("assets/{name}")) }),
        )
}

fn file(path: &str) -> Response {
    let Some(found) = DIST.get_file(path) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "code": "NOT_FOUND", "message": "No such file in the console" })),
        )
            .into_response();
    };
    let content_type = mime_guess::from_path(path).first_or_octet_stream();
    let content_type = match content_type.type_() {
        mime_guess::mime::TEXT => format!("{content_type}; charset=utf-8"),
        _ if content_type.subtype() == mime_guess::mime::JAVASCRIPT => {
            "text/javascript; charset=utf-8".to_string()
        }
        _ => content_type.to_string(),
    };
    // Vite names assets by their content's hash: they never change under one name.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(&content_type).expect("a MIME type is a header value"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
        ],
        found.contents(),
    )
        .into_response()
}
