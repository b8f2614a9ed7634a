//! Who may read the audit API: an admin's session, or an API key.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use crate::auth::api_keys;
use crate::error::ServiceError;
use crate::http::error::ApiError;
use crate::http::extract::MaybeUser;
use crate::http::HttpState;

/// An admin's session, or an API key (`x-api-key` or `Authorization: Bearer`).
pub struct Auditor;

impl FromRequestParts<HttpState> for Auditor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &HttpState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .filter(|t| t.trim().starts_with(api_keys::PREFIX));
        let key = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or(bearer);
        if let Some(key) = key {
            return match api_keys::identify(&state.app.pool, key.trim()).await? {
                Some(known) if known.scope == api_keys::Scope::Audit => Ok(Auditor),
                Some(_) => Err(ApiError::Service(ServiceError::Forbidden {
                    code: "API_KEY_SCOPE",
                    message: "This API key's scope does not cover the audit API".into(),
                })),
                None => Err(ApiError::Service(ServiceError::Forbidden {
                    code: "INVALID_API_KEY",
                    message: "This API key is not valid".into(),
                })),
            };
        }
        match MaybeUser::from_request_parts(parts, state).await?.0 {
            Some(user) if state.app.settings.roles.is_admin(&user.account.role) => Ok(Auditor),
            Some(_) => Err(ApiError::Service(ServiceError::Forbidden {
                code: "INSUFFICIENT_PERMISSIONS",
                message: "The audit API is for admins and API keys".into(),
            })),
            None => Err(ApiError::Service(ServiceError::Unauthorized)),
        }
    }
}
