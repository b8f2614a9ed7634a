//! invite-ledger: an event-sourced invitation service that speaks Better Auth's
//! invite protocol. See README.md for the architecture.

pub mod domain;
