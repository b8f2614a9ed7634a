//! Logs go to stderr (stdout is for what a command prints for scripts), coloured
//! only on a terminal, as text or as one JSON object a line for log shippers.
//! `RUST_LOG` sets the levels (default `info`, PostgreSQL's notices at `warn`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line (tracing-subscriber's JSON).
    Json,
}

pub fn init(format: LogFormat) {
    // PostgreSQL's notices (`relation ... already exists, skipping`) are its
    // chatter, not ours: shown only when `RUST_LOG` asks for them.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().init(),
    }
}
