//! The `invite-ledger` command line: serve, migrate, users and projections.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use invite_ledger::app::{self, App};
use invite_ledger::clock::SystemClock;
use invite_ledger::config::Config;
use invite_ledger::http::serve::ServeLimits;
use invite_ledger::projections;
use invite_ledger::reactors;
use invite_ledger::service::accounts;
use invite_ledger::service::mailer;

#[derive(Parser)]
#[command(
    name = "invite-ledger",
    version,
    about = "An event-sourced invitation service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (migrates and catches up the read models first).
    Serve {
        #[command(flatten)]
        config: Config,
    },
    /// Create the database if missing and apply migrations and read-model tables.
    Migrate {
        #[command(flatten)]
        config: Config,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Inspect or rebuild the read models.
    Projections {
        #[command(subcommand)]
        command: ProjectionsCommand,
    },
    /// Measure speed, scale and memory against this machine's limit (see README).
    Bench {
        #[command(flatten)]
        args: invite_ledger::bench::BenchArgs,
    },
    /// Manage API keys for the audit API.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
    },
    /// Inspect the reactors (email, webhooks) and retry parked deliveries.
    Reactors {
        #[command(subcommand)]
        command: ReactorsCommand,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; it is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Subcommand)]
enum ReactorsCommand {
    /// Each reactor's checkpoint, lag and deliveries; then the parked ones.
    Status {
        #[command(flatten)]
        config: Config,
    },
    /// Put a parked delivery (or all of them) back in the queue.
    Retry {
        /// The delivery's id, as `status` lists it.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<i64>,
        /// Every parked delivery.
        #[arg(long)]
        all: bool,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account with any configured role (the first admin, say).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Subcommand)]
enum ProjectionsCommand {
    /// Rebuild every read model (or the one named) from the log beside the live
    /// tables, then swap them in; reads keep working meanwhile.
    Rebuild {
        /// One of: invite, invite_use, user_account.
        name: Option<String>,
        /// Rows of each read model held in memory at most; past that they are
        /// written out and the events that touch them later applied at the end.
        #[arg(long, default_value_t = projections::ROWS_IN_MEMORY)]
        rows_in_memory: usize,
        #[command(flatten)]
        config: Config,
    },
    /// Each projection's version, checkpoint and lag.
    Status {
        #[command(flatten)]
        config: Config,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    match Cli::parse().command {
        Command::Serve { config } => serve(config).await,
        Command::Bench { args } => invite_ledger::bench::run(args).await,
        Command::Migrate { config } => {
            let pool = app::connect(&config.database_url).await?;
            app::prepare(&pool).await?;
            println!("database migrated and read models ready");
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    name,
                    role,
                    config,
                },
        } => {
            let (app, _runners) = start(&config).await?;
            let account = accounts::create_user(&app, &email, password, &name, &role)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            println!(
                "created user {} <{}> with role {}",
                account.id, account.email, account.role
            );
            Ok(())
        }
        Command::Projections {
            command:
                ProjectionsCommand::Rebuild {
                    name,
                    rows_in_memory,
                    config,
                },
        } => rebuild(config, name, rows_in_memory).await,
        Command::Apikey {
            command: ApikeyCommand::Create { name, config },
        } => {
            let pool = app::connect(&config.database_url).await?;
            app::migrate(&pool).await?;
            let created = invite_ledger::audit::api_keys::create(&pool, &name).await?;
            eprintln!(
                "API key `{name}` ({}); it is shown only this once:",
                created.id
            );
            println!("{}", created.key);
            Ok(())
        }
        Command::Projections {
            command: ProjectionsCommand::Status { config },
        } => {
            let pool = app::connect(&config.database_url).await?;
            app::migrate(&pool).await?;
            println!(
                "{:<14} {:<18} {:<18} {:>8}",
                "projection", "version", "checkpoint", "lag"
            );
            for s in projections::status(&pool, &projections::all()).await? {
                let stale = if s.stored_version.as_deref() == Some(&s.version) {
                    ""
                } else {
                    " (stale)"
                };
                let checkpoint = s.checkpoint.unwrap_or_else(|| "-".into());
                println!(
                    "{:<14} {:<18} {:<18} {:>8}{stale}",
                    s.name, s.version, checkpoint, s.lag
                );
            }
            Ok(())
        }
        Command::Reactors { command } => reactors_command(command).await,
    }
}

async fn reactors_command(command: ReactorsCommand) -> anyhow::Result<()> {
    match command {
        ReactorsCommand::Status { config } => {
            let pool = app::connect(&config.database_url).await?;
            app::prepare(&pool).await?;
            println!(
                "{:<10} {:<18} {:>8} {:>8} {:>8} {:>10}",
                "reactor", "checkpoint", "lag", "pending", "parked", "delivered"
            );
            for s in reactors::status(&pool).await? {
                println!(
                    "{:<10} {:<18} {:>8} {:>8} {:>8} {:>10}",
                    s.name, s.checkpoint, s.lag, s.pending, s.parked, s.delivered
                );
            }
            let parked = reactors::parked(&pool).await?;
            if !parked.is_empty() {
                println!(
                    "\nparked deliveries (retry with `invite-ledger reactors retry ID|--all`):"
                );
                for p in parked {
                    println!(
                        "  #{} {} {} (event {}) after {} attempts: {}",
                        p.id,
                        p.reactor,
                        p.ordering_key,
                        p.event_position,
                        p.attempts,
                        p.last_error.unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        ReactorsCommand::Retry { id, all, config } => {
            let pool = app::connect(&config.database_url).await?;
            app::prepare(&pool).await?;
            let target = match (id, all) {
                (Some(id), false) => reactors::RetryTarget::One(id),
                _ => reactors::RetryTarget::AllParked,
            };
            let requeued = reactors::retry(&pool, target).await?;
            println!("{requeued} parked deliveries put back in the queue");
            anyhow::ensure!(
                requeued > 0 || all,
                "delivery {} is not parked",
                id.unwrap_or_default()
            );
            Ok(())
        }
    }
}

async fn start(config: &Config) -> anyhow::Result<(App, Vec<tokio::task::JoinHandle<()>>)> {
    let mailer = mailer::from_config(config)?;
    App::start(config.settings()?, Arc::new(SystemClock), mailer).await
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let (app, _runners) = start(&config).await?;
    // Side effects run in the server only, not in short-lived commands.
    let _reactors = reactors::spawn(&app).await?;
    let address: SocketAddr = format!("{}:{}", config.bind_address, config.port).parse()?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!(%address, base_url = %app.settings.base_url, "invite-ledger listening");
    let router = invite_ledger::http::router(app);
    let limits = ServeLimits::from_config(&config);
    invite_ledger::http::serve::serve(listener, router, limits, stop_signal()).await;
    Ok(())
}

/// Ctrl-C, or the SIGTERM a service manager sends.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping: no new connections; letting requests in flight finish");
}

async fn rebuild(
    config: Config,
    name: Option<String>,
    rows_in_memory: usize,
) -> anyhow::Result<()> {
    let pool = app::connect(&config.database_url).await?;
    app::migrate(&pool).await?;
    let all = projections::all();
    let chosen: Vec<_> = match &name {
        Some(name) => {
            let found: Vec<_> = all.into_iter().filter(|p| p.name() == name).collect();
            anyhow::ensure!(!found.is_empty(), "no projection named `{name}`");
            found
        }
        None => all,
    };
    let bar = indicatif::ProgressBar::new(0).with_style(indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} events  {per_sec}  {elapsed} elapsed, {eta} left",
    )?);
    let started = std::time::Instant::now();
    // One pass over the log feeds every chosen projection.
    let replayed = projections::rebuild(&pool, &chosen, rows_in_memory, |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    })
    .await?;
    bar.finish();
    for projection in &chosen {
        println!(
            "{}: rebuilt from {replayed} events in {:.2?}",
            projection.name(),
            started.elapsed()
        );
    }
    Ok(())
}
