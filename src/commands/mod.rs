//! Commands: the use cases that change the ledger (the invite lifecycle and the
//! accounts it acts on), independent of HTTP. Read-side questions live in
//! `queries/`; handlers in `http/` only translate to and from these.

pub mod accounts;
pub mod admin_users;
pub mod bulk;
pub mod client;
pub mod companion;
pub mod deletion;
pub mod email_verification;
pub mod erasure;
pub mod idempotency;
pub mod invites;
pub mod names;
pub mod passwords;
pub mod person_ids;
pub mod profile;
pub mod quota;
pub mod receipt_erasure;
pub mod redirect;
pub mod refusals;
