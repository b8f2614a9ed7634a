//! Extractors: JSON bodies whose rejections speak our error shape, and the
//! signed-in user (session cookie or `Authorization: Bearer`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::Json;
use axum_extra::extract::CookieJar;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::App;
use crate::auth::accounts::Account;
use crate::auth::session::{self, Session};
use crate::service::accounts::ClientInfo;
use crate::service::ServiceError;

/// A JSON body; bad JSON, wrong types and missing fields are a 400
/// `VALIDATION_ERROR`, the code Better Auth gives them.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

fn validation_error(message: String) -> ApiError {
    ApiError(ServiceError::bad_request("VALIDATION_ERROR", message))
}

/// Query-string parameters; malformed or missing ones are a 400 `VALIDATION_ERROR`.
pub struct QueryParams<T>(pub T);

impl<S, T> FromRequestParts<S> for QueryParams<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(QueryParams(value)),
            Err(rejection) => Err(validation_error(rejection.body_text())),
        }
    }
}

/// Path parameters; undecodable ones are a 400 `VALIDATION_ERROR`.
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
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
        let found = session::find_with_account(&app.pool, &token, app.clock.now()).await?;
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
            None => Err(ApiError(ServiceError::Unauthorized)),
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
        CookieJar::from_headers(&parts.headers)
            .get(&app.settings.session_cookie)
            .map(|c| c.value().to_string())
    })
}

/// Where the request came from, for sessions and rate limits.
fn client_info(parts: &Parts) -> ClientInfo {
    ClientInfo {
        ip: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip()),
        user_agent: parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// The client info of a request, as an extractor.
pub struct Client(pub ClientInfo);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(client_info(parts)))
    }
}
