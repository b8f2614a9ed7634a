//! The ledger's domain: aggregates, their commands, events and rules.
//! Pure: no I/O and no clock reads; every time arrives inside a command.

pub mod closing;
pub mod decide;
pub mod email;
pub mod email_domains;
pub mod invite;
pub mod invite_link;
pub mod organization;
pub mod quota;
pub mod redirect;
pub mod roles;
pub mod token;
pub mod token_hash;
pub mod token_seal;
pub mod user;

pub use email::{normalize_email, same_email};
