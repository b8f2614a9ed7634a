//! The one place errors become HTTP: `{"code", "message"}` with a fitting status.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::domain::invite::InviteError;
use crate::domain::user::UserError;
use crate::error::ServiceError;

/// How long a client is told to wait when the database is unreachable.
const DATABASE_RETRY_AFTER: Duration = Duration::from_secs(5);
/// How long a client is told to wait after a refusal without its own window.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The API's one error type: everything a handler, extractor or middleware
/// answers with when it does not answer with success. `status_code` is the one
/// map from error to status; `into_response` writes every one of them as
/// `{"code", "message"}`, internals logged and never shown.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// What a use case refused or failed at (every `ServiceError`, and what
    /// converts into one: database, ledger and domain errors).
    #[error(transparent)]
    Service(ServiceError),
    /// A refusal decided at the HTTP edge, with its own status: bad framing,
    /// origin, a rate limit with its own wait, a timeout, an unknown position.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
        retry_after: Option<Duration>,
    },
}

impl ApiError {
    pub fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Refused {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// This refusal, telling the client when to come back (`Retry-After`).
    pub fn with_retry_after(self, wait: Duration) -> Self {
        match self {
            ApiError::Refused {
                status,
                code,
                message,
                ..
            } => ApiError::Refused {
                status,
                code,
                message,
                retry_after: Some(wait),
            },
            other => other,
        }
    }

    pub fn too_many_requests(retry_after: Duration) -> Self {
        ApiError::refused(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "Too many attempts; try again later",
        )
        .with_retry_after(retry_after)
    }

    pub fn database_unreachable() -> Self {
        ApiError::refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The database is unreachable; try again shortly",
        )
        .with_retry_after(DATABASE_RETRY_AFTER)
    }

    /// The stable code clients see: the plugin's where it has one.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Service(error) => protocol_code(error).0,
            ApiError::Refused { code, .. } => code,
        }
    }

    /// Our own, more precise code, when the plugin's `code` says less.
    pub fn reason(&self) -> Option<&'static str> {
        match self {
            ApiError::Service(error) => protocol_code(error).1,
            ApiError::Refused { .. } => None,
        }
    }

    /// The status this error answers with.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Service(error) => status_of(error),
            ApiError::Refused { status, .. } => *status,
        }
    }

    /// Whether the fault is ours (or the database's), not the request's.
    pub fn is_server_error(&self) -> bool {
        self.status_code().is_server_error()
    }
}

/// Anything a use case fails with converts, so handlers use `?` throughout.
impl<E: Into<ServiceError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError::Service(e.into())
    }
}

tokio::task_local! {
    /// Set while a request to the plugin's routes (`/api/auth`) is answered:
    /// an invite's refusals then take the plugin's codes and statuses. Other
    /// APIs (the companion's, the audit API) keep ours.
    static PLUGIN_PROTOCOL: ();
}

/// Middleware of the `/api/auth` routes: they answer as the plugin does.
pub async fn plugin_protocol(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    PLUGIN_PROTOCOL.scope((), next.run(request)).await
}

fn speaking_plugin() -> bool {
    PLUGIN_PROTOCOL.try_with(|_| ()).is_ok()
}

/// The code the invite plugin (`better-invite`) answers an invite's refusal
/// with, and ours beside it when ours says more (the body's `reason`).
fn protocol_code(error: &ServiceError) -> (&'static str, Option<&'static str>) {
    let ours = error.code();
    let ServiceError::Invite(e) = error else {
        return (ours, None);
    };
    if !speaking_plugin() {
        return (ours, None);
    }
    let plugin = match e {
        InviteError::NotFound | InviteError::Cancelled | InviteError::Rejected => "INVALID_TOKEN",
        InviteError::Expired => "INVALID_OR_EXPIRED_INVITE",
        InviteError::UsedUp | InviteError::AlreadyUsedByUser => {
            "INVITE_TOKEN_HAS_ALREADY_BEEN_USED"
        }
        InviteError::EmailMismatch => "INVALID_EMAIL",
        InviteError::OwnInvite | InviteError::WouldLowerRole => "CANT_ACCEPT_INVITE",
        InviteError::NotAllowedToInvite(_) | InviteError::NotCreator => "INSUFFICIENT_PERMISSIONS",
        InviteError::NotInvitee | InviteError::NotPrivate => "CANT_REJECT_INVITE",
        // Ours alone: the plugin has no such refusal.
        InviteError::TokenTaken
        | InviteError::UnknownRole(_)
        | InviteError::InvalidMaxUses
        | InviteError::InvalidExpiry
        | InviteError::NotExpired
        | InviteError::NotAllowedToResend
        | InviteError::TokenNotKept
        | InviteError::ReservationNotFound
        | InviteError::ReservationReleased => ours,
    };
    (plugin, (plugin != ours).then_some(ours))
}

/// The one map from a use case's error to its status.
fn status_of(error: &ServiceError) -> StatusCode {
    match error {
        ServiceError::Invite(e) if !speaking_plugin() => match e {
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
            InviteError::ReservationNotFound => StatusCode::NOT_FOUND,
            InviteError::TokenTaken
            | InviteError::ReservationReleased
            | InviteError::WouldLowerRole
            | InviteError::NotExpired
            | InviteError::AlreadyUsedByUser
            | InviteError::TokenNotKept => StatusCode::CONFLICT,
            InviteError::Expired
            | InviteError::UsedUp
            | InviteError::Cancelled
            | InviteError::Rejected => StatusCode::GONE,
        },
        // The plugin refuses with 400 throughout; what only we refuse keeps
        // its own status.
        ServiceError::Invite(e) => match e {
            InviteError::NotFound
            | InviteError::UnknownRole(_)
            | InviteError::InvalidMaxUses
            | InviteError::InvalidExpiry
            | InviteError::NotPrivate
            | InviteError::NotAllowedToInvite(_)
            | InviteError::EmailMismatch
            | InviteError::OwnInvite
            | InviteError::NotCreator
            | InviteError::NotInvitee
            | InviteError::WouldLowerRole
            | InviteError::Expired
            | InviteError::UsedUp
            | InviteError::AlreadyUsedByUser
            | InviteError::Cancelled
            | InviteError::Rejected => StatusCode::BAD_REQUEST,
            InviteError::NotAllowedToResend => StatusCode::FORBIDDEN,
            InviteError::ReservationNotFound => StatusCode::NOT_FOUND,
            InviteError::TokenTaken
            | InviteError::ReservationReleased
            | InviteError::NotExpired
            | InviteError::TokenNotKept => StatusCode::CONFLICT,
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
        ServiceError::NotFound { .. } => StatusCode::NOT_FOUND,
        ServiceError::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::QuotaExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::IdempotencyKeyInUse => StatusCode::CONFLICT,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Whether an internal error is the database being out of reach (down,
/// refusing connections, or the pool unable to hand one out in time), which
/// is worth a fast 503 rather than a 500. The ledger passes store errors on
/// as text, hence the message check beside the typed one.
pub fn is_database_unreachable(error: &anyhow::Error) -> bool {
    let typed = error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::Tls(_)
            )
        )
    });
    // A connection PostgreSQL ended (fast shutdown, `pg_terminate_backend`,
    // recovery): class 57P, operator intervention.
    let ended = error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<sqlx::Error>(),
            Some(sqlx::Error::Database(db))
                if db.code().is_some_and(|code| code.starts_with("57P"))
        )
    });
    let text = format!("{error:#}");
    typed
        || ended
        || text.contains("pool timed out while waiting for an open connection")
        || text.contains("error communicating with database")
        || text.contains("terminating connection due to administrator command")
        || text.contains("the database system is shutting down")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let reason = self.reason();
        let (status, code, message, retry_after) = match self {
            ApiError::Refused {
                status,
                code,
                message,
                retry_after,
            } => (status, code, message, retry_after),
            ApiError::Service(ServiceError::Internal(error)) if is_database_unreachable(&error) => {
                log_database_unreachable(&error);
                return ApiError::database_unreachable().into_response();
            }
            ApiError::Service(error) => {
                let message = match &error {
                    // Internals are logged, never shown.
                    ServiceError::Internal(error) => {
                        tracing::error!(error = format!("{error:#}"), "internal error");
                        "Internal server error".to_string()
                    }
                    other => other.to_string(),
                };
                let retry_after =
                    matches!(error, ServiceError::RateLimited).then_some(DEFAULT_RETRY_AFTER);
                (
                    status_of(&error),
                    protocol_code(&error).0,
                    message,
                    retry_after,
                )
            }
        };
        let body = ErrorBody {
            code: code.to_string(),
            message,
            reason: reason.map(str::to_string),
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(wait) = retry_after {
            // Whole seconds, rounded up, so a client never comes back too early.
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

/// Logs an outage once per `DATABASE_RETRY_AFTER`, not once per request: during
/// an outage every request fails the same way.
fn log_database_unreachable(error: &anyhow::Error) {
    static LAST_LOGGED: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST_LOGGED.load(Ordering::Relaxed);
    if now >= last + DATABASE_RETRY_AFTER.as_secs()
        && LAST_LOGGED
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            error = format!("{error:#}"),
            "database unreachable; answering 503"
        );
    }
}

/// Every refusal's body, whatever refused: the route, the HTTP layer or a guard.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code, e.g. `INVALID_OR_EXPIRED_INVITE`.
    #[schema(example = "INVALID_OR_EXPIRED_INVITE")]
    pub code: String,
    /// What went wrong, for people.
    #[schema(example = "The invite has expired")]
    pub message: String,
    /// Our own code where the plugin's `code` says less, e.g. `INVITE_CANCELLED`
    /// beside `INVALID_TOKEN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "INVITE_EXPIRED")]
    pub reason: Option<String>,
}

pub async fn not_found() -> Response {
    ApiError::refused(StatusCode::NOT_FOUND, "NOT_FOUND", "No such endpoint").into_response()
}

pub async fn method_not_allowed() -> Response {
    ApiError::refused(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "This endpoint does not take this HTTP method",
    )
    .into_response()
}
