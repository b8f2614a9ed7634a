//! `Idempotency-Key` on the writes that take it: a retry of an answered
//! request gets the first answer back (same status and body) and writes
//! nothing; the same key with another request is `422 IDEMPOTENCY_KEY_REUSED`.
//! The receipt itself is written with the request's events (`ledger::Guard`).

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::error::ApiError;
use super::extract::MaybeUser;
use super::HttpState;
use crate::commands::idempotency::{IdempotentRequest, KeptAnswer, Lookup};

pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on an answer given again from a receipt.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The routes that honour the key; elsewhere it is ignored.
pub const ROUTES: [&str; 5] = [
    "/api/auth/invite/create",
    "/api/auth/invite/create-many",
    "/api/auth/invite/cancel",
    "/api/auth/invite/resend",
    "/api/auth/admin/set-role",
];

/// The largest body read here: axum's default limit, which the handlers apply too.
const BODY_LIMIT: usize = 2 * 1024 * 1024;

/// Replays a kept answer, or runs the request with its `IdempotentRequest`
/// in the extensions for the handler to pass on to the service.
pub async fn replay_or_run(
    State(state): State<HttpState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY).cloned() else {
        return next.run(request).await;
    };
    if request.method() != axum::http::Method::POST || !ROUTES.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    // Without a user the handler answers 401: nothing to keep.
    let user = match MaybeUser::from_request_parts(&mut parts, &state).await {
        Ok(MaybeUser(Some(user))) => user,
        Ok(MaybeUser(None)) => return next.run(Request::from_parts(parts, body)).await,
        Err(error) => return error.into_response(),
    };
    let Ok(bytes) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return ApiError::refused(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "The request body is too large",
        )
        .into_response();
    };
    let idempotent = match IdempotentRequest::new(
        &user.account.id,
        key.to_str().unwrap_or_default(),
        parts.uri.path(),
        parts.uri.query().unwrap_or_default(),
        &bytes,
    ) {
        Ok(idempotent) => idempotent,
        Err(refused) => return ApiError::from(refused).into_response(),
    };
    match idempotent.lookup(&state.app).await {
        Ok(Lookup::Free) => {}
        Ok(Lookup::Answered(kept)) => return replay(kept),
        Ok(Lookup::Reused) => return reused(),
        Err(error) => return ApiError::from(error).into_response(),
    }
    parts.extensions.insert(idempotent.clone());
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status().is_success() {
        return response;
    }
    // A twin request with the same key may have won meanwhile (this one then
    // wrote nothing, or found the invite already cancelled): its answer counts.
    match idempotent.lookup(&state.app).await {
        Ok(Lookup::Answered(kept)) => replay(kept),
        Ok(Lookup::Reused) => reused(),
        _ => response,
    }
}

pub(super) fn replay(kept: KeptAnswer) -> Response {
    let status = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Json(kept.body)).into_response();
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}

pub(super) fn reused() -> Response {
    ApiError::refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was used for another request in the last 24 hours",
    )
    .into_response()
}

/// Documents the header on the routes that take it.
pub struct KeyHeader;

impl utoipa::Modify for KeyHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        for route in ROUTES {
            let Some(item) = openapi.paths.paths.get_mut(route) else {
                continue;
            };
            let Some(post) = item.post.as_mut() else {
                continue;
            };
            let parameter = ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Up to 255 visible ASCII characters, unique per request: a retry with the \
                     same key and the same request within 24 hours gets the first answer again \
                     (with `Idempotent-Replayed: true`) and writes nothing; the same key with \
                     another request is `422 IDEMPOTENCY_KEY_REUSED`",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .build();
            post.parameters.get_or_insert_with(Vec::new).push(parameter);
            post.responses.responses.insert(
                "422".into(),
                utoipa::openapi::ResponseBuilder::new()
                    .description("`IDEMPOTENCY_KEY_REUSED`: the key was used for another request")
                    .content(
                        "application/json",
                        utoipa::openapi::content::ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .into(),
            );
        }
    }
}
