//! invite-ledger: an event-sourced invitation service that speaks Better Auth's
//! invite protocol. See README.md for the architecture.

pub mod app;
pub mod auth;
pub mod clock;
pub mod commands;
pub mod config;
pub mod console;
pub mod context;
pub mod development_keys;
pub mod domain;
pub mod error;
pub mod http;
pub mod json_time;
pub mod ledger;
pub mod logging;
pub mod mailer;
pub mod projections;
pub mod queries;
pub mod rate_limit;
pub mod reactors;
pub mod statistics;
