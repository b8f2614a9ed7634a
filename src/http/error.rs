//! The one place errors become HTTP: `{"code", "message"}` with a fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::domain::invite::InviteError;
use crate::domain::user::UserError;
use crate::service::ServiceError;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError(pub ServiceError);

impl<E: Into<ServiceError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

pub fn status_of(error: &ServiceError) -> StatusCode {
    match error {
        ServiceError::Invite(e) => match e {
            InviteError::NotFound => StatusCode::NOT_FOUND,
            InviteError::UnknownRole(_)
            | InviteError::InvalidMaxUses
            | InviteError::InvalidExpiry
            | InviteError::NotPrivate => StatusCode::BAD_REQUEST,
            InviteError::NotAllowedToInvite(_)
            | InviteError::EmailMismatch
            | InviteError::OwnInvite
            | InviteError::NotCreator
            | InviteError::NotInvitee
            | InviteError::NotAllowedToResend => StatusCode::FORBIDDEN,
            InviteError::TokenTaken
            | InviteError::WouldLowerRole
            | InviteError::NotExpired
            | InviteError::TokenNotKept => StatusCode::CONFLICT,
            InviteError::Expired
            | InviteError::UsedUp
            | InviteError::Cancelled
            | InviteError::Rejected => StatusCode::GONE,
        },
        ServiceError::User(e) => match e {
            UserError::AlreadyExists => StatusCode::UNPROCESSABLE_ENTITY,
            UserError::NotFound => StatusCode::NOT_FOUND,
            UserError::UnknownRole(_) => StatusCode::BAD_REQUEST,
            UserError::NotAllowed => StatusCode::FORBIDDEN,
        },
        ServiceError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        ServiceError::Unauthorized | ServiceError::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ServiceError::Forbidden { .. } => StatusCode::FORBIDDEN,
        ServiceError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let message = match &self.0 {
            // Internals are logged, never shown.
            ServiceError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                "Internal server error".to_string()
            }
            other => other.to_string(),
        };
        let body = json!({ "code": self.0.code(), "message": message });
        (status, Json(body)).into_response()
    }
}

pub async fn not_found() -> Response {
    let body = json!({ "code": "NOT_FOUND", "message": "No such endpoint" });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

pub async fn method_not_allowed() -> Response {
    let body = json!({
        "code": "METHOD_NOT_ALLOWED",
        "message": "This endpoint does not take this HTTP method",
    });
    (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response()
}
