//! What the service does, independent of HTTP: the invite lifecycle and the
//! accounts it acts on. Handlers in `http/` only translate to and from these.

pub mod accounts;
pub mod bulk;
pub mod companion;
mod context;
pub mod erasure;
mod error;
pub mod idempotency;
pub mod invites;
pub mod mailer;
pub mod quota;
pub mod redirect;
pub mod refusals;

pub use context::{recording_writes, Context};
pub use error::ServiceError;
