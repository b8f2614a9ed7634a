//! Audit reads from a streaming standby (`DATABASE_READ_URL`): a private primary
//! and a `pg_basebackup -R` standby on free ports in a temporary folder. Reads
//! go to the standby; a read carrying a write's `Ledger-Position` shows that
//! write (from the standby once it has replayed it, else from the primary); a
//! lost standby sends reads to the primary without an error.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

use crate::helpers::{CapturingMailer, Client, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};
use invite_ledger::app::App;
use invite_ledger::clock::ManualClock;
use invite_ledger::commands::accounts;
use invite_ledger::reactors;

const BIN: &str = "/usr/lib/postgresql/15/bin";

/// A primary and its standby, stopped and removed when dropped.
struct Cluster {
    dir: PathBuf,
    primary_port: u16,
    standby_port: u16,
}

/// Runs a PostgreSQL program as `postgres` when we are root (PostgreSQL
/// refuses to run as root), else as ourselves.
fn pg(program: &str, args: &[&str]) {
    let path = format!("{BIN}/{program}");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let output = if root {
        Command::new("runuser")
            .args(["-u", "postgres", "--", &path])
            .args(args)
            .output()
    } else {
        Command::new(&path).args(args).output()
    }
    .unwrap();
    assert!(
        output.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl Cluster {
    fn start() -> Cluster {
        let dir = std::env::temp_dir().join(format!("standby-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status();
        let cluster = Cluster {
            primary_port: crate::helpers::free_port(),
            standby_port: crate::helpers::free_port(),
            dir,
        };
        let primary = cluster.path("primary");
        pg(
            "initdb",
            &["-D", &primary, "-U", "postgres", "-A", "trust", "--no-sync"],
        );
        cluster.run("primary", cluster.primary_port);
        pg(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &cluster.primary_port.to_string(),
                "-U",
                "postgres",
                "-D",
                &cluster.path("standby"),
                "-R",
                "-X",
                "stream",
            ],
        );
        cluster.run("standby", cluster.standby_port);
        cluster
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }

    fn run(&self, name: &str, port: u16) {
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=40 \
             -c shared_buffers=16MB -c fsync=off",
            self.dir.display()
        );
        let log = self.path(&format!("{name}.log"));
        pg(
            "pg_ctl",
            &[
                "-D",
                &self.path(name),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    fn stop(&self, name: &str) {
        if Path::new(&self.path(name)).join("postmaster.pid").exists() {
            pg(
                "pg_ctl",
                &["-D", &self.path(name), "-m", "immediate", "stop"],
            );
        }
    }

    fn url(&self, port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/invite_ledger")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop("standby");
        self.stop("primary");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The audit answer for one invite: status and body.
async fn audit_invite(admin: &Client, id: &str, position: Option<&str>) -> (u16, Value) {
    let mut request = admin
        .http
        .get(format!("{}/api/ledger/invites/{id}", admin.base));
    if let Some(position) = position {
        request = request.header("ledger-position", position);
    }
    let reply = Client::reply(request.send().await.unwrap()).await;
    (reply.status.as_u16(), reply.body)
}

/// How many audit reads the standby has answered (`/metrics`).
async fn standby_reads(admin: &Client) -> f64 {
    let scrape = admin
        .http
        .get(format!("{}/metrics", admin.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(r#"audit_reads_total{database="standby"} "#))
        .map_or(0.0, |value| value.parse().unwrap())
}

/// Creates an invite; its id and the answer's `Ledger-Position`.
async fn create(admin: &Client) -> (String, String) {
    let reply = admin
        .post("/api/auth/invite/create", json!({ "role": "user" }))
        .await;
    let position = reply.headers["ledger-position"]
        .to_str()
        .unwrap()
        .to_string();
    let id = reply.ok()["inviteId"].as_str().unwrap().to_string();
    (id, position)
}

#[tokio::test]
async fn audit_reads_come_from_the_standby_and_never_show_less_than_the_caller_saw() {
    let cluster = Cluster::start();
    let primary = cluster.url(cluster.primary_port);
    let standby = cluster.url(cluster.standby_port);
    // Not on the shared server: this `TestDb` only names the primary.
    let db = TestDb {
        name: format!("unused_{}", uuid::Uuid::new_v4().simple()),
        url: primary.clone(),
    };
    let settings = crate::helpers::config(
        &db,
        &[
            "--database-read-url",
            &standby,
            "--position-wait-ms",
            "500",
            "--database-max-connections",
            "4",
        ],
    )
    .settings()
    .unwrap();
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap(),
    ));
    let (app, mut tasks) = App::start(settings, clock, Arc::new(CapturingMailer::default()))
        .await
        .unwrap();
    tasks.extend(reactors::spawn(&app).await.unwrap());
    accounts::create_user(
        &app,
        ADMIN_EMAIL,
        ADMIN_PASSWORD.into(),
        "Ada Admin",
        "admin",
    )
    .await
    .unwrap();
    let (addr, serving) = crate::helpers::serve_http(app.clone()).await;
    tasks.push(serving);
    let admin = Client {
        http: reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap(),
        base: format!("http://{addr}"),
    };
    admin.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await.ok();

    // A write, then a read with its position: the invite is there.
    let (first, position) = create(&admin).await;
    let (status, body) = audit_invite(&admin, &first, Some(&position)).await;
    assert_eq!(status, 200, "{body}");

    // The standby stops replaying: a read without a position comes from the
    // standby and does not know the next invite yet...
    let mut on_standby = PgConnection::connect(&standby).await.unwrap();
    sqlx::query("SELECT pg_wal_replay_pause()")
        .execute(&mut on_standby)
        .await
        .unwrap();
    let (second, position) = create(&admin).await;
    let (status, body) = audit_invite(&admin, &second, None).await;
    assert_eq!(
        (status, body["code"].clone()),
        (404, json!("INVITE_NOT_FOUND")),
        "a read without a position is the standby's: {body}"
    );
    // ...while a read with the write's position waits, then reads the primary.
    let (status, body) = audit_invite(&admin, &second, Some(&position)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["invite"]["id"], second.as_str());
    // A read as of the moment the invite was recorded needs that event, which
    // the standby has not replayed: the primary answers, without a position.
    let recorded_at = body["invite"]["recordedAt"].as_str().unwrap().to_string();
    let as_of = format!("/api/ledger/invites/{second}?as_of={recorded_at}");
    let past = admin.get(&as_of).await.ok();
    assert_eq!(past["invite"]["id"], second.as_str(), "{past}");

    // Replay goes on: the standby catches up and answers with the position too.
    sqlx::query("SELECT pg_wal_replay_resume()")
        .execute(&mut on_standby)
        .await
        .unwrap();
    let (status, body) = audit_invite(&admin, &second, Some(&position)).await;
    assert_eq!(status, 200, "{body}");
    let mut seen_on_standby = false;
    for _ in 0..300 {
        if audit_invite(&admin, &second, None).await.0 == 200 {
            seen_on_standby = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        seen_on_standby,
        "the standby caught up after its replay resumed"
    );
    on_standby.close().await.unwrap();

    // Now the standby answers the rest of the audit API too: `as_of`, the feed,
    // an invite's history, a person, the diff and the exports.
    let before = standby_reads(&admin).await;
    let paths = [
        as_of.clone(),
        "/api/ledger/events?limit=5".to_string(),
        format!("/api/ledger/invites/{second}/events"),
        format!("/api/ledger/users?email={ADMIN_EMAIL}"),
        format!("/api/ledger/diff?from=2020-01-01T00:00:00Z&to={recorded_at}"),
        "/api/ledger/stats".to_string(),
    ];
    for path in &paths {
        let reply = admin.get(path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    }
    let past = admin.get(&as_of).await.ok();
    assert_eq!(past["invite"]["id"], second.as_str(), "{past}");
    let export = admin
        .http
        .get(format!("{}/api/ledger/invites?format=csv", admin.base))
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert!(export.text().await.unwrap().contains(&second));
    let read = standby_reads(&admin).await - before;
    assert!(
        read >= paths.len() as f64 + 2.0,
        "{read} of {} audit reads came from the standby",
        paths.len() + 2
    );

    // The standby is lost: reads go to the primary, without an error.
    cluster.stop("standby");
    let (third, _) = create(&admin).await;
    let list = admin.get("/api/ledger/invites?limit=10").await.ok();
    let ids: Vec<&str> = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert!(
        [&first, &second, &third]
            .iter()
            .all(|id| ids.contains(&id.as_str())),
        "{ids:?}"
    );

    for task in tasks {
        task.abort();
    }
    app.pool.close().await;
    if let Some(pool) = &app.read_pool {
        pool.close().await;
    }
}
