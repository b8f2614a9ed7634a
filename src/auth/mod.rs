//! The slice of Better Auth the invite flow needs: accounts, passwords, sessions.

pub mod accounts;
pub mod password;
pub mod session;
