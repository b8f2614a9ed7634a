//! The `invite-ledger` command line: serve, migrate, users and projections.

use std::sync::Arc;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use sqlx::PgPool;

use invite_ledger::app::{self, App};
use invite_ledger::clock::SystemClock;
use invite_ledger::commands::{accounts, erasure};
use invite_ledger::config::{
    self, Config, DatabaseArgs, IgnoredPasswordCost, PasswordArgs, RoleArgs,
};
use invite_ledger::http::serve::ServeLimits;
use invite_ledger::ledger::Position;
use invite_ledger::logging::{self, LogFormat};
use invite_ledger::mailer;
use invite_ledger::projections;
use invite_ledger::reactors;

/// malloc and free were a sixth of the server's time under load with glibc's
/// allocator (and its arenas kept the memory of parallel work); mimalloc is
/// made for many small, short-lived allocations across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "invite-ledger",
    version,
    about = "An event-sourced invitation service"
)]
struct Cli {
    /// Log format on stderr (levels: `RUST_LOG`, default `info`).
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (migrates and catches up the read models first).
    Serve {
        #[command(flatten)]
        config: Box<Config>,
    },
    /// Create the database if missing and apply migrations and read-model tables.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
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
    /// Inspect the reactors (email, webhooks) and retry parked deliveries.
    Reactors {
        #[command(subcommand)]
        command: ReactorsCommand,
    },
}

#[derive(Subcommand)]
enum ApikeyCommand {
    /// Create a key; only the key is printed (on stdout, once), and only its hash is stored.
    Create {
        /// A name that says who or what uses the key.
        #[arg(long)]
        name: String,
        /// `audit`: reads the audit API; `companion`: a Better Auth server's
        /// key for `/api/companion/*` (docs/companion-protocol.md).
        #[arg(long, value_enum, default_value = "audit")]
        scope: invite_ledger::auth::api_keys::Scope,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
    },
}

#[derive(Subcommand)]
enum ReactorsCommand {
    /// Each reactor's checkpoint, lag and deliveries; then the parked ones.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
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
        database: DatabaseArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account with any configured role (the first admin, say).
    Create {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// Its password (at least MIN_PASSWORD_LENGTH characters).
        #[arg(long)]
        password: String,
        /// The name shown for it.
        #[arg(long)]
        name: String,
        /// One of ROLES.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        roles: RoleArgs,
        #[command(flatten)]
        passwords: PasswordArgs,
    },
    /// Erase a person's emails and names from every answer (their key is
    /// deleted and an `Erased` event recorded; the log is not rewritten).
    Erase {
        /// The person's user id, or their email.
        id_or_email: String,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        roles: RoleArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
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
        database: DatabaseArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
    },
    /// Each projection's version, checkpoint and lag.
    Status {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        ignored: IgnoredPasswordCost,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    warn_about_unknown_variables();
    match cli.command {
        Command::Serve { config } => serve(*config).await,
        Command::Migrate { database, .. } => {
            let pool = connect(&database).await?;
            let applied = app::prepare_reporting(&pool).await?;
            for (version, description) in &applied {
                println!("applied {version} {description}");
            }
            if applied.is_empty() {
                let known = *app::MIGRATIONS;
                println!("database already up to date ({known} migrations); read models ready");
            } else {
                println!("database migrated and read models ready");
            }
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    name,
                    role,
                    database,
                    roles,
                    passwords,
                },
        } => {
            let config = Config {
                database_url: database.checked()?.to_string(),
                role_args: roles,
                passwords,
                ..Config::default()
            };
            let mailer = mailer::from_config(&config)?;
            let (app, _runners) = start(&config, mailer).await?;
            let account = accounts::create_user(&app, &email, password, &name, &role)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            println!(
                "created user {} <{}> with role {}",
                account.id, account.email, account.role
            );
            Ok(())
        }
        Command::User {
            command:
                UserCommand::Erase {
                    id_or_email,
                    database,
                    roles,
                    ..
                },
        } => {
            let config = Config {
                database_url: database.checked()?.to_string(),
                role_args: roles,
                ..Config::default()
            };
            let mailer = mailer::from_config(&config)?;
            let (app, _runners) = start(&config, mailer).await?;
            // Recorded as erased from the command line: there is no signed-in admin.
            let erasure = erasure::erase(&app, "cli", &id_or_email)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
            if erasure.already_erased {
                println!(
                    "user {} was erased already; nothing recorded",
                    erasure.user_id
                );
            } else {
                println!("erased user {}", erasure.user_id);
            }
            Ok(())
        }
        Command::Projections {
            command:
                ProjectionsCommand::Rebuild {
                    name,
                    rows_in_memory,
                    database,
                    ..
                },
        } => rebuild(database, name, rows_in_memory).await,
        Command::Apikey {
            command:
                ApikeyCommand::Create {
                    name,
                    scope,
                    database,
                    ..
                },
        } => {
            let pool = connect(&database).await?;
            app::migrate(&pool).await?;
            let created = invite_ledger::auth::api_keys::create_scoped(&pool, &name, scope).await?;
            tracing::info!(name, id = %created.id, scope = scope.as_str(), "API key created; it is shown only this once");
            // Only the key on stdout: `KEY=$(invite-ledger apikey create --name x)`.
            println!("{}", created.key);
            Ok(())
        }
        Command::Projections {
            command: ProjectionsCommand::Status { database, .. },
        } => {
            let pool = connect(&database).await?;
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

/// A variable that looks like one of ours but is none (a misspelling, or an
/// option of another version) would be ignored without a word.
fn warn_about_unknown_variables() {
    let mut known = Vec::new();
    collect_env_names(&Cli::command(), &mut known);
    let present: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .collect();
    for name in config::unknown_variables(&known, present.iter().map(String::as_str)) {
        tracing::warn!(variable = %name, "environment variable is not an option of invite-ledger; it is ignored");
    }
}

fn collect_env_names(command: &clap::Command, names: &mut Vec<String>) {
    for arg in command.get_arguments() {
        if let Some(name) = arg.get_env().and_then(|n| n.to_str()) {
            names.push(name.to_string());
        }
    }
    for sub in command.get_subcommands() {
        collect_env_names(sub, names);
    }
}

/// A pool on the checked URL; a failure says where it tried to connect.
async fn connect(database: &DatabaseArgs) -> anyhow::Result<PgPool> {
    let url = database.checked()?;
    app::connect(url).await.with_context(|| {
        format!(
            "cannot use PostgreSQL at {} (DATABASE_URL)",
            config::database_place(url)
        )
    })
}

async fn reactors_command(command: ReactorsCommand) -> anyhow::Result<()> {
    match command {
        ReactorsCommand::Status { database, .. } => {
            let pool = connect(&database).await?;
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
        ReactorsCommand::Retry {
            id, all, database, ..
        } => {
            let pool = connect(&database).await?;
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

async fn start(
    config: &Config,
    mailer: Arc<dyn mailer::Mailer>,
) -> anyhow::Result<(App, Vec<tokio::task::JoinHandle<()>>)> {
    let settings = config.settings()?;
    App::start(settings, Arc::new(SystemClock), mailer)
        .await
        .with_context(|| {
            format!(
                "cannot start on PostgreSQL at {} (DATABASE_URL)",
                config::database_place(&config.database_url)
            )
        })
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Everything that can be refused is refused before any database work.
    let settings = config.settings()?;
    invite_ledger::development_keys::refuse_outside_development(&settings)?;
    let mailer = mailer::from_config(&config)?;
    if config.smtp_url.is_none() && config.mail_dir.is_none() {
        tracing::warn!(
            "no SMTP_URL or MAIL_DIR: invitation emails, with their links and tokens, \
             are written to this log (fine for development only)"
        );
    }
    let listener = listen(&config).await?;
    let (app, runners) = start(&config, mailer).await?;
    invite_ledger::projections::emptied::refuse_emptied(&app.pool).await?;
    // Side effects run in the server only, not in short-lived commands.
    let reactors = reactors::spawn(&app).await?;
    tracing::info!(address = %listener.local_addr()?, base_url = %app.settings.base_url, "invite-ledger listening");
    let router = invite_ledger::http::router(app.clone());
    let limits = ServeLimits::from_config(&config);
    invite_ledger::http::serve::serve(listener, router, limits, stop_signal()).await;
    // In-flight requests are answered. Writes answer before the read models fold
    // them, so let the runners reach the log's head (bounded) before stopping them:
    // a stopped server leaves its read models current.
    if let Ok(head) = Position::head(&app.pool).await {
        app.settle(head).await;
    }
    // Then stop the background work, then the pool.
    for task in reactors.iter().chain(&runners) {
        task.abort();
    }
    app.pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The listener, bound before any database work so that a taken port fails at once.
async fn listen(config: &Config) -> anyhow::Result<tokio::net::TcpListener> {
    let (host, port) = (config.bind_address.as_str(), config.port);
    tokio::net::TcpListener::bind((host, port))
        .await
        .with_context(|| format!("cannot listen on {host}:{port} (BIND_ADDRESS, PORT)"))
}

/// SIGTERM (a service manager's stop) or SIGINT (Ctrl-C), named in the log.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let name = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut terminate), Ok(mut interrupt)) => tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        },
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    };
    tracing::info!(
        signal = name,
        "stopping: no new connections; letting requests in flight finish"
    );
}

async fn rebuild(
    database: DatabaseArgs,
    name: Option<String>,
    rows_in_memory: usize,
) -> anyhow::Result<()> {
    let pool = connect(&database).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option and argument of every command says what it is for.
    fn undescribed(command: &clap::Command, path: &str, found: &mut Vec<String>) {
        let path = format!("{path} {}", command.get_name());
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && !arg.is_hide_set() && arg.get_help().is_none() {
                found.push(format!("{path} {}", arg.get_id()));
            }
        }
        if command.get_about().is_none() && !path.trim().eq("invite-ledger") {
            found.push(format!("{path} (the command)"));
        }
        for sub in command.get_subcommands() {
            undescribed(sub, &path, found);
        }
    }

    #[test]
    fn every_command_and_option_is_described() {
        Cli::command().debug_assert();
        let mut found = Vec::new();
        undescribed(&Cli::command(), "", &mut found);
        assert!(found.is_empty(), "without a description: {found:#?}");
    }
}
