//! Read your writes across replicas: an answer that wrote
//! to the log carries the furthest position it wrote in `Ledger-Position`; a
//! request that sends the header back waits (at most `POSITION_WAIT_MS`) until
//! this replica's read models have applied that far, wherever it was written.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::app::App;
use crate::context::{recording_writes, Reads};
use crate::ledger::Position;

pub const LEDGER_POSITION: HeaderName = HeaderName::from_static("ledger-position");

/// The position a request asked to see, for handlers that read elsewhere (the
/// audit API's standby) and must wait there too.
#[derive(Debug, Clone, Copy)]
pub struct SeenPosition(pub Position);

pub async fn read_your_writes(
    State(app): State<App>,
    mut request: Request,
    next: Next,
) -> Response {
    // A method no route serves gets the router's 405, not a verdict on the header.
    let served = matches!(*request.method(), Method::GET | Method::HEAD | Method::POST);
    if let Some(value) = request.headers().get(&LEDGER_POSITION).filter(|_| served) {
        let position = match value.to_str().ok().map(str::parse::<Position>) {
            Some(Ok(position)) if position.xid >= 0 && position.global >= 0 => position,
            _ => return ApiError::refused(
                StatusCode::BAD_REQUEST,
                "INVALID_LEDGER_POSITION",
                "Ledger-Position must be a position as answers give it (`transaction/position`)",
            )
            .into_response(),
        };
        if let Err(refusal) = wait_for(&app, position).await {
            return refusal.into_response();
        }
        request.extensions_mut().insert(SeenPosition(position));
    } else if let Some(reads) = reads_of(&request) {
        app.see_writes_here(reads).await;
    }
    let (mut response, written) = recording_writes(next.run(request)).await;
    if let Some(written) = written {
        if let Ok(value) = HeaderValue::from_str(&written.to_string()) {
            response.headers_mut().insert(LEDGER_POSITION, value);
        }
    }
    response
}

/// What a request without the header must see of this replica's writes: a
/// read, all of them; a write, those to accounts (it acts as a signed-in
/// account, and decides on the log, not on the read models; what it looks up
/// and misses waits for the log, `Context::see_the_log`). Probes and the
/// documents read no read model.
fn reads_of(request: &Request) -> Option<Reads> {
    let path = request.uri().path();
    if ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]
        .iter()
        .any(|probe| path.starts_with(probe))
    {
        return None;
    }
    // Some reads are POSTs with a body (`/invite/get`, the companion API's).
    let posted_read = path.ends_with("/get") || path.ends_with("/list");
    match *request.method() {
        Method::GET | Method::HEAD => Some(Reads::Everything),
        Method::POST if posted_read => Some(Reads::Everything),
        Method::POST => Some(Reads::Accounts),
        _ => None,
    }
}

/// Waits until every read model here has applied `position`.
async fn wait_for(app: &App, position: Position) -> Result<(), ApiError> {
    let reached = |app: &App| {
        app.progress
            .checkpoints()
            .iter()
            .all(|(_, at)| *at >= position)
    };
    if reached(app) {
        return Ok(());
    }
    // A position no answer gave (made up, or from another database) would hold
    // the request for nothing: refuse it at once.
    let known = position
        .is_recorded(&app.pool)
        .await
        .map_err(|_| ApiError::database_unreachable())?;
    if !known {
        return Err(ApiError::refused(
            StatusCode::BAD_REQUEST,
            "UNKNOWN_LEDGER_POSITION",
            "Ledger-Position names no event of this ledger",
        ));
    }
    let wait = Duration::from_millis(app.settings.config.position_wait_ms);
    if app.progress.wait_for(position, &[], wait).await {
        return Ok(());
    }
    Err(ApiError::refused(
        StatusCode::SERVICE_UNAVAILABLE,
        "POSITION_NOT_REACHED",
        "This server has not applied the ledger that far yet; try again shortly",
    )
    .with_retry_after(Duration::from_secs(1)))
}

/// The position the request sent, if any (for reads that go elsewhere).
pub struct Seen(pub Option<Position>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Seen {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Seen(
            parts.extensions.get::<SeenPosition>().map(|seen| seen.0),
        ))
    }
}

/// Documents the header in the OpenAPI document: every route takes it, and a
/// write's answer carries it.
pub struct PositionHeader;

impl utoipa::Modify for PositionHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, RefOr, Required, Type};

        let string = || ObjectBuilder::new().schema_type(Type::String).build();
        let parameter = ParameterBuilder::new()
            .name("Ledger-Position")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "A position from an earlier answer's `Ledger-Position` \
                 (`transaction/position`): the request waits (at most `POSITION_WAIT_MS`) \
                 until this server's read models have applied it; `400` if malformed or \
                 unknown, `503 POSITION_NOT_REACHED` if not reached in time",
            ))
            .schema(Some(string()))
            .build();
        let header = HeaderBuilder::new()
            .schema(string())
            .description(Some(
                "The log position this write reached; send it back on the next request",
            ))
            .build();
        let bad_position = utoipa::openapi::ResponseBuilder::new()
            .description(
                "`INVALID_LEDGER_POSITION` or `UNKNOWN_LEDGER_POSITION`: the \
                 `Ledger-Position` header is malformed or names no event",
            )
            .content(
                "application/json",
                utoipa::openapi::content::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            let writes = item.post.is_some();
            for operation in [&mut item.get, &mut item.post].into_iter().flatten() {
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(parameter.clone());
                // Operations whose own 400 is documented name it there.
                operation
                    .responses
                    .responses
                    .entry("400".into())
                    .or_insert_with(|| bad_position.clone().into());
            }
            if let (true, Some(post)) = (writes, &mut item.post) {
                for (status, response) in post.responses.responses.iter_mut() {
                    if let (true, RefOr::T(response)) = (status.starts_with('2'), response) {
                        response
                            .headers
                            .insert("Ledger-Position".into(), header.clone());
                    }
                }
            }
        }
    }
}
