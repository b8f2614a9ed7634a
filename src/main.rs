//! The `invite-ledger` command line: serve, migrate, users and projections.

use std::net::SocketAddr;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use invite_ledger::app::{self, App};
use invite_ledger::clock::SystemClock;
use invite_ledger::config::Config;
use invite_ledger::projections;
use invite_ledger::service::accounts;
use invite_ledger::service::mailer::{DirMailer, LogMailer, Mailer};

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
    /// Manage API keys for the audit API.
    Apikey {
        #[command(subcommand)]
        command: ApikeyCommand,
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
            command: ProjectionsCommand::Rebuild { name, config },
        } => rebuild(config, name).await,
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
    }
}

async fn start(config: &Config) -> anyhow::Result<(App, Vec<tokio::task::JoinHandle<()>>)> {
    let mailer: Arc<dyn Mailer> = match &config.mail_dir {
        Some(dir) => Arc::new(DirMailer::new(dir.clone())?),
        None => Arc::new(LogMailer),
    };
    App::start(config.settings()?, Arc::new(SystemClock), mailer).await
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let (app, _runners) = start(&config).await?;
    let address: SocketAddr = format!("{}:{}", config.bind_address, config.port).parse()?;
    let listener = tokio::net::TcpListener::bind(address).await?;
    tracing::info!(%address, base_url = %app.settings.base_url, "invite-ledger listening");
    let router = invite_ledger::http::router(app);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn rebuild(config: Config, name: Option<String>) -> anyhow::Result<()> {
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
    let replayed = projections::rebuild(&pool, &chosen, |done, total| {
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
