//! The ledger's domain: aggregates, their commands, events and rules.
//! Pure: no I/O and no clock reads; every time arrives inside a command.

pub mod closing;
pub mod decide;
pub mod email_domains;
pub mod invite;
pub mod invite_link;
pub mod quota;
pub mod redirect;
pub mod roles;
pub mod token;
pub mod token_hash;
pub mod token_seal;
pub mod user;

/// Emails are compared and stored in one canonical form, so `Bob@X.com` and
/// `bob@x.com` are the same person.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether two emails name the same person: equal once normalized.
pub fn same_email(a: &str, b: &str) -> bool {
    normalize_email(a) == normalize_email(b)
}
