//! The slice of Better Auth the invite flow needs: accounts, passwords, sessions;
//! and the audit API's keys.

pub mod accounts;
pub mod api_keys;
pub mod email_verifications;
pub mod password;
pub mod password_resets;
pub mod passwords;
pub mod session;
