//! `/api/companion`: the API a Better Auth server's plugin calls with a key of
//! scope `companion` (docs/companion-protocol.md). Handlers parse, call one
//! companion command and answer; `Idempotency-Key` is honoured on `create`,
//! `cancel` and `use`, keyed per API key and acting user.

use std::future::Future;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

use super::error::{ApiError, ErrorBody};
use super::extract::{refuse_nul_in_json, validation_error};
use super::idempotency::{self, IDEMPOTENCY_KEY};
use super::HttpState;
use crate::app::App;
use crate::auth::api_keys::{self, Scope};
use crate::commands::bulk::BulkAnswer;
use crate::commands::companion::bulk::{self as companion_bulk, CompanionCreateMany};
use crate::commands::companion::callback::{self, Hello, Welcome};
use crate::commands::companion::invites::{
    self as companion, ActivateRequest, Activated, ActorTokenRequest, CompanionCreate,
    CompanionCreated, CompanionInviteAnswer, CompanionInviteList, Done, ListRequest, RoleDecision,
    TokenRequest, UseRequest,
};
use crate::commands::companion::organizations::{
    self, AllowInvitation, Allowed, OrganizationState, RecordFact, Recorded, StateRequest,
};
use crate::commands::companion::roles::{self, RoleSet, SetRoleRequest};
use crate::commands::companion::seats::{
    self, ConfirmRequest, Confirmed, ReserveRequest, Reserved,
};
use crate::commands::companion::Caller;
use crate::commands::idempotency::{IdempotentRequest, Lookup};
use crate::error::ServiceError;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/hello", post(hello))
        .route("/invite/create", post(create))
        .route("/invite/create-many", post(create_many))
        .route("/invite/get", post(get))
        .route("/invite/list", post(list))
        .route("/invite/cancel", post(cancel))
        .route("/invite/reject", post(reject))
        .route("/invite/activate", post(activate))
        .route("/invite/use", post(use_invite))
        .route("/invite/reserve", post(reserve))
        .route("/invite/confirm", post(confirm))
        .route("/user/set-role", post(set_role))
        .route("/organization/allow-invitation", post(allow_invitation))
        .route("/organization/record", post(record_organization_fact))
        .route("/organization/state", post(organization_state))
}

/// A key of scope `companion`, as `Authorization: Bearer ilk_...` or `x-api-key`,
/// and whether its plugin has said `hello`.
pub struct CompanionKey(pub Caller, bool);

impl FromRequestParts<HttpState> for CompanionKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let key = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or(bearer)
            .map(str::trim);
        let Some(key) = key.filter(|k| k.starts_with(api_keys::PREFIX)) else {
            return Err(ServiceError::Unauthorized.into());
        };
        match api_keys::identify(&state.app.pool, key).await? {
            Some(known) if known.scope == Scope::Companion => {
                Ok(CompanionKey(Caller { key_id: known.id }, known.greeted))
            }
            Some(_) => Err(ServiceError::Forbidden {
                code: "API_KEY_SCOPE",
                message: "This API key's scope does not cover the companion API".into(),
            }
            .into()),
            None => Err(ServiceError::Forbidden {
                code: "INVALID_API_KEY",
                message: "This API key is not valid".into(),
            }
            .into()),
        }
    }
}

/// A companion key whose plugin has said `hello` (the ledger knows where to
/// ask about seats and deliver roles); otherwise 409 `COMPANION_UNKNOWN`.
pub struct Greeted(pub Caller);

impl FromRequestParts<HttpState> for Greeted {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let CompanionKey(caller, greeted) = CompanionKey::from_request_parts(parts, state).await?;
        if !greeted {
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                "COMPANION_UNKNOWN",
                "Call /api/companion/hello first: the ledger has no callback URL for this key",
            ));
        }
        Ok(Greeted(caller))
    }
}

/// A request's body, its refusals in our shape (`413 PAYLOAD_TOO_LARGE`).
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(RawBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::refused(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    "The request body is too large",
                ))
            }
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

/// A JSON body, refused as `extract::Body` refuses one.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    refuse_nul_in_json(bytes)?;
    serde_json::from_slice(bytes).map_err(|e| validation_error(e.to_string()))
}

/// Runs a write under its `Idempotency-Key`, if any: a retry of an answered
/// request gets the first answer, another request under the key a 422.
async fn idempotent<T, F, Fut>(
    app: &App,
    caller: Caller,
    headers: &HeaderMap,
    route: &str,
    actor_id: Option<&str>,
    bytes: &[u8],
    run: F,
) -> Response
where
    T: Serialize,
    F: FnOnce(Option<IdempotentRequest>) -> Fut,
    Fut: Future<Output = Result<T, ServiceError>>,
{
    let request = match headers.get(&IDEMPOTENCY_KEY) {
        None => None,
        Some(key) => match IdempotentRequest::new(
            &caller.receipt_owner(actor_id),
            key.to_str().unwrap_or_default(),
            route,
            "",
            bytes,
        ) {
            Ok(request) => Some(request),
            Err(refused) => return ApiError::from(refused).into_response(),
        },
    };
    if let Some(request) = &request {
        match request.lookup(app).await {
            Ok(Lookup::Free) => {}
            Ok(Lookup::Answered(kept)) => return idempotency::replay(kept),
            Ok(Lookup::Reused) => return idempotency::reused(),
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    match run(request.clone()).await {
        Ok(answer) => Json(answer).into_response(),
        Err(error) => {
            // A twin request under the same key may have won meanwhile.
            if let Some(request) = &request {
                match request.lookup(app).await {
                    Ok(Lookup::Answered(kept)) => return idempotency::replay(kept),
                    Ok(Lookup::Reused) => return idempotency::reused(),
                    _ => {}
                }
            }
            ApiError::from(error).into_response()
        }
    }
}

#[utoipa::path(post, path = "/api/companion/hello", tag = "companion",
    request_body = Hello,
    responses((status = 200, body = Welcome, description = "The callback URL is kept for this key; \
            the answer says what the plugin must know of the ledger"),
        (status = 400, body = ErrorBody, description = "`INVALID_CALLBACK_URL`"),
        (status = 401, body = ErrorBody, description = "No API key"),
        (status = 403, body = ErrorBody, description = "`INVALID_API_KEY`, or `API_KEY_SCOPE`: \
            not a companion key")),
    security(("companionKey" = [])))]
async fn hello(
    State(app): State<App>,
    CompanionKey(caller, _): CompanionKey,
    RawBody(bytes): RawBody,
) -> Result<Json<Welcome>, ApiError> {
    let body: Hello = parse(&bytes)?;
    Ok(Json(callback::hello(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/invite/create", tag = "companion",
    request_body = CompanionCreate,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same \
        key and body gets the first answer")),
    responses((status = 200, body = CompanionCreated, description = "The invite is in the ledger"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR`, `ROLE_NOT_CONFIGURED`, \
            `INVALID_MAX_USES`, `INVALID_EXPIRES_IN`, `INVALID_REDIRECT`, `INVALID_EMAIL`, \
            `INVALID_TOKEN_FORMAT`, `INVALID_USER_ID`"),
        (status = 403, body = ErrorBody, description = "`INSUFFICIENT_PERMISSIONS`, \
            `EMAIL_DOMAIN_NOT_ALLOWED`, `API_KEY_SCOPE`"),
        (status = 409, body = ErrorBody, description = "`TOKEN_ALREADY_EXISTS` (a given token), \
            `IDEMPOTENCY_KEY_IN_USE`, `COMPANION_UNKNOWN` (no `hello` yet: every invite route)"),
        (status = 422, body = ErrorBody, description = "`IDEMPOTENCY_KEY_REUSED`"),
        (status = 429, body = ErrorBody, description = "`INVITE_QUOTA_EXCEEDED`")),
    security(("companionKey" = [])))]
async fn create(
    State(app): State<App>,
    Greeted(caller): Greeted,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: CompanionCreate = parse(&bytes)?;
    let actor = body.actor.id.clone();
    let route = "/api/companion/invite/create";
    Ok(
        idempotent(&app, caller, &headers, route, Some(&actor), &bytes, |key| {
            let app = app.clone();
            async move { companion::create(&app, caller, body, key.as_ref()).await }
        })
        .await,
    )
}

#[utoipa::path(post, path = "/api/companion/invite/create-many", tag = "companion",
    request_body = CompanionCreateMany,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same \
        key and body gets the first answer (the same tokens) and creates nothing more")),
    responses((status = 200, body = BulkAnswer, description = "Every row, in order: created \
            (with its `inviteId` and `token`) or refused with the `{code, message}` \
            `invite/create` gives (`INVITE_QUOTA_EXCEEDED` past the quota's room)"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR` (no invites, a bad \
            body), `TOO_MANY_INVITES` (over `INVITE_BULK_MAX`), or a bad shared option \
            (`INVALID_MAX_USES`, `INVALID_EXPIRES_IN`, `INVALID_REDIRECT`), `INVALID_USER_ID`"),
        (status = 403, body = ErrorBody, description = "`API_KEY_SCOPE`"),
        (status = 409, body = ErrorBody, description = "`IDEMPOTENCY_KEY_IN_USE`, \
            `COMPANION_UNKNOWN`"),
        (status = 422, body = ErrorBody, description = "`IDEMPOTENCY_KEY_REUSED`")),
    security(("companionKey" = [])))]
async fn create_many(
    State(app): State<App>,
    Greeted(caller): Greeted,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: CompanionCreateMany = parse(&bytes)?;
    let actor = body.actor.id.clone();
    let route = "/api/companion/invite/create-many";
    Ok(
        idempotent(&app, caller, &headers, route, Some(&actor), &bytes, |key| {
            let app = app.clone();
            async move { companion_bulk::create_many(&app, caller, body, key.as_ref()).await }
        })
        .await,
    )
}

#[utoipa::path(post, path = "/api/companion/invite/get", tag = "companion",
    request_body = TokenRequest,
    responses((status = 200, body = CompanionInviteAnswer, description = "The invite's facts; its \
            `status` is as of now"),
        (status = 404, body = ErrorBody, description = "`INVALID_TOKEN`")),
    security(("companionKey" = [])))]
async fn get(
    State(app): State<App>,
    Greeted(_caller): Greeted,
    RawBody(bytes): RawBody,
) -> Result<Json<CompanionInviteAnswer>, ApiError> {
    let body: TokenRequest = parse(&bytes)?;
    Ok(Json(
        companion::get(&app, body.actor.as_ref(), &body.token).await?,
    ))
}

#[utoipa::path(post, path = "/api/companion/invite/list", tag = "companion",
    request_body = ListRequest,
    responses((status = 200, body = CompanionInviteList, description = "The invites the actor \
            created, newest first")),
    security(("companionKey" = [])))]
async fn list(
    State(app): State<App>,
    Greeted(caller): Greeted,
    RawBody(bytes): RawBody,
) -> Result<Json<CompanionInviteList>, ApiError> {
    let body: ListRequest = parse(&bytes)?;
    Ok(Json(companion::list(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/invite/cancel", tag = "companion",
    request_body = ActorTokenRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same \
        key and body gets the first answer")),
    responses((status = 200, body = Done, description = "Cancelled"),
        (status = 403, body = ErrorBody, description = "`NOT_INVITE_CREATOR`"),
        (status = 404, body = ErrorBody, description = "`INVALID_TOKEN`"),
        (status = 410, body = ErrorBody, description = "`INVITE_EXPIRED`, `INVITE_USED_UP`, \
            `INVITE_CANCELLED`, `INVITE_REJECTED`")),
    security(("companionKey" = [])))]
async fn cancel(
    State(app): State<App>,
    Greeted(caller): Greeted,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: ActorTokenRequest = parse(&bytes)?;
    let actor = body.actor.id.clone();
    let route = "/api/companion/invite/cancel";
    Ok(
        idempotent(&app, caller, &headers, route, Some(&actor), &bytes, |key| {
            let app = app.clone();
            async move { companion::cancel(&app, caller, body, key.as_ref()).await }
        })
        .await,
    )
}

#[utoipa::path(post, path = "/api/companion/invite/reject", tag = "companion",
    request_body = ActorTokenRequest,
    responses((status = 200, body = Done, description = "Rejected"),
        (status = 400, body = ErrorBody, description = "`NOT_A_PRIVATE_INVITE`"),
        (status = 403, body = ErrorBody, description = "`NOT_INVITEE`"),
        (status = 404, body = ErrorBody, description = "`INVALID_TOKEN`"),
        (status = 410, body = ErrorBody, description = "The invite is closed or expired")),
    security(("companionKey" = [])))]
async fn reject(
    State(app): State<App>,
    Greeted(caller): Greeted,
    RawBody(bytes): RawBody,
) -> Result<Json<Done>, ApiError> {
    let body: ActorTokenRequest = parse(&bytes)?;
    Ok(Json(companion::reject(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/invite/activate", tag = "companion",
    request_body = ActivateRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "With an actor: a retry \
        with the same key and body gets the first answer and takes no second seat")),
    responses((status = 200, body = Activated, description = "`signInUp` for a visitor, `used` \
            for a signed-in actor (the use recorded)"),
        (status = 403, body = ErrorBody, description = "`INVALID_CALLBACK_URL`, \
            `INVITE_EMAIL_MISMATCH`, `CANNOT_USE_OWN_INVITE`"),
        (status = 404, body = ErrorBody, description = "`INVALID_TOKEN`"),
        (status = 409, body = ErrorBody, description = "`INVITE_WOULD_LOWER_ROLE`, \
            `INVITE_ALREADY_USED_BY_USER` (a person uses an invite once)"),
        (status = 410, body = ErrorBody, description = "The invite is closed, used up or expired")),
    security(("companionKey" = [])))]
async fn activate(
    State(app): State<App>,
    Greeted(caller): Greeted,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: ActivateRequest = parse(&bytes)?;
    let Some(actor) = body.actor.as_ref().map(|a| a.id.clone()) else {
        // A visitor's activation uses nothing: nothing to keep.
        return Ok(Json(companion::activate(&app, caller, body, None).await?).into_response());
    };
    let token = body.token.clone();
    let route = "/api/companion/invite/activate";
    let response = idempotent(&app, caller, &headers, route, Some(&actor), &bytes, |key| {
        let app = app.clone();
        async move { companion::activate(&app, caller, body, key.as_ref()).await }
    })
    .await;
    with_use_position(&app, response, &token, "/use").await
}

#[utoipa::path(post, path = "/api/companion/invite/use", tag = "companion",
    request_body = UseRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same \
        key and body gets the first answer and takes no second seat")),
    responses((status = 200, body = RoleDecision, description = "The use is recorded: apply `role` \
            compare-and-set on `position`"),
        (status = 403, body = ErrorBody, description = "`INVITE_EMAIL_MISMATCH`, \
            `CANNOT_USE_OWN_INVITE`, `EMAIL_DOMAIN_NOT_ALLOWED`"),
        (status = 404, body = ErrorBody, description = "`INVALID_TOKEN`"),
        (status = 409, body = ErrorBody, description = "`INVITE_WOULD_LOWER_ROLE`, \
            `INVITE_ALREADY_USED_BY_USER` (a person uses an invite once)"),
        (status = 410, body = ErrorBody, description = "The invite is closed, used up or expired")),
    security(("companionKey" = [])))]
async fn use_invite(
    State(app): State<App>,
    Greeted(caller): Greeted,
    headers: HeaderMap,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: UseRequest = parse(&bytes)?;
    let (actor, token) = (body.actor.id.clone(), body.token.clone());
    let route = "/api/companion/invite/use";
    let response = idempotent(&app, caller, &headers, route, Some(&actor), &bytes, |key| {
        let app = app.clone();
        async move { companion::use_invite(&app, caller, body, key.as_ref()).await }
    })
    .await;
    with_use_position(&app, response, &token, "").await
}

/// A kept answer was written before its use's position was known: a replayed
/// answer gets it from the log (`at`: where the decision is in the answer).
async fn with_use_position(
    app: &App,
    response: Response,
    token: &str,
    at: &str,
) -> Result<Response, ApiError> {
    if !response
        .headers()
        .contains_key(idempotency::IDEMPOTENT_REPLAYED)
    {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| ServiceError::Internal(anyhow::anyhow!("a kept answer: {e}")))?;
    let mut answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if let Some(decision) = answer.pointer_mut(at) {
        let user_id = decision["userId"].as_str().map(str::to_string);
        if let (Some(user_id), true) = (user_id, decision["position"].is_null()) {
            let position = companion::position_of_use(app, token, &user_id).await?;
            decision["position"] = serde_json::json!(position);
        }
    }
    Ok((parts.status, parts.headers, Json(answer)).into_response())
}

#[utoipa::path(post, path = "/api/companion/invite/reserve", tag = "companion",
    request_body = ReserveRequest,
    responses((status = 200, body = Reserved, description = "A seat is held for this user until \
            `until`; the same reservation for a retry"),
        (status = 403, body = ErrorBody, description = "`INVITE_REQUIRED` (no token), \
            `INVITE_EMAIL_MISMATCH`, `EMAIL_DOMAIN_NOT_ALLOWED`"),
        (status = 404, body = ErrorBody, description = "`INVALID_TOKEN`"),
        (status = 410, body = ErrorBody, description = "`INVITE_USED_UP` (every seat used or \
            held), `INVITE_EXPIRED`, `INVITE_CANCELLED`, `INVITE_REJECTED`")),
    security(("companionKey" = [])))]
async fn reserve(
    State(app): State<App>,
    Greeted(caller): Greeted,
    RawBody(bytes): RawBody,
) -> Result<Json<Reserved>, ApiError> {
    let body: ReserveRequest = parse(&bytes)?;
    Ok(Json(seats::reserve(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/invite/confirm", tag = "companion",
    request_body = ConfirmRequest,
    responses((status = 200, body = Confirmed, description = "The seat is a use; the same answer \
            for a repeated confirm"),
        (status = 404, body = ErrorBody, description = "`RESERVATION_NOT_FOUND`"),
        (status = 409, body = ErrorBody, description = "`RESERVATION_RELEASED`: the ledger gave \
            the seat back (the plugin said the user did not exist, or never answered)")),
    security(("companionKey" = [])))]
async fn confirm(
    State(app): State<App>,
    Greeted(caller): Greeted,
    RawBody(bytes): RawBody,
) -> Result<Json<Confirmed>, ApiError> {
    let body: ConfirmRequest = parse(&bytes)?;
    Ok(Json(seats::confirm(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/user/set-role", tag = "companion",
    request_body = SetRoleRequest,
    responses((status = 200, body = RoleSet, description = "The role is the ledger's decision \
            (a `RoleSet` event); apply it compare-and-set on `position`"),
        (status = 400, body = ErrorBody, description = "`ROLE_NOT_CONFIGURED`"),
        (status = 403, body = ErrorBody, description = "`YOU_ARE_NOT_ALLOWED_TO_CHANGE_USERS_ROLE`: \
            not an admin, or above the admin's own role")),
    security(("companionKey" = [])))]
async fn set_role(
    State(app): State<App>,
    Greeted(caller): Greeted,
    RawBody(bytes): RawBody,
) -> Result<Json<RoleSet>, ApiError> {
    let body: SetRoleRequest = parse(&bytes)?;
    Ok(Json(roles::set_role(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/organization/allow-invitation", tag = "companion",
    request_body = AllowInvitation,
    responses((status = 200, body = Allowed, description = "Better Auth may write the invitation \
            (under the id asked about); it counts against the quotas from now"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR`, `INVALID_ID`, \
            `INVALID_EMAIL`, `INVALID_USER_ID`"),
        (status = 403, body = ErrorBody, description = "`EMAIL_DOMAIN_NOT_ALLOWED`"),
        (status = 429, body = ErrorBody, description = "`INVITE_QUOTA_EXCEEDED`: the message \
            names the limit (the inviter's or the organization's, open or in 24 hours)")),
    security(("companionKey" = [])))]
async fn allow_invitation(
    State(app): State<App>,
    CompanionKey(caller, _): CompanionKey,
    RawBody(bytes): RawBody,
) -> Result<Json<Allowed>, ApiError> {
    let body: AllowInvitation = parse(&bytes)?;
    Ok(Json(organizations::allow(&app, caller, body).await?))
}

#[utoipa::path(post, path = "/api/companion/organization/record", tag = "companion",
    request_body = RecordFact,
    responses((status = 200, body = Recorded, description = "Recorded, or held already \
            (`recorded: false`): a fact may be sent any number of times"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR` (also: `observed` \
            with `at`, or for a creation or an addition), `INVALID_ID`, `INVALID_EMAIL`, \
            `INVALID_USER_ID`")),
    security(("companionKey" = [])))]
async fn record_organization_fact(
    State(app): State<App>,
    CompanionKey(caller, _): CompanionKey,
    RawBody(bytes): RawBody,
) -> Result<Response, ApiError> {
    let body: RecordFact = parse(&bytes)?;
    let answer = organizations::record(&app, caller, body).await?;
    Ok(Json(answer).into_response())
}

#[utoipa::path(post, path = "/api/companion/organization/state", tag = "companion",
    request_body = StateRequest,
    responses((status = 200, body = OrganizationState, description = "What the ledger holds of \
            the organization, from its events (empty lists for one it never heard of): a \
            reconciliation compares it with Better Auth's tables and records what is missing"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR`, `INVALID_ID`")),
    security(("companionKey" = [])))]
async fn organization_state(
    State(app): State<App>,
    CompanionKey(_caller, _): CompanionKey,
    RawBody(bytes): RawBody,
) -> Result<Json<OrganizationState>, ApiError> {
    let body: StateRequest = parse(&bytes)?;
    Ok(Json(organizations::state(&app, body).await?))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        hello, create, create_many, get, list, cancel, reject, activate, use_invite, reserve, confirm,
        set_role, allow_invitation, record_organization_fact, organization_state
    ),
    tags((name = "companion", description = "For a Better Auth server's plugin, with an API key \
        of scope `companion` (docs/companion-protocol.md)"))
)]
struct CompanionDoc;

/// Adds the companion API and its key to the document.
pub struct CompanionPaths;

impl utoipa::Modify for CompanionPaths {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.merge(CompanionDoc::openapi());
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "companionKey",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some(
                            "A key from `invite-ledger apikey create --scope companion`, as \
                             `Authorization: Bearer` (or `x-api-key`)",
                        ))
                        .build(),
                ),
            );
    }
}
