//! invite-ledger: an event-sourced invitation service that speaks Better Auth's
//! invite protocol. See README.md for the architecture.

pub mod app;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod http;
pub mod json_time;
pub mod ledger;
pub mod logging;
pub mod projections;
pub mod rate_limit;
pub mod reactors;
pub mod service;
