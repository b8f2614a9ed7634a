//! The use cases' one error type, shared by `commands/` and `queries/`:
//! what went wrong, in the service's words; `http::error` gives each a status.

use crate::domain::email::InvalidEmail;
use crate::domain::invite::InviteError;
use crate::domain::organization::OrganizationError;
use crate::domain::user::UserError;
use crate::ledger::LedgerError;

/// Every way a request can fail. `http::error` maps each to a status, once.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Invite(InviteError),
    #[error(transparent)]
    User(UserError),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("Unauthorized")]
    Unauthorized,
    #[error("Invalid email or password")]
    InvalidCredentials,
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// A query's subject (an invite, a user) is not there.
    #[error("{message}")]
    NotFound {
        code: &'static str,
        message: std::borrow::Cow<'static, str>,
    },
    #[error("Too many attempts; try again in a minute")]
    RateLimited,
    #[error("The service is busy; try again")]
    Busy,
    /// The inviter's quota is used up; the text names the limit.
    #[error("Invite quota reached: {0}")]
    QuotaExceeded(String),
    #[error("A request with this Idempotency-Key is still being answered; try again")]
    IdempotencyKeyInUse,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// The stable code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::Invite(e) => e.code(),
            ServiceError::User(e) => e.code(),
            ServiceError::BadRequest { code, .. }
            | ServiceError::Forbidden { code, .. }
            | ServiceError::NotFound { code, .. } => code,
            ServiceError::Unauthorized => "UNAUTHORIZED",
            ServiceError::InvalidCredentials => "INVALID_EMAIL_OR_PASSWORD",
            ServiceError::RateLimited => "TOO_MANY_REQUESTS",
            ServiceError::Busy => "SERVICE_BUSY",
            ServiceError::QuotaExceeded(_) => "INVITE_QUOTA_EXCEEDED",
            ServiceError::IdempotencyKeyInUse => "IDEMPOTENCY_KEY_IN_USE",
            ServiceError::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

impl From<InvalidEmail> for ServiceError {
    fn from(_: InvalidEmail) -> Self {
        ServiceError::bad_request("INVALID_EMAIL", "Invalid email")
    }
}

impl From<InviteError> for ServiceError {
    fn from(e: InviteError) -> Self {
        ServiceError::Invite(e)
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Internal(e.into())
    }
}

impl From<LedgerError<InviteError>> for ServiceError {
    fn from(e: LedgerError<InviteError>) -> Self {
        match e {
            LedgerError::Domain(e) => ServiceError::Invite(e),
            LedgerError::Contended => ServiceError::Busy,
            LedgerError::QuotaExceeded(limit) => ServiceError::QuotaExceeded(limit),
            LedgerError::KeyTaken => ServiceError::IdempotencyKeyInUse,
            LedgerError::Store(m) => ServiceError::Internal(anyhow::anyhow!(m)),
        }
    }
}

/// An organization's only refusal is a quota, which reads as an inviter's.
impl From<LedgerError<OrganizationError>> for ServiceError {
    fn from(e: LedgerError<OrganizationError>) -> Self {
        match e {
            LedgerError::Domain(OrganizationError::QuotaExceeded(limit))
            | LedgerError::QuotaExceeded(limit) => ServiceError::QuotaExceeded(limit),
            LedgerError::Contended => ServiceError::Busy,
            LedgerError::KeyTaken => ServiceError::IdempotencyKeyInUse,
            LedgerError::Store(m) => ServiceError::Internal(anyhow::anyhow!(m)),
        }
    }
}

impl From<LedgerError<UserError>> for ServiceError {
    fn from(e: LedgerError<UserError>) -> Self {
        match e {
            LedgerError::Domain(e) => ServiceError::User(e),
            LedgerError::Contended => ServiceError::Busy,
            LedgerError::QuotaExceeded(limit) => ServiceError::QuotaExceeded(limit),
            LedgerError::KeyTaken => ServiceError::IdempotencyKeyInUse,
            LedgerError::Store(m) => ServiceError::Internal(anyhow::anyhow!(m)),
        }
    }
}
