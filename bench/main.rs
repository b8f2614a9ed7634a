//! `invite-ledger-bench`: figures for speed, scale and memory, side by side with
//! the physical limit of the same machine, measured in the same run.
//!
//! The bench creates two fresh databases on the local PostgreSQL (dropped at the
//! end, whatever happens), runs the `invite-ledger` executable as the server in a
//! child process (so its peak memory can be read from /proc), and prints one table:
//! create-invite and get-invite over HTTP at 1, 16 and 64 clients, the full flow
//! per invitee, a crowd of clients on one invite, a rebuild of the read models
//! from a bulk-written log, the server's peak RSS, and the limit they compare to.
//! It is a binary of its own, on the library's public API, so that neither the
//! library nor the server's command line carries it.

mod bulk;
mod growth;
mod history;
mod limit;
mod load;
mod mail;
mod report;
mod server;
mod time_travel;
mod workload;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use clap::{Args, Parser};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgPool};
use uuid::Uuid;

use invite_ledger::auth::password::{self, PasswordCost};
use invite_ledger::domain::invite::{InviteEvent, InviteTerms};
use invite_ledger::domain::token::TokenType;
use invite_ledger::logging::{self, LogFormat};
use limit::Limits;
use load::Stats;
use report::{millis, percent, rate, ratio, Row};
use server::{Cli, Server};
use workload::Api;

const ADMIN_EMAIL: &str = "admin@bench.example";
const PASSWORD: &str = "bench-password";

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Tiny counts and short runs: finishes in seconds (CI runs this).
    #[arg(long)]
    pub smoke: bool,
    /// Only the rebuild (measure 5), for work on the read models' folds.
    #[arg(long)]
    pub rebuild_only: bool,
    /// Only the crowds on one invite (measures 4 and 4b: one server, three replicas).
    #[arg(long)]
    pub crowd_only: bool,
    /// Only the bulk create (measure 9: 1,000 private invites in one call).
    #[arg(long)]
    pub bulk_only: bool,
    /// Leaves the bench's databases behind (their names are printed), to
    /// profile a rebuild or a query on them again; drop them by hand after.
    #[arg(long)]
    pub keep_databases: bool,
    /// The PostgreSQL server on which the bench creates (and drops) its databases.
    #[arg(
        long,
        env = "BENCH_DATABASE_SERVER",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub database_server: String,
    /// The `invite-ledger` executable the bench runs as its server [default: the
    /// one beside this bench, as `cargo build` leaves them].
    #[arg(long, env = "BENCH_SERVER_BIN")]
    pub server_bin: Option<PathBuf>,
}

#[derive(Parser)]
#[command(
    name = "invite-ledger-bench",
    version,
    about = "Measure invite-ledger's speed, scale and memory against this machine's limit (see README)"
)]
struct CommandLine {
    /// Log format on stderr (levels: `RUST_LOG`, default `info`).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(flatten)]
    args: BenchArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = CommandLine::parse();
    logging::init(cli.log_format);
    run(cli.args).await
}

/// How much of everything: the full run or the smoke run.
struct Plan {
    levels: Vec<usize>,
    window: Duration,
    flow_clients: usize,
    flow_window: Duration,
    crowd_clients: usize,
    crowd_max_uses: usize,
    rebuild_events: u64,
    /// Requests of each audit question (measure 8), one after another.
    audit_requests: usize,
    /// Calls of 1,000 invites each (measure 9).
    bulk_calls: usize,
    /// Calls of 1,000 invites each that grow the log (measure 11).
    growth_calls: usize,
    cost: PasswordCost,
}

impl Plan {
    fn new(smoke: bool) -> Plan {
        if smoke {
            Plan {
                // Few connections: the test suite shares the server's 100.
                levels: vec![1, 4, 16],
                window: Duration::from_millis(300),
                flow_clients: 16,
                flow_window: Duration::from_millis(500),
                crowd_clients: 50,
                crowd_max_uses: 5,
                rebuild_events: 1_000,
                audit_requests: 5,
                bulk_calls: 1,
                growth_calls: 2,
                cost: PasswordCost {
                    memory_kib: 1024,
                    iterations: 1,
                },
            }
        } else {
            Plan {
                levels: vec![1, 16, 64],
                window: Duration::from_secs(5),
                flow_clients: 16,
                flow_window: Duration::from_secs(10),
                crowd_clients: 500,
                crowd_max_uses: 100,
                rebuild_events: 1_000_000,
                audit_requests: 200,
                bulk_calls: 5,
                growth_calls: 200,
                cost: PasswordCost::default(),
            }
        }
    }
}

/// Runs every measure and prints the table. Fails if a measure fails or the
/// crowd on one invite got other than exactly `maxUses` uses.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let plan = Plan::new(args.smoke);
    let exe = match args.server_bin {
        Some(exe) => exe,
        None => server::beside_this_bench()?,
    };
    let server_url = args.database_server.trim_end_matches('/').to_string();
    let name = format!("invite_ledger_bench_{}", Uuid::new_v4().simple());
    let databases = [name.clone(), format!("{name}_rebuild")];
    let measured = if args.rebuild_only {
        rebuild_alone(&plan, &exe, &server_url, &databases[1]).await
    } else if args.crowd_only {
        crowds_alone(&plan, &exe, &server_url, &databases[0]).await
    } else if args.bulk_only {
        bulk_alone(&plan, &exe, &server_url, &databases[0]).await
    } else {
        measure_all(&plan, &exe, &server_url, &databases).await
    };
    for database in &databases {
        if args.keep_databases {
            eprintln!("bench: kept the database {database}");
            continue;
        }
        if let Err(error) = drop_database(&server_url, database).await {
            eprintln!("could not drop the bench database {database}: {error}");
        }
    }
    let rows = measured?;
    println!("{}", report::table(&rows));
    Ok(())
}

impl Cli {
    /// The server's executable on `database` of the bench's PostgreSQL server.
    fn on(plan: &Plan, exe: &Path, server_url: &str, database: &str) -> Cli {
        Cli {
            exe: exe.to_path_buf(),
            database_url: format!("{server_url}/{database}"),
            cost: plan.cost,
            smtp_url: None,
        }
    }
}

/// Migrates, creates the admin, starts a server and signs the admin in.
async fn serve_signed_in(cli: &Cli) -> anyhow::Result<(Server, Api, String)> {
    cli.run(&["migrate"]).await?;
    create_admin(cli).await?;
    let server = Server::start(cli).await?;
    let api = Api::new(&server.base)?;
    let admin = api.sign_in(ADMIN_EMAIL, PASSWORD).await?;
    Ok((server, api, admin))
}

/// Measure 9 by itself, on a fresh server.
async fn bulk_alone(
    plan: &Plan,
    exe: &Path,
    server_url: &str,
    database: &str,
) -> anyhow::Result<Vec<Row>> {
    let cli = Cli::on(plan, exe, server_url, database);
    let (server, api, admin) = serve_signed_in(&cli).await?;
    eprintln!(
        "bench: create-many, {} invites per call",
        bulk::INVITES_PER_CALL
    );
    let measured = bulk::measure(&api, &admin, &server, plan.bulk_calls).await;
    server.stop().await?;
    let mut rows = vec![bulk::row(&measured?)];
    let (mailed, grown) = mail_and_growth(plan, &cli).await?;
    rows.extend([mail::row(&mailed), growth::row(&grown)]);
    print_mail_and_growth_targets(&mailed, &grown);
    Ok(rows)
}

/// Measures 10 and 11 on a server that mails to a local SMTP sink.
async fn mail_and_growth(
    plan: &Plan,
    cli: &Cli,
) -> anyhow::Result<(mail::Figures, growth::Figures)> {
    let sink = mail::Sink::start().await?;
    let cli = Cli {
        smtp_url: Some(sink.url.clone()),
        ..cli.clone()
    };
    let server = Server::start(&cli).await?;
    let api = Api::new(&server.base)?;
    let admin = api.sign_in(ADMIN_EMAIL, PASSWORD).await?;
    let pool = invite_ledger::app::connect(&cli.database_url).await?;
    // Measure 9's invites may still be waiting for their mail: send them first,
    // so that the figure is of this call's thousand alone.
    mail::wait_for_empty_queue(&pool).await?;
    eprintln!("bench: {} private invites mailed", bulk::INVITES_PER_CALL);
    let mailed = mail::measure(&api, &admin, &sink).await;
    eprintln!(
        "bench: log growth, {} calls of create-many",
        plan.growth_calls
    );
    let grown = growth::measure(&api, &admin, &pool, plan.growth_calls).await;
    pool.close().await;
    let server_peak_kib = server.peak_rss_kib()?;
    server.stop().await?;
    let grown = growth::Figures {
        server_peak_kib,
        ..grown?
    };
    Ok((mailed?, grown))
}

fn print_mail_and_growth_targets(mailed: &mail::Figures, grown: &growth::Figures) {
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let mail_s = mailed.all_accepted.as_secs_f64();
    let lag_s = grown.max_lag_seconds();
    println!(
        "targets (this run):\n  \
         {} private invites all accepted by the SMTP sink <= 2 s after the request: {mail_s:.2} s {}\n  \
         read models never more than 5 s behind while the log grows to {} events: {lag_s:.2} s {}",
        bulk::INVITES_PER_CALL,
        verdict(mail_s <= 2.0),
        grown.events,
        verdict(lag_s <= 5.0),
    );
}

/// Measure 5 by itself.
async fn rebuild_alone(
    plan: &Plan,
    exe: &Path,
    server_url: &str,
    database: &str,
) -> anyhow::Result<Vec<Row>> {
    let cli = Cli::on(plan, exe, server_url, database);
    let hash = password::hash(PASSWORD.into(), plan.cost).await?;
    let rebuilt = rebuild(plan, &cli, server_url, database, &hash).await?;
    let mut rows = vec![rebuild_row(&rebuilt, None)];
    rows.extend(rebuilt.audit.iter().flat_map(audit_rows));
    print_audit_targets(&rebuilt.audit);
    Ok(rows)
}

/// Measure 8's rows for one size of the log.
fn audit_rows(figures: &time_travel::Figures) -> Vec<Row> {
    let events = figures.events;
    [
        ("as_of: one invite", &figures.single),
        ("as_of: list of 100", &figures.list),
        ("as_of: invitees depth 20", &figures.invitees),
        ("live: list of 100", &figures.live_list),
    ]
    .into_iter()
    .map(|(question, stats)| {
        Row::from_stats(
            &format!("8. {question}, {events} events (HTTP)"),
            "req",
            stats,
            None,
        )
    })
    .collect()
}

fn print_audit_targets(sizes: &[time_travel::Figures]) {
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    for figures in sizes {
        let line = |question: &str, stats: &Stats, target_ms: u64| {
            let p50 = stats.percentile(50.0);
            format!(
                "{question} p50 <= {target_ms} ms: {} {}",
                millis(p50),
                verdict(p50 <= Duration::from_millis(target_ms))
            )
        };
        println!(
            "  at {} events: {}; {}; {}; {}",
            figures.events,
            line("as_of one invite", &figures.single, 5),
            line("as_of list of 100", &figures.list, 20),
            line("as_of invitees depth 20", &figures.invitees, 50),
            line("live list of 100", &figures.live_list, 10),
        );
    }
}

fn rebuild_row(rebuilt: &Rebuilt, best_insert: Option<f64>) -> Row {
    let rate_per_second = rebuilt.events as f64 / rebuilt.wall.as_secs_f64();
    Row {
        measure: format!("5. rebuild of {} events", rebuilt.events),
        clients: "1".into(),
        throughput: rate(rate_per_second, "event"),
        vs_limit: best_insert
            .map(|best| percent(rate_per_second, best))
            .unwrap_or_default(),
        notes: format!(
            "wall {:.2} s, peak RSS {:.0} MiB, all read models (projections rebuild)",
            rebuilt.wall.as_secs_f64(),
            rebuilt.peak_rss_kib as f64 / 1024.0
        ),
        ..Row::default()
    }
}

async fn measure_all(
    plan: &Plan,
    exe: &Path,
    server_url: &str,
    databases: &[String; 2],
) -> anyhow::Result<Vec<Row>> {
    let cli = Cli::on(plan, exe, server_url, &databases[0]);
    eprintln!("bench: database {}", databases[0]);
    cli.run(&["migrate"]).await?;

    // 7. The physical limit, before the server runs, with the machine to itself.
    let payload = serde_json::to_string(&sample_event())?;
    let mut limits: Vec<Limits> = Vec::new();
    for &clients in &plan.levels {
        eprintln!("bench: physical limit at {clients} clients");
        limits.push(limit::measure(&cli.database_url, clients, plan.window, &payload).await?);
    }

    create_admin(&cli).await?;
    let server = Server::start(&cli).await?;
    let api = Api::new(&server.base)?;
    let admin = api.sign_in(ADMIN_EMAIL, PASSWORD).await?;

    // 1. create-invite, 2. get-invite, 3. the full flow, 6. peak memory during them.
    let mut creates = Vec::new();
    let mut tokens = Vec::new();
    for &clients in &plan.levels {
        eprintln!("bench: create-invite at {clients} clients");
        let (stats, made) = workload::create_invites(&api, &admin, clients, plan.window).await?;
        creates.push(stats);
        tokens.extend(made);
    }
    let tokens = Arc::new(tokens);
    // A write answers before the read models fold it: the reads are measured on
    // their own, once the creates' backlog is folded (how long that took is printed).
    let pool = invite_ledger::app::connect(&cli.database_url).await?;
    let backlog = growth::caught_up(&pool).await?;
    pool.close().await;
    eprintln!("bench: the read models caught up {backlog:.1?} after the last create");
    let mut gets = Vec::new();
    for &clients in &plan.levels {
        eprintln!("bench: get-invite at {clients} clients");
        gets.push(workload::get_invites(&api, tokens.clone(), clients, plan.window).await?);
    }
    eprintln!("bench: full flow at {} clients", plan.flow_clients);
    let flows = workload::full_flows(&api, &admin, plan.flow_clients, plan.flow_window).await?;
    let peak_rss_kib = server.peak_rss_kib()?;
    eprintln!(
        "bench: create-many, {} invites per call",
        bulk::INVITES_PER_CALL
    );
    let bulk = bulk::measure(&api, &admin, &server, plan.bulk_calls).await?;
    server.stop().await?;
    let (mailed, grown) = mail_and_growth(plan, &cli).await?;
    let server = Server::start(&cli).await?;
    let api = Api::new(&server.base)?;
    let admin = api.sign_in(ADMIN_EMAIL, PASSWORD).await?;

    // 4. A crowd on one invite, then 4b. the same over three replicas.
    let hash = password::hash(PASSWORD.into(), plan.cost).await?;
    let (crowd, spread) = crowds(plan, &cli, &api, &admin, &hash).await?;
    server.stop().await?;

    // 5. Rebuild every read model from a log written in bulk.
    eprintln!("bench: rebuild of {} events", plan.rebuild_events);
    let rebuilt = rebuild(plan, &cli, server_url, &databases[1], &hash).await?;

    let mut rows = Vec::new();
    for (n, stats) in creates.iter().enumerate() {
        rows.push(Row::from_stats(
            "1. create-invite (HTTP)",
            "req",
            stats,
            Some(limits[n].insert_rate()),
        ));
    }
    for (n, stats) in gets.iter().enumerate() {
        rows.push(Row::from_stats(
            "2. get-invite (HTTP)",
            "req",
            stats,
            Some(limits[n].read_rate()),
        ));
    }
    let flow_limit = limit_at(plan, &limits, plan.flow_clients).map(Limits::insert_rate);
    let mut flow_row = Row::from_stats(
        "3. full flow: create, activate, sign-up + use",
        "flow",
        &flows,
        flow_limit,
    );
    flow_row.notes = format!(
        "{}; argon2id m={} KiB t={} p=1",
        flow_row.notes, plan.cost.memory_kib, plan.cost.iterations
    );
    rows.push(flow_row);
    let best_insert = limits.iter().map(Limits::insert_rate).fold(0.0, f64::max);
    rows.push(crowd_row(
        format!("4. one invite, maxUses {}", crowd.max_uses),
        &crowd,
        Some(best_insert),
    ));
    rows.push(crowd_row(
        format!("4b. one invite, maxUses {}, 3 replicas", spread.max_uses),
        &spread,
        Some(best_insert),
    ));
    rows.push(rebuild_row(&rebuilt, Some(best_insert)));
    rows.extend(rebuilt.audit.iter().flat_map(audit_rows));
    rows.push(bulk::row(&bulk));
    rows.extend([mail::row(&mailed), growth::row(&grown)]);
    rows.push(Row {
        measure: "6. server peak RSS during 1-3".into(),
        throughput: format!("{:.1} MiB", peak_rss_kib as f64 / 1024.0),
        notes: "VmHWM of the server process".into(),
        ..Row::default()
    });
    for limits in &limits {
        rows.push(Row::from_stats(
            "7. limit: durable single-row insert (sqlx, prepared)",
            "insert",
            &limits.inserts,
            None,
        ));
        rows.extend(limits.pgbench_inserts.as_ref().map(|p| {
            pgbench_row(
                "7. limit: durable single-row insert (pgbench -M prepared)",
                "insert",
                p,
            )
        }));
    }
    for limits in &limits {
        rows.push(Row::from_stats(
            "7. limit: primary-key read (sqlx, prepared)",
            "read",
            &limits.reads,
            None,
        ));
        rows.extend(limits.pgbench_reads.as_ref().map(|p| {
            pgbench_row(
                "7. limit: primary-key read (pgbench -M prepared)",
                "read",
                p,
            )
        }));
    }
    print_targets(plan, &creates, &gets, &limits, &rebuilt, peak_rss_kib);
    print_mail_and_growth_targets(&mailed, &grown);
    Ok(rows)
}

fn limit_at<'a>(plan: &Plan, limits: &'a [Limits], clients: usize) -> Option<&'a Limits> {
    plan.levels
        .iter()
        .position(|&c| c == clients)
        .map(|n| &limits[n])
}

fn pgbench_row(measure: &str, unit: &str, run: &limit::Pgbench) -> Row {
    Row {
        measure: measure.into(),
        clients: run.clients.to_string(),
        throughput: rate(run.per_second, unit),
        notes: format!("latency average {:.2} ms", run.latency_average_ms),
        ..Row::default()
    }
}

struct Rebuilt {
    events: u64,
    wall: Duration,
    /// The rebuilding process's peak resident memory.
    peak_rss_kib: u64,
    /// Measure 8 at a fifth of the log, and at all of it.
    audit: Vec<time_travel::Figures>,
}

/// Writes a fifth of the log in bulk into its own database, projects it and
/// asks the audit questions (measure 8); writes the rest, times
/// `invite-ledger projections rebuild` over it, checks every row is there, and
/// asks them again.
async fn rebuild(
    plan: &Plan,
    cli: &Cli,
    server_url: &str,
    database: &str,
    password_hash: &str,
) -> anyhow::Result<Rebuilt> {
    let cli = Cli {
        database_url: format!("{server_url}/{database}"),
        ..cli.clone()
    };
    cli.run(&["migrate"]).await?;
    let invitees = history::invitees_for(plan.rebuild_events);
    let pool = invite_ledger::app::connect(&cli.database_url).await?;
    let fifth = invitees / 5;
    history::append(&pool, 0, fifth, password_hash).await?;
    history::wait_visible(&pool).await?;
    cli.run(&["projections", "rebuild"]).await?;
    eprintln!(
        "bench: audit questions at {} events",
        history::events_of(fifth)
    );
    let at_fifth =
        time_travel::measure(&cli, &pool, history::events_of(fifth), plan.audit_requests).await?;
    history::append(&pool, fifth, invitees - fifth, password_hash).await?;
    history::wait_visible(&pool).await?;
    history::check_format(&pool).await?;
    sqlx::raw_sql("VACUUM ANALYZE events")
        .execute(&pool)
        .await?;

    let started = Instant::now();
    let (output, peak_rss_kib) = cli.run_measured(&["projections", "rebuild"]).await?;
    let wall = started.elapsed();
    eprint!("{output}");

    for table in ["invite", "invite_use", "user_account"] {
        let rows: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&pool)
            .await?;
        anyhow::ensure!(
            rows as u64 == invitees,
            "after the rebuild {table} has {rows} rows, not {invitees}"
        );
    }
    let events = history::events_of(invitees);
    eprintln!("bench: audit questions at {events} events");
    let at_all = time_travel::measure(&cli, &pool, events, plan.audit_requests).await?;
    pool.close().await;
    Ok(Rebuilt {
        events,
        wall,
        peak_rss_kib,
        audit: vec![at_fifth, at_all],
    })
}

/// The server's runners project the bulk-written accounts: wait until they have.
/// Measures 4 and 4b against `api` (a running server) and two more replicas
/// started here: a crowd of signed-in invitees on one public invite, then
/// another crowd (new accounts) spread over the three.
async fn crowds(
    plan: &Plan,
    cli: &Cli,
    api: &Api,
    admin: &str,
    hash: &str,
) -> anyhow::Result<(workload::Crowd, workload::Crowd)> {
    eprintln!("bench: {} clients on one invite", plan.crowd_clients);
    let clients = plan.crowd_clients as u64;
    let pool = invite_ledger::app::connect(&cli.database_url).await?;
    history::append(&pool, 0, 2 * clients, hash).await?;
    history::add_sessions(&pool, 0, 2 * clients).await?;
    wait_for_accounts(&pool, 2 * plan.crowd_clients).await?;
    pool.close().await;
    let crowd = workload::crowd(api, admin, 0, plan.crowd_clients, plan.crowd_max_uses).await?;
    ensure_exact(&crowd)?;

    eprintln!(
        "bench: {} clients on one invite across three replicas",
        plan.crowd_clients
    );
    let others = [Server::start(cli).await?, Server::start(cli).await?];
    let mut apis = vec![api.clone()];
    for other in &others {
        apis.push(Api::new(&other.base)?);
    }
    let spread = workload::crowd_across(
        &apis,
        admin,
        clients,
        plan.crowd_clients,
        plan.crowd_max_uses,
    )
    .await;
    for other in others {
        other.stop().await?;
    }
    let spread = spread?;
    ensure_exact(&spread)?;
    Ok((crowd, spread))
}

/// Measures 4 and 4b alone.
async fn crowds_alone(
    plan: &Plan,
    exe: &Path,
    server_url: &str,
    database: &str,
) -> anyhow::Result<Vec<Row>> {
    let cli = Cli::on(plan, exe, server_url, database);
    let (server, api, admin) = serve_signed_in(&cli).await?;
    let hash = password::hash(PASSWORD.into(), plan.cost).await?;
    let measured = crowds(plan, &cli, &api, &admin, &hash).await;
    server.stop().await?;
    let (crowd, spread) = measured?;
    // No ratio: the limits are not measured in this mode.
    Ok(vec![
        crowd_row(
            format!("4. one invite, maxUses {}", crowd.max_uses),
            &crowd,
            None,
        ),
        crowd_row(
            format!("4b. one invite, maxUses {}, 3 replicas", spread.max_uses),
            &spread,
            None,
        ),
    ])
}

/// A crowd must end with exactly `maxUses` uses.
fn ensure_exact(crowd: &workload::Crowd) -> anyhow::Result<()> {
    anyhow::ensure!(
        crowd.succeeded == crowd.max_uses,
        "{} of {} clients used an invite with maxUses {}",
        crowd.succeeded,
        crowd.clients,
        crowd.max_uses
    );
    Ok(())
}

/// The table row of a crowd on one invite.
fn crowd_row(measure: String, crowd: &workload::Crowd, best_insert: Option<f64>) -> Row {
    let crowd_rate = crowd.clients as f64 / crowd.elapsed.as_secs_f64();
    let refused: Vec<String> = crowd
        .refused
        .iter()
        .map(|(code, n)| format!("{n} {code}"))
        .collect();
    Row {
        measure,
        clients: crowd.clients.to_string(),
        throughput: rate(crowd_rate, "req"),
        vs_limit: best_insert
            .map(|limit| percent(crowd_rate, limit))
            .unwrap_or_default(),
        notes: format!(
            "exactly {} of {} used it (= maxUses), {}; in {}",
            crowd.succeeded,
            crowd.clients,
            refused.join(", "),
            millis(crowd.elapsed)
        ),
        ..Row::default()
    }
}

async fn wait_for_accounts(pool: &PgPool, count: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let projected: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM user_account WHERE email LIKE 'invitee%@bench.example'",
        )
        .fetch_one(pool)
        .await?;
        if projected as usize >= count {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "the server projected {projected} of {count} accounts"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The targets, each met or missed, from this run's figures.
fn print_targets(
    plan: &Plan,
    creates: &[Stats],
    gets: &[Stats],
    limits: &[Limits],
    rebuilt: &Rebuilt,
    peak_rss_kib: u64,
) {
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let at = |clients: usize| plan.levels.iter().position(|&c| c == clients);
    println!("targets (this run):");
    // Verdicts against the bench's own prepared limit, as the targets are set;
    // pgbench's figure beside it shows how much faster a C client gets.
    let against_pgbench = |value: f64, pgbench: &Option<limit::Pgbench>| {
        pgbench
            .as_ref()
            .map(|p| format!(" ({:.0}% of pgbench)", ratio(value, p.per_second) * 100.0))
            .unwrap_or_default()
    };
    if let Some(n) = at(16) {
        let rate = creates[n].per_second();
        let r = ratio(rate, limits[n].inserts.per_second());
        println!(
            "  create-invite at 16 clients >= 30% of prepared durable inserts: {:.0}% {}{}",
            r * 100.0,
            verdict(r >= 0.30),
            against_pgbench(rate, &limits[n].pgbench_inserts)
        );
    }
    if let Some(n) = at(1) {
        let p50 = creates[n].percentile(50.0);
        println!(
            "  create-invite at 1 client p50 <= 1.5 ms: {} {} (p99 {})",
            millis(p50),
            verdict(p50 <= Duration::from_micros(1500)),
            millis(creates[n].percentile(99.0))
        );
    }
    if let Some(n) = at(16) {
        let rate = gets[n].per_second();
        let r = ratio(rate, limits[n].reads.per_second());
        let p99 = gets[n].percentile(99.0);
        println!(
            "  get-invite at 16 clients >= 50% of prepared primary-key reads: {:.0}% {}{}; p99 <= 5 ms: {} {}",
            r * 100.0,
            verdict(r >= 0.50),
            against_pgbench(rate, &limits[n].pgbench_reads),
            millis(p99),
            verdict(p99 <= Duration::from_millis(5))
        );
    }
    let scaled = rebuilt.wall.as_secs_f64() * 1_000_000.0 / rebuilt.events as f64;
    let rebuild_mib = rebuilt.peak_rss_kib as f64 / 1024.0;
    println!(
        "  rebuild of 1M events <= 7 s: {:.2} s for {} events ({:.1} s per 1M) {}; peak RSS <= 300 MiB: {:.0} MiB {}",
        rebuilt.wall.as_secs_f64(),
        rebuilt.events,
        scaled,
        verdict(scaled <= 7.0),
        rebuild_mib,
        verdict(rebuild_mib <= 300.0)
    );
    let mib = peak_rss_kib as f64 / 1024.0;
    println!(
        "  server peak RSS <= 100 MiB: {mib:.1} MiB {}",
        verdict(mib <= 100.0)
    );
    print_audit_targets(&rebuilt.audit);
    println!();
}

/// A real `Created` event, the payload of every limit-table row.
fn sample_event() -> InviteEvent {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    InviteEvent::Created {
        terms: InviteTerms {
            invite_id: Uuid::new_v4(),
            token_type: TokenType::Token,
            role: "user".into(),
            email: None,
            invitee_id: None,
            invitee_name: None,
            new_account: true,
            max_uses: 1,
            infinity_max_uses: false,
            expires_at: at + chrono::Duration::hours(1),
            redirect_to_sign_up: "/auth/sign-up".into(),
            redirect_to_sign_in: "/auth/sign-in".into(),
            redirect_to_after_upgrade: "/auth/invited".into(),
            share_inviter_name: true,
            sender_response_redirect: "signUp".into(),
            sealed_token: None,
            custom_invite_url: None,
        },
        inviter_id: Uuid::new_v4().to_string(),
        inviter_name: "Bench Admin".into(),
        inviter_email: ADMIN_EMAIL.into(),
        inviter_role: "admin".into(),
        at,
    }
}

/// The bench's admin account, made with the CLI before the server starts.
async fn create_admin(cli: &Cli) -> anyhow::Result<()> {
    cli.run(&[
        "user",
        "create",
        "--email",
        ADMIN_EMAIL,
        "--password",
        PASSWORD,
        "--name",
        "Bench Admin",
        "--role",
        "admin",
    ])
    .await?;
    Ok(())
}

async fn drop_database(server_url: &str, name: &str) -> anyhow::Result<()> {
    let options =
        PgConnectOptions::from_str(&format!("{server_url}/postgres"))?.disable_statement_logging();
    let mut admin = options.connect().await?;
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}
