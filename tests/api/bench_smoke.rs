//! `invite-ledger-bench --smoke` runs end to end, so the benchmark cannot rot:
//! every measure prints its row, the crowd on one invite got exactly `maxUses`,
//! and the bench's databases are gone afterwards. It finds the server where a
//! user's `cargo build` leaves it: beside itself.

use std::process::Command;

use sqlx::{Connection, PgConnection};

/// The smoke log: 238 invitees' histories (four events each, two role
/// changes for one in ten), 976 events; the audit is asked at a fifth of it too.
const ROWS: &[&str] = &[
    "| 1. create-invite (HTTP)",
    "| 2. get-invite (HTTP)",
    "| 3. full flow: create, activate, sign-up + use",
    "| 4. one invite, maxUses 5",
    "| 4b. one invite, maxUses 5, 3 replicas",
    "| 5. rebuild of 976 events",
    "| 6. server peak RSS during 1-3",
    "| 7. limit: durable single-row insert (sqlx, prepared)",
    "| 7. limit: primary-key read (sqlx, prepared)",
    "| 8. as_of: one invite, 192 events (HTTP)",
    "| 8. as_of: list of 100, 192 events (HTTP)",
    "| 8. as_of: invitees depth 20, 192 events (HTTP)",
    "| 8. live: list of 100, 192 events (HTTP)",
    "| 8. as_of: one invite, 976 events (HTTP)",
    "| 8. live: list of 100, 976 events (HTTP)",
];

/// Printed beside the sqlx limit when pgbench is on PATH (it comes with PostgreSQL).
const PGBENCH_ROWS: &[&str] = &[
    "| 7. limit: durable single-row insert (pgbench -M prepared)",
    "| 7. limit: primary-key read (pgbench -M prepared)",
];

#[tokio::test]
async fn the_smoke_bench_prints_every_row_of_the_table() {
    let server = std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger-bench"))
        .args(["--smoke", "--database-server", &server])
        .output()
        .expect("the bench runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "bench failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    let pgbench = Command::new("pgbench").arg("--version").output().is_ok();
    let rows = ROWS.iter().chain(PGBENCH_ROWS.iter().filter(|_| pgbench));
    for row in rows {
        let count = stdout.lines().filter(|l| l.starts_with(row)).count();
        let expected = match *row {
            r if r.starts_with("| 1.") || r.starts_with("| 2.") || r.starts_with("| 7.") => 3,
            _ => 1,
        };
        assert_eq!(count, expected, "row `{row}` in:\n{stdout}");
    }
    let crowd = stdout
        .lines()
        .find(|l| l.starts_with("| 4."))
        .expect("crowd row");
    assert!(
        crowd.contains("exactly 5 of 50 used it (= maxUses)"),
        "{crowd}"
    );
    let spread = stdout
        .lines()
        .find(|l| l.starts_with("| 4b."))
        .expect("the crowd over three replicas");
    assert!(
        spread.contains("exactly 5 of 50 used it (= maxUses)"),
        "{spread}"
    );
    for row in stdout.lines().filter(|l| l.contains("/s |")) {
        let throughput = row.split('|').nth(3).expect("a throughput cell").trim();
        let value: f64 = throughput.split(' ').next().unwrap().parse().unwrap();
        assert!(value > 0.0, "a measure made no progress: {row}");
    }
    assert!(stdout.contains("targets (this run):"), "{stdout}");

    let name = stderr
        .lines()
        .find_map(|l| l.strip_prefix("bench: database "))
        .expect("the bench names its database")
        .trim()
        .to_string();
    let mut admin = PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname LIKE $1 || '%'")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(left, 0, "the bench dropped its databases");
}
