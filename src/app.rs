//! The running service: database, ledger, projections and settings, wired once.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgSslMode};
use sqlx::{ConnectOptions, Connection, PgPool};
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::config::Settings;
use crate::context::Context;
use crate::ledger::{Ledger, MIGRATOR};
use crate::mailer::Mailer;
use crate::projections::{self, Projection};
use crate::rate_limit::Limiter;

/// The use cases' context and the mailer the email reactor sends with.
#[derive(Clone)]
pub struct App {
    pub context: Context,
    pub mailer: Arc<dyn Mailer>,
}

/// Handlers pass `&app` where a use case takes the `Context` it works with.
impl std::ops::Deref for App {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.context
    }
}

/// The reactors run with what the application holds.
impl From<&App> for crate::reactors::Wiring {
    fn from(app: &App) -> Self {
        crate::reactors::Wiring {
            context: app.context.clone(),
            mailer: app.mailer.clone(),
        }
    }
}

impl App {
    /// Connects (creating the database if missing), migrates, prepares the read
    /// models and starts the projection runners.
    pub async fn start(
        settings: Settings,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
    ) -> anyhow::Result<(App, Vec<JoinHandle<()>>)> {
        Self::start_with(settings, clock, mailer, projections::all()).await
    }

    /// `start` with these read models (the service's own, and maybe more).
    pub async fn start_with(
        settings: Settings,
        clock: Arc<dyn Clock>,
        mailer: Arc<dyn Mailer>,
        read_models: Vec<Arc<dyn Projection>>,
    ) -> anyhow::Result<(App, Vec<JoinHandle<()>>)> {
        let limits = PoolLimits {
            max_connections: settings.config.database_max_connections.max(2),
            acquire_timeout: Duration::from_millis(settings.config.database_acquire_timeout_ms),
        };
        let pool = connect_with(&settings.config.database_url, limits).await?;
        // Stale read models are rebuilt beside the live ones while we serve.
        MIGRATOR.run(&pool).await?;
        let stale = projections::create_missing(&pool, &read_models).await?;
        let ledger = Ledger::new(pool.clone(), settings.roles.clone());
        let (progress, runner) =
            projections::spawn_runner(pool.clone(), read_models, ledger.appended());
        let runners = vec![
            runner,
            projections::rebuild_in_background(pool.clone(), stale),
            crate::statistics::analyse_in_background(pool.clone()),
        ];
        let read_pool = match &settings.config.database_read_url {
            Some(url) => Some(connect_standby(url, limits)?),
            None => None,
        };
        let context = Context {
            limiter: Arc::new(Limiter::new(pool.clone())),
            pool,
            read_pool,
            ledger,
            progress,
            settings: Arc::new(settings),
            clock,
        };
        let app = App { context, mailer };
        Ok((app, runners))
    }
}

/// The size of a pool and how long a caller waits for one of its connections.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolLimits {
    /// For the command line's short-lived commands.
    fn default() -> Self {
        PoolLimits {
            max_connections: 20,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A pool on `database_url` with the default limits, creating the database
/// first if it does not exist.
pub async fn connect(database_url: &str) -> anyhow::Result<PgPool> {
    connect_with(database_url, PoolLimits::default()).await
}

/// A pool on `database_url` with `limits`, creating the database first if it
/// does not exist.
pub async fn connect_with(database_url: &str, limits: PoolLimits) -> anyhow::Result<PgPool> {
    let options = connect_options(database_url)?
        // A session idle inside a transaction would hold every log reader back.
        .options([("idle_in_transaction_session_timeout", "60000")]);
    create_database_if_missing(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(limits.max_connections)
        .acquire_timeout(limits.acquire_timeout)
        // A ping before each use was a round trip more for every statement; a
        // connection the database has ended fails its statement instead (503,
        // `Retry-After`) and the pool replaces it.
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// A pool on the standby at `database_read_url`, connecting on first use: a
/// standby that is down when the server starts only sends reads to the primary.
fn connect_standby(database_read_url: &str, limits: PoolLimits) -> anyhow::Result<PgPool> {
    let options = connect_options(database_read_url)?;
    Ok(PgPoolOptions::new()
        .max_connections(limits.max_connections)
        // A lost standby costs a read this long before the primary answers it.
        .acquire_timeout(limits.acquire_timeout.min(STANDBY_ACQUIRE_TIMEOUT))
        .connect_lazy_with(options))
}

/// The options of a database URL. On loopback, unless the URL or `PGSSLMODE`
/// asks for a mode, without TLS: it protects nothing that never leaves the
/// machine, and its encryption on both sides was a share of every request.
pub fn connect_options(database_url: &str) -> anyhow::Result<PgConnectOptions> {
    let options = PgConnectOptions::from_str(database_url)?.disable_statement_logging();
    let mode_asked = std::env::var_os("PGSSLMODE").is_some()
        || url::Url::parse(database_url)
            .is_ok_and(|url| url.query_pairs().any(|(name, _)| name == "sslmode"));
    Ok(if !mode_asked && is_loopback(options.get_host()) {
        options.ssl_mode(PgSslMode::Disable)
    } else {
        options
    })
}

/// `localhost`, an address of 127.0.0.0/8 or ::1, or a Unix socket's folder.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host.starts_with('/')
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// How long a read waits for a standby connection before reading the primary.
const STANDBY_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);

async fn create_database_if_missing(options: &PgConnectOptions) -> anyhow::Result<()> {
    let Some(name) = options.get_database().map(str::to_string) else {
        return Ok(());
    };
    let mut admin = options.clone().database("postgres").connect().await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        if let Err(e) = sqlx::raw_sql(&format!("CREATE DATABASE {quoted}"))
            .execute(&mut admin)
            .await
        {
            // Another process may have created it in the meantime.
            let created_meanwhile = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04" || c == "23505");
            if !created_meanwhile {
                return Err(e.into());
            }
        }
        tracing::info!(database = %name, "created database");
    }
    admin.close().await?;
    Ok(())
}

/// Migrations and missing read-model tables; returns the stale read models.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<Vec<Arc<dyn Projection>>> {
    MIGRATOR.run(pool).await?;
    projections::create_missing(pool, &projections::all()).await
}

/// How many migrations the binary knows.
pub static MIGRATIONS: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration())
        .count()
});

/// `prepare`, saying which migrations it applied now: `(version, description)`.
pub async fn prepare_reporting(pool: &PgPool) -> anyhow::Result<Vec<(i64, String)>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    let before: Vec<i64> = if exists {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    prepare(pool).await?;
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !before.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect())
}

/// Migrations, then the read models' tables.
pub async fn prepare(pool: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(pool).await?;
    projections::ensure_schema(pool, &projections::all()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_goes_without_tls_unless_the_url_asks() {
        let mode = |url: &str| format!("{:?}", connect_options(url).unwrap().get_ssl_mode());
        assert_eq!(mode("postgres://postgres@127.0.0.1:5432/db"), "Disable");
        assert_eq!(mode("postgres://postgres@localhost/db"), "Disable");
        assert_eq!(mode("postgres://postgres@[::1]:5432/db"), "Disable");
        assert_eq!(
            mode("postgres://postgres@127.0.0.1/db?sslmode=require"),
            "Require"
        );
        assert_eq!(mode("postgres://postgres@db.example.com/db"), "Prefer");
    }
}
