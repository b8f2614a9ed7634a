//! The invite plugin's routes under `/api/auth/invite`.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use axum_extra::extract::CookieJar;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cookies;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Client, MaybeUser, PathParams, QueryParams, SignedInUser, User};
use super::HttpState;
use crate::app::App;
use crate::commands::bulk::{self, RowInput, SharedOptions};
use crate::commands::client::ClientInfo;
use crate::commands::idempotency::IdempotentRequest;
use crate::commands::invites::{self, Activation, Change, CreateInvite, CreatedAnswer, Done};
use crate::commands::quota::{self, QuotaStatus};
use crate::error::ServiceError;
use crate::queries::invite_list::{self, InviteList, ListQuery};

/// The `Idempotency-Key` of the request, when it sent one (see `idempotency`).
type Key = Option<Extension<IdempotentRequest>>;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/invite/create", post(create))
        .route("/invite/create-many", post(create_many))
        .route("/invite/quota", get(quota_left))
        .route("/invite/activate", post(activate))
        .route("/invite/get", get(get_by_query).post(get_by_body))
        .route("/invite/cancel", post(cancel))
        .route("/invite/reject", post(reject))
        .route("/invite/resend", post(resend))
        .route("/invite/list", get(list))
        .route("/invite/{token}", get(activate_link))
}

#[utoipa::path(post, path = "/api/auth/invite/create", tag = "invite",
    request_body = CreateInvite,
    responses((status = 200, body = CreatedAnswer, description = "The invite is in the ledger"),
        (status = 400, body = ErrorBody, description = "An unknown field or role, a bad `maxUses`, `expiresIn`, \
            `redirectTo*` or `customInviteUrl` (INVALID_REDIRECT), or the role may not invite, or \
            not to this role (`INSUFFICIENT_PERMISSIONS`, as the plugin answers)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "`EMAIL_DOMAIN_NOT_ALLOWED` \
            (`INVITE_ALLOWED_DOMAINS`, `INVITE_DENIED_DOMAINS`)"),
        (status = 409, body = ErrorBody, description = "`IDEMPOTENCY_KEY_IN_USE`: a twin request is being answered"),
        (status = 422, body = ErrorBody, description = "`IDEMPOTENCY_KEY_REUSED`: the key came with another request"),
        (status = 429, body = ErrorBody, description = "`INVITE_QUOTA_EXCEEDED`: the message names the limit \
            (`open invites: 5 of 5`)")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn create(
    State(app): State<App>,
    User(user): User,
    key: Key,
    Body(body): Body<CreateInvite>,
) -> Result<Json<CreatedAnswer>, ApiError> {
    let key = key.as_ref().map(|Extension(k)| k);
    let created = invites::create(&app, &user.account, body, key).await?;
    Ok(Json(created.answer()))
}

#[utoipa::path(post, path = "/api/auth/invite/create-many", tag = "invite",
    params(
        ("tokenType" = Option<String>, Query, description = "With a CSV body: a shared option \
            (with JSON, give the shared options in the body)"),
        ("maxUses" = Option<i64>, Query, description = "With a CSV body: a shared option"),
        ("expiresIn" = Option<i64>, Query, description = "With a CSV body: a shared option"),
        ("redirectToSignUp" = Option<String>, Query, description = "With a CSV body"),
        ("redirectToSignIn" = Option<String>, Query, description = "With a CSV body"),
        ("redirectToAfterUpgrade" = Option<String>, Query, description = "With a CSV body"),
        ("shareInviterName" = Option<bool>, Query, description = "With a CSV body"),
        ("senderResponseRedirect" = Option<String>, Query, description = "With a CSV body")),
    request_body(content = SharedOptions, description = "JSON: the invites beside the \
        options they share (`invite/create`'s but `email`, `role` and `senderResponse`). Or \
        `text/csv`: a header `email,role` or `email,role,name`, then one invite a line, the \
        shared options in the query string. At most `INVITE_BULK_MAX` (1000) invites, all \
        private", example = json!({"invites": [
            {"email": "ann@acme.com", "role": "user", "name": "Ann"},
            {"email": "bob@acme.com", "role": "user"}], "expiresIn": 604800})),
    responses((status = 200, body = bulk::BulkAnswer, description = "One entry per row, in \
            order: created with its `inviteId`, or refused with the `{code, message}` \
            `invite/create` gives (`INVALID_EMAIL`, `EMAIL_DOMAIN_NOT_ALLOWED`, \
            `INVITE_QUOTA_EXCEEDED`...). Valid rows are created even when others are refused"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR` (no invites, a bad \
            shared option), `TOO_MANY_INVITES`, `INVALID_CSV`, or the role may not invite \
            (`INSUFFICIENT_PERMISSIONS`)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 409, body = ErrorBody, description = "`IDEMPOTENCY_KEY_IN_USE`: a twin request is being answered")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn create_many(
    State(app): State<App>,
    User(user): User,
    key: Key,
    headers: axum::http::HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    super::extract::RawBody(body): super::extract::RawBody,
) -> Result<Json<Value>, ApiError> {
    let (rows, options) = bulk_request(&headers, query.as_deref(), &body)?;
    let key = key.as_ref().map(|Extension(k)| k);
    let issuing = bulk::Issuing::by_ledger();
    let answer =
        bulk::create_many(&app, &user.account, rows, options.into(), &issuing, key).await?;
    Ok(Json(answer))
}

/// The rows and shared options of a bulk request: a CSV upload (options in the
/// query) or a JSON body (options beside `invites`).
fn bulk_request(
    headers: &axum::http::HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<(Vec<RowInput>, SharedOptions), ApiError> {
    let invalid = |message: String| ServiceError::bad_request("VALIDATION_ERROR", message);
    super::extract::refuse_nul_in_json(body)?;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("text/csv") {
        let text = std::str::from_utf8(body)
            .map_err(|_| ServiceError::bad_request("INVALID_CSV", "The CSV must be UTF-8"))?;
        let options = serde_urlencoded_options(query.unwrap_or_default())?;
        if !options.invites.is_empty() {
            return Err(invalid("With a CSV body, the invites are its lines".into()).into());
        }
        return Ok((bulk::rows_from_csv(text)?, options));
    }
    if query.is_some_and(|q| !q.is_empty()) {
        return Err(invalid("With a JSON body, give the shared options in the body".into()).into());
    }
    let mut options: SharedOptions =
        serde_json::from_slice(body).map_err(|e| invalid(format!("Invalid body: {e}")))?;
    let invites = std::mem::take(&mut options.invites);
    Ok((
        invites.into_iter().map(RowInput::from_json).collect(),
        options,
    ))
}

/// The shared options of a CSV upload, from the query string.
fn serde_urlencoded_options(query: &str) -> Result<SharedOptions, ApiError> {
    super::extract::refuse_nul_in_url(query)?;
    let uri: axum::http::Uri = format!("/?{query}")
        .parse()
        .map_err(|_| ServiceError::bad_request("VALIDATION_ERROR", "Invalid query string"))?;
    axum::extract::Query::<SharedOptions>::try_from_uri(&uri)
        .map(|axum::extract::Query(options)| options)
        .map_err(|e| ServiceError::bad_request("VALIDATION_ERROR", e.body_text()).into())
}

#[utoipa::path(get, path = "/api/auth/invite/quota", tag = "invite",
    responses((status = 200, body = QuotaStatus, description = "The signed-in user's limits \
            from `INVITE_QUOTAS` (`null` when none), what they use (counted from the ledger: \
            open invites, invites created in the last 24 hours) and what is left"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn quota_left(
    State(app): State<App>,
    User(user): User,
) -> Result<Json<QuotaStatus>, ApiError> {
    Ok(Json(quota::status(&app, &user.account).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct ActivateBody {
    /// Optional: without it, the activated invite's cookie is used.
    token: Option<String>,
    /// The seed's `callbackURL` (camelCase would make it `callbackUrl`).
    #[serde(rename = "callbackURL", alias = "redirectTo")]
    callback_url: Option<String>,
}

/// What an activation leads to.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NextStep {
    /// A visitor: the invite cookie is set; sign up or sign in to use it.
    SignInUpRequired,
    /// A signed-in user: the invite was used, the role is set.
    RedirectToAfterUpgrade,
}

/// What `invite/activate` answers.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activated {
    status: bool,
    message: String,
    action: NextStep,
    /// Where the front end goes next.
    redirect_to: String,
}

#[utoipa::path(post, path = "/api/auth/invite/activate", tag = "invite",
    request_body(content = ActivateBody, description = "Without a token, the invite \
        cookie's"),
    responses((status = 200, body = Activated, description = "`SIGN_IN_UP_REQUIRED` (sets the \
            invite cookie) or `REDIRECT_TO_AFTER_UPGRADE` (used at once)"),
        (status = 400, body = ErrorBody, description = "No token, a malformed body, or the \
            plugin's refusals with ours as `reason`: `INVALID_TOKEN` (none, or cancelled or \
            rejected), `INVALID_OR_EXPIRED_INVITE`, `INVITE_TOKEN_HAS_ALREADY_BEEN_USED`, \
            `INVALID_EMAIL` (for another email), `CANT_ACCEPT_INVITE` (the user's own, or it \
            would lower their role)"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn activate(
    State(state): State<HttpState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeUser(user): MaybeUser,
    Body(body): Body<ActivateBody>,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let token = body
        .token
        .or_else(|| cookies::invite_token(&jar, &app.settings))
        .ok_or_else(|| ServiceError::bad_request("MISSING_TOKEN", "An invite token is required"))?;
    let account = user.as_ref().map(|u| &u.account);
    let activation = state
        .guards
        .token_lookup(
            &client,
            invites::activate(app, account, &token, body.callback_url.as_deref(), &client),
        )
        .await?;
    Ok(match activation {
        Activation::SignInUpRequired { redirect_to } => (
            cookies::with_invite(jar, &app.settings, &token),
            Json(Activated {
                status: true,
                message: "Invite activated: sign up or sign in to use it".into(),
                action: NextStep::SignInUpRequired,
                redirect_to,
            }),
        )
            .into_response(),
        Activation::Used { redirect_to } => (
            cookies::without_invite(jar, &app.settings),
            Json(Activated {
                status: true,
                message: "Invite used: your role was updated".into(),
                action: NextStep::RedirectToAfterUpgrade,
                redirect_to,
            }),
        )
            .into_response(),
    })
}

#[derive(Deserialize)]
struct LinkQuery {
    #[serde(rename = "callbackURL", alias = "redirectTo")]
    callback_url: Option<String>,
}

/// The link in emails and URLs. It only activates and redirects, whoever follows
/// it: a GET never changes anyone's role. Failures redirect with `?error=CODE&message=`.
#[utoipa::path(get, path = "/api/auth/invite/{token}", tag = "invite",
    params(("token" = String, Path, description = "The invite token"),
        ("callbackURL" = Option<String>, Query, description = "Where to go next")),
    responses((status = 303, description = "Activated: the invite cookie is set; failures \
        redirect with `?error=CODE&message=...` (the plugin's) and our `reason`. Never changes \
        a role"),
        (status = 403, body = ErrorBody, description = "INVALID_CALLBACK_URL")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn activate_link(
    State(state): State<HttpState>,
    Client(client): Client,
    jar: CookieJar,
    MaybeUser(user): MaybeUser,
    PathParams(token): PathParams<String>,
    QueryParams(query): QueryParams<LinkQuery>,
) -> Result<Response, ApiError> {
    let app = &state.app;
    let callback = invites::checked_callback(app, query.callback_url.as_deref())?;
    let account = user.as_ref().map(|u| &u.account);
    let outcome = state
        .guards
        .token_lookup(
            &client,
            invites::activate_only(app, account, &token, callback.clone(), &client),
        )
        .await;
    Ok(match outcome {
        Ok(Activation::SignInUpRequired { redirect_to } | Activation::Used { redirect_to }) => (
            cookies::with_invite(jar, &app.settings, &token),
            Redirect::to(&redirect_to),
        )
            .into_response(),
        Err(error) if error.is_server_error() => return Err(error),
        Err(refused) => {
            let page =
                callback.unwrap_or_else(|| app.settings.config.default_redirect_to_sign_up.clone());
            Redirect::to(&failed_link_page(&page, &refused)).into_response()
        }
    })
}

#[utoipa::path(get, path = "/api/auth/invite/list", tag = "invite",
    params(ListQuery),
    responses((status = 200, body = InviteList, description = "The signed-in user's invites, \
            as the plugin lists them (`total`, `invitations`, `limit`, `offset`); an invite's \
            `id` stands for its token, which is not kept"),
        (status = 400, body = ErrorBody, description = "`VALIDATION_ERROR`: a field, operator or \
            limit the list does not take"),
        (status = 401, body = ErrorBody, description = "Not signed in")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn list(
    State(app): State<App>,
    User(user): User,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<InviteList>, ApiError> {
    Ok(Json(invite_list::own(&app, &user.account, &query).await?))
}

/// Where a failed link leads, as the plugin sends it: `?error=CODE&message=...`,
/// with our own code as `reason` when it says more.
fn failed_link_page(page: &str, refused: &ApiError) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", refused.code());
    query.append_pair("message", &refused.to_string());
    if let Some(reason) = refused.reason() {
        query.append_pair("reason", reason);
    }
    let separator = if page.contains('?') { '&' } else { '?' };
    format!("{page}{separator}{}", query.finish())
}

#[derive(Deserialize, ToSchema)]
struct TokenBody {
    token: String,
}

#[utoipa::path(get, path = "/api/auth/invite/get", tag = "invite",
    params(("token" = String, Query, description = "The invite token")),
    responses((status = 200, body = invites::InviteInfo, description = "What the invitee accepts"),
        (status = 400, body = ErrorBody, description = "No token, or no invite has it (`INVALID_TOKEN`)"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn get_by_query(
    State(state): State<HttpState>,
    Client(client): Client,
    MaybeUser(user): MaybeUser,
    QueryParams(query): QueryParams<TokenBody>,
) -> Result<Json<invites::InviteInfo>, ApiError> {
    get_invite(state, client, user.map(|u| u.account), query.token).await
}

#[utoipa::path(post, path = "/api/auth/invite/get", tag = "invite",
    request_body = TokenBody,
    responses((status = 200, body = invites::InviteInfo, description = "What the invitee accepts"),
        (status = 400, body = ErrorBody, description = "No token, a malformed body, or no invite \
            has it (`INVALID_TOKEN`)"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security((), ("session" = []), ("sessionCookie" = [])))]
async fn get_by_body(
    State(state): State<HttpState>,
    Client(client): Client,
    MaybeUser(user): MaybeUser,
    Body(body): Body<TokenBody>,
) -> Result<Json<invites::InviteInfo>, ApiError> {
    get_invite(state, client, user.map(|u| u.account), body.token).await
}

async fn get_invite(
    state: HttpState,
    client: ClientInfo,
    viewer: Option<crate::auth::accounts::Account>,
    token: String,
) -> Result<Json<invites::InviteInfo>, ApiError> {
    let info = state
        .guards
        .checked_token_lookup(&client, |guessing| async move {
            invites::get(&state.app, viewer.as_ref(), &token, &guessing).await
        })
        .await?;
    // Serialized straight from the struct: no intermediate JSON tree per request.
    Ok(Json(info))
}

/// `{token}` or `{inviteId}`: which invite its creator (or an admin) manages.
/// A private invite's creator never sees its token, so the id serves too.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct InviteTarget {
    token: Option<String>,
    invite_id: Option<uuid::Uuid>,
}

impl InviteTarget {
    /// The token's hash (the invite's aggregate id); exactly one of the two is
    /// given, and an unknown id is a 404 (a token still counts as a guess).
    async fn token_hash(&self, state: &HttpState) -> Result<String, ApiError> {
        match (&self.token, self.invite_id) {
            (Some(token), None) => Ok(invites::id_of_token(&state.app, token).await?),
            (None, Some(id)) => invites::token_hash_of(&state.app, id)
                .await?
                .ok_or_else(|| {
                    ServiceError::NotFound {
                        code: "INVITE_NOT_FOUND",
                        message: "No invite has this id".into(),
                    }
                    .into()
                }),
            _ => Err(ServiceError::bad_request(
                "VALIDATION_ERROR",
                "Give exactly one of `token` and `inviteId`",
            )
            .into()),
        }
    }
}

#[utoipa::path(post, path = "/api/auth/invite/cancel", tag = "invite",
    request_body(content = InviteTarget, description = "`{token}` or `{inviteId}` (exactly one)"),
    responses((status = 200, body = Done, description = "Cancelled"),
        (status = 400, body = ErrorBody, description = "Neither or both of `token` and \
            `inviteId`; `INVALID_TOKEN` (no such token, or no longer open); \
            `INSUFFICIENT_PERMISSIONS` (not the invite's creator nor an admin, or \
            `CAN_CANCEL_INVITE=false`)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 404, body = ErrorBody, description = "No invite has this `inviteId`"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn cancel(
    State(state): State<HttpState>,
    Client(client): Client,
    User(user): User,
    key: Key,
    Body(body): Body<InviteTarget>,
) -> Result<Json<Done>, ApiError> {
    change(state, client, user, key, body, Change::Cancel).await
}

#[utoipa::path(post, path = "/api/auth/invite/reject", tag = "invite",
    request_body = TokenBody,
    responses((status = 200, body = Done, description = "Rejected"),
        (status = 400, body = ErrorBody, description = "No token; `CANT_REJECT_INVITE` (not \
            private, for another email, or `CAN_REJECT_INVITE=false`); `INVALID_TOKEN` (no such \
            token, or no longer open)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn reject(
    State(state): State<HttpState>,
    Client(client): Client,
    User(user): User,
    Body(body): Body<TokenBody>,
) -> Result<Json<Done>, ApiError> {
    let rejected = invites::reject(&state.app, &user.account, &body.token);
    state.guards.token_lookup(&client, rejected).await?;
    Ok(Json(Done::rejected()))
}

#[utoipa::path(post, path = "/api/auth/invite/resend", tag = "invite",
    request_body(content = InviteTarget, description = "`{token}` or `{inviteId}` (exactly \
        one) of a private invite"),
    responses((status = 200, body = Done, description = "The email goes again (a `Resent` \
            event)"),
        (status = 400, body = ErrorBody, description = "Neither or both of `token` and \
            `inviteId`, not a private invite (`CANT_REJECT_INVITE`/`NOT_A_PRIVATE_INVITE`), no such \
            token or no longer open (`INVALID_TOKEN`)"),
        (status = 401, body = ErrorBody, description = "Not signed in"),
        (status = 403, body = ErrorBody, description = "Not the invite's creator nor an admin"),
        (status = 404, body = ErrorBody, description = "No invite has this `inviteId`"),
        (status = 409, body = ErrorBody, description = "The invite's token was not kept for its email"),
        (status = 429, body = ErrorBody, description = "Too many unknown tokens from this address")),
    security(("session" = []), ("sessionCookie" = [])))]
async fn resend(
    State(state): State<HttpState>,
    Client(client): Client,
    User(user): User,
    key: Key,
    Body(body): Body<InviteTarget>,
) -> Result<Json<Done>, ApiError> {
    change(state, client, user, key, body, Change::Resend).await
}

/// Cancel and resend: the invite named by token or id, changed by its creator
/// (or an admin); unknown tokens count toward the guessing limit.
async fn change(
    state: HttpState,
    client: ClientInfo,
    user: SignedInUser,
    key: Key,
    body: InviteTarget,
    change: Change,
) -> Result<Json<Done>, ApiError> {
    let hash = body.token_hash(&state).await?;
    let key = key.as_ref().map(|Extension(k)| k);
    let changed = invites::change(&state.app, &user.account, &hash, change, key);
    Ok(Json(state.guards.token_lookup(&client, changed).await?))
}
