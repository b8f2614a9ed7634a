//! The HTTP API: Better Auth's routes and shapes under `/api/auth`, plus health.

mod accounts;
mod cookies;
mod error;
mod extract;
mod health;
mod invites;
mod rate_limit;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use tower_http::trace::TraceLayer;

use crate::app::App;
pub use error::ApiError;
use rate_limit::Limiter;

#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    limiter: Arc<Limiter>,
}

impl FromRef<HttpState> for App {
    fn from_ref(state: &HttpState) -> App {
        state.app.clone()
    }
}

pub fn router(app: App) -> Router {
    let limiter = Arc::new(Limiter::per_minute(
        app.settings.config.activation_attempts_per_minute,
    ));
    let auth = Router::new()
        .merge(accounts::routes())
        .merge(invites::routes());
    Router::new()
        .nest("/api/auth", auth)
        .merge(health::routes())
        .fallback(error::not_found)
        .layer(TraceLayer::new_for_http())
        .with_state(HttpState { app, limiter })
}
