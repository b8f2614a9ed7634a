//! Extractors: JSON bodies whose rejections speak our error shape, and the
//! signed-in user (session cookie or `Authorization: Bearer`).

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use axum_extra::extract::CookieJar;
use ipnet::IpNet;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::App;
use crate::auth::accounts::Account;
use crate::auth::session::{self, Session};
use crate::commands::client::ClientInfo;
use crate::error::ServiceError;

/// A JSON body; bad JSON, wrong types, missing fields and NUL characters are
/// a 400 `VALIDATION_ERROR`, the code Better Auth gives them; a body over the
/// size limit is a 413.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let headers = parts.headers.clone();
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|rejection| body_refusal(rejection.status(), rejection.body_text()))?;
        refuse_nul_in_json(&bytes)?;
        let mut buffered = Request::new(axum::body::Body::from(bytes));
        *buffered.headers_mut() = headers;
        match Json::<T>::from_request(buffered, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(body_refusal(rejection.status(), rejection.body_text())),
        }
    }
}

/// A raw body (a CSV upload, say) whose refusals speak our error shape: over
/// the size limit is a JSON 413, as for a JSON body.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|rejection| body_refusal(rejection.status(), rejection.body_text()))
    }
}

fn body_refusal(status: StatusCode, message: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::refused(status, "PAYLOAD_TOO_LARGE", "The request body is too large")
    } else {
        validation_error(message)
    }
}

pub(super) fn validation_error(message: String) -> ApiError {
    ApiError::Service(ServiceError::bad_request("VALIDATION_ERROR", message))
}

/// The one rule for NUL characters: PostgreSQL cannot store them in text, and
/// no field of ours has a use for them, so they are refused at the edge, in a
/// body (`refuse_nul_in_json`) and in a URL's path or query (`refuse_nul_in_url`).
fn nul_refused() -> ApiError {
    validation_error("Input must not contain NUL characters".into())
}

/// Refuses a JSON body (or any body) that carries a NUL.
pub(super) fn refuse_nul_in_json(json: &[u8]) -> Result<(), ApiError> {
    if json_has_nul(json) {
        return Err(nul_refused());
    }
    Ok(())
}

/// Refuses a URL part (path or query) that carries a NUL.
pub(super) fn refuse_nul_in_url(part: &str) -> Result<(), ApiError> {
    if url_has_nul(part) {
        return Err(nul_refused());
    }
    Ok(())
}

/// Whether a text carries a NUL: raw anywhere (never valid JSON anyway), or as
/// the JSON escape `\u0000`. Backslashes only occur inside strings, so
/// walking the escapes is exact.
fn json_has_nul(json: &[u8]) -> bool {
    if json.contains(&0) {
        return true;
    }
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            0 => return true,
            b'\\' if json.get(i + 1) == Some(&b'u') => {
                if json.get(i + 2..i + 6) == Some(b"0000".as_slice()) {
                    return true;
                }
                i += 2;
            }
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    false
}

/// Whether a URL part carries a NUL, percent-encoded (a raw one never gets
/// past the HTTP parser).
fn url_has_nul(part: &str) -> bool {
    part.as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

/// Query-string parameters; malformed or missing ones, or a NUL, are a 400
/// `VALIDATION_ERROR`.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        refuse_nul_in_url(parts.uri.query().unwrap_or_default())?;
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

/// As `QueryParams`, where a parameter may repeat (`a=1&a=2` fills a `Vec`), as
/// Better Auth's router reads a repeated parameter as a list.
pub struct ListQueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for ListQueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        refuse_nul_in_url(parts.uri.query().unwrap_or_default())?;
        match axum_extra::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum_extra::extract::Query(value)) => Ok(ListQueryParams(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

/// Path parameters; undecodable ones, or a NUL, are a 400 `VALIDATION_ERROR`.
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        refuse_nul_in_url(parts.uri.path())?;
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PathParams(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

/// The signed-in user, if any.
pub struct MaybeUser(pub Option<SignedInUser>);

pub struct SignedInUser {
    pub account: Account,
    pub session: Session,
    pub token: String,
}

/// The signed-in user, or a 401.
pub struct User(pub SignedInUser);

impl<S> FromRequestParts<S> for MaybeUser
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = App::from_ref(state);
        let Some(token) = session_token(parts, &app) else {
            return Ok(MaybeUser(None));
        };
        let mut found = session::find_with_account(&app.pool, &token, app.clock.now()).await?;
        // An account registered through another replica may not be in this
        // one's `user_account` yet: a session without it waits for the log.
        if found.is_none() && app.see_the_log().await.map_err(ServiceError::from)? {
            found = session::find_with_account(&app.pool, &token, app.clock.now()).await?;
        }
        let Some((session, account)) = found else {
            return Ok(MaybeUser(None));
        };
        Ok(MaybeUser(Some(SignedInUser {
            account,
            session,
            token,
        })))
    }
}

impl<S> FromRequestParts<S> for User
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await?.0 {
            Some(user) => Ok(User(user)),
            None => Err(ApiError::Service(ServiceError::Unauthorized)),
        }
    }
}

fn session_token(parts: &Parts, app: &App) -> Option<String> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    bearer.or_else(|| {
        super::cookies::session_token(&CookieJar::from_headers(&parts.headers), &app.settings)
    })
}

/// Where the request came from, for sessions and rate limits: the peer, or,
/// when the peer is a trusted proxy, the client its `X-Forwarded-For` names.
fn client_info(parts: &Parts, trusted_proxies: &[IpNet]) -> ClientInfo {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    ClientInfo {
        ip: peer.map(|peer| forwarded_client(peer, &parts.headers, trusted_proxies)),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// Walks `X-Forwarded-For` from the right (each proxy appends the address it
/// got the request from) past the trusted proxies: the first other address is
/// the client. What anyone before that wrote is never believed.
fn forwarded_client(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|net| net.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = ip;
                if !trusted(&ip) {
                    break;
                }
            }
            // Garbage: nothing further left can be trusted.
            Err(_) => break,
        }
    }
    client
}

/// The client info of a request, as an extractor.
pub struct Client(pub ClientInfo);

impl<S> FromRequestParts<S> for Client
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = App::from_ref(state);
        Ok(Client(client_info(
            parts,
            &app.settings.config.trusted_proxies,
        )))
    }
}

/// Refuses a query string that names a parameter none of `A` to `D` (the
/// handler's parameter sets, as documented in OpenAPI) declares: a misspelt
/// filter must not quietly widen an answer. Put it before the `QueryParams`.
pub struct KnownParams<A, B = NoParams, C = NoParams, D = NoParams>(
    std::marker::PhantomData<(A, B, C, D)>,
);

/// No parameters: the default for `KnownParams`'s unused slots.
pub struct NoParams;

impl utoipa::IntoParams for NoParams {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        Vec::new()
    }
}

impl<S, A, B, C, D> FromRequestParts<S> for KnownParams<A, B, C, D>
where
    A: utoipa::IntoParams,
    B: utoipa::IntoParams,
    C: utoipa::IntoParams,
    D: utoipa::IntoParams,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let known: Vec<String> = [
            A::into_params(|| None),
            B::into_params(|| None),
            C::into_params(|| None),
            D::into_params(|| None),
        ]
        .into_iter()
        .flatten()
        .map(|param| param.name)
        .collect();
        let query = parts.uri.query().unwrap_or_default();
        for (name, _) in url::form_urlencoded::parse(query.as_bytes()) {
            if !known.iter().any(|k| *k == name) {
                let mut shown: String = name.chars().take(40).collect();
                if shown.len() < name.len() {
                    shown.push('…');
                }
                return Err(validation_error(format!(
                    "Unknown query parameter `{shown}`; this endpoint takes: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
        }
        Ok(KnownParams(std::marker::PhantomData))
    }
}

/// Query parameters read strictly: repeated keys fill lists (`type=a&type=b`),
/// and with `#[serde(deny_unknown_fields)]` a misspelt parameter is refused,
/// never ignored. Malformed values, or a NUL, are a 400 `VALIDATION_ERROR`.
pub struct StrictQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for StrictQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        refuse_nul_in_url(parts.uri.query().unwrap_or_default())?;
        match axum_extra::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum_extra::extract::Query(value)) => Ok(StrictQuery(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded_for: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded_for.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        let client = |peer, value: &str| forwarded_client(peer, &headers(value), &proxies);
        assert_eq!(client(proxy, "198.51.100.1").to_string(), "198.51.100.1");
        // A spoofed hop in front of the real client is skipped.
        assert_eq!(
            client(proxy, "1.2.3.4, 198.51.100.1, 10.0.0.7").to_string(),
            "198.51.100.1"
        );
        // From an untrusted peer the header is the peer's own invention.
        assert_eq!(client(stranger, "1.2.3.4"), stranger);
        assert_eq!(client(proxy, "not-an-address"), proxy);
    }
}
