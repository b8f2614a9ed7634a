//! The HTTP API: Better Auth's routes and shapes under `/api/auth`, plus health.

mod accounts;
mod admin_users;
mod companion;
mod cookies;
mod error;
mod extract;
mod guards;
mod health;
mod idempotency;
mod invites;
mod ledger;
mod metrics;
mod observe;
mod openapi;
mod origin;
mod passwords;
mod per_address;
pub mod position;
mod profile;
mod refusals;
pub mod serve;
mod signed_cookie;
mod timeout;
mod verification;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::app::App;
pub use error::ApiError;
use guards::Guards;
pub use openapi::ApiDoc;

#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    guards: Arc<Guards>,
}

impl FromRef<HttpState> for App {
    fn from_ref(state: &HttpState) -> App {
        state.app.clone()
    }
}

pub fn router(app: App) -> Router {
    let guards = Arc::new(Guards::new(app.limiter.clone(), &app.settings.config));
    let auth = Router::new()
        .merge(accounts::routes())
        .merge(invites::routes())
        .merge(passwords::routes())
        .merge(admin_users::routes())
        .merge(profile::routes())
        .merge(verification::routes())
        .layer(axum::middleware::from_fn(error::plugin_protocol));
    let cors = cors(&app);
    metrics::recorder();
    let state = HttpState { app, guards };
    let app = state.app.clone();
    Router::new()
        .nest("/api/auth", auth)
        .nest("/api/ledger", ledger::routes())
        .nest("/api/companion", companion::routes())
        .merge(health::routes())
        .merge(openapi::routes())
        .merge(metrics::routes())
        .merge(crate::console::routes())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::replay_or_run,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            position::read_your_writes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            origin::check,
        ))
        .layer(cors)
        .layer(axum::middleware::from_fn(observe::observe))
        .with_state(state)
}

/// Browsers on the trusted origins may call the API with their cookies.
fn cors(app: &App) -> CorsLayer {
    let origins: Vec<HeaderValue> = app
        .settings
        .trusted_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(&origin.ascii_serialization()).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            position::LEDGER_POSITION,
            idempotency::IDEMPOTENCY_KEY,
        ])
        .expose_headers([
            HeaderName::from_static("set-auth-token"),
            position::LEDGER_POSITION,
            idempotency::IDEMPOTENT_REPLAYED,
        ])
}
