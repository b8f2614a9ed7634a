//! Three replicas of the real server on one database, behind a round-robin proxy,
//! under a mixed load, while one replica is SIGKILLed and another is stopped with
//! SIGTERM and started again. Afterwards every acknowledged write is in the log, a
//! crowd on one invite never went past `maxUses`, the read models equal a rebuild,
//! every email and webhook went out at least once, each short-lived invite was
//! expired exactly once, and the sign-in and guessing limits were one budget
//! across the three.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};

use crate::helpers::smtp_sink::SmtpSink;
use crate::helpers::webhook_sink::WebhookSink;
use crate::helpers::{poll_until, TestDb, ADMIN_EMAIL, ADMIN_PASSWORD};

const WORKERS: usize = 6;
const ROUNDS: usize = 14;
const CROWD: usize = 40;
const CROWD_SEATS: i64 = 10;
const GUESSES_PER_MINUTE: usize = 6;
const SIGN_INS_PER_ADDRESS: usize = 3;
/// The roles of every process, and the quota of the middle one.
const ROLES: &str = "user,manager,admin";
const MANAGER_OPEN_INVITES: usize = 5;
const MANAGER_EMAIL: &str = "max.manager@example.com";

/// A TCP proxy that hands each new connection to the next replica in turn,
/// skipping replicas that refuse connections (dead or restarting).
struct Proxy {
    addr: SocketAddr,
    /// Connections each replica was handed.
    served: Arc<Vec<AtomicUsize>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    async fn start(backends: Vec<SocketAddr>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new(backends.iter().map(|_| AtomicUsize::new(0)).collect());
        let next = Arc::new(AtomicUsize::new(0));
        let counts = served.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                let (backends, next, counts) = (backends.clone(), next.clone(), counts.clone());
                tokio::spawn(async move {
                    for _ in 0..backends.len() {
                        let i = next.fetch_add(1, Ordering::SeqCst) % backends.len();
                        let Ok(mut outbound) = TcpStream::connect(backends[i]).await else {
                            continue;
                        };
                        counts[i].fetch_add(1, Ordering::SeqCst);
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        return;
                    }
                });
            }
        });
        Proxy { addr, served, task }
    }

    fn served(&self) -> Vec<usize> {
        self.served
            .iter()
            .map(|c| c.load(Ordering::SeqCst))
            .collect()
    }
}

/// The server's executable running `args` on the test's database.
fn binary(db: &TestDb, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-ledger"));
    command
        .args(args)
        .args(["--database-url", &db.url])
        .env("ROLES", ROLES)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

/// One replica's process and how it was started.
struct Replica {
    port: u16,
    child: Child,
}

async fn start_replica(db: &TestDb, port: u16, smtp: &SmtpSink, hooks: &WebhookSink) -> Replica {
    let mut command = binary(db, &["serve"]);
    command.args([
        "--password-hash-memory-kib".to_string(),
        "64".into(),
        "--password-hash-iterations".into(),
        "1".into(),
        "--port".to_string(),
        port.to_string(),
        "--smtp-url".into(),
        smtp.url(),
        "--webhook-url".into(),
        hooks.url(),
        "--webhook-secret".into(),
        "replica-test-secret".into(),
        "--delivery-timeout-ms".into(),
        "2000".into(),
        "--delivery-retry-base-ms".into(),
        "100".into(),
        "--delivery-max-attempts".into(),
        "100".into(),
        "--expiry-sweep-interval-ms".into(),
        "200".into(),
        // The proxy is the peer; the clients name themselves in X-Forwarded-For.
        "--trusted-proxies".into(),
        "127.0.0.1".into(),
        "--activation-attempts-per-minute".into(),
        GUESSES_PER_MINUTE.to_string(),
        "--sign-in-attempts-per-address".into(),
        SIGN_INS_PER_ADDRESS.to_string(),
        "--sign-in-window-secs".into(),
        "600".into(),
        "--database-max-connections".into(),
        "6".into(),
        "--shutdown-grace-ms".into(),
        "5000".into(),
        "--invite-quotas".into(),
        format!("manager:open={MANAGER_OPEN_INVITES}"),
    ]);
    let child = command.spawn().unwrap();
    let health = format!("http://127.0.0.1:{port}/healthz");
    for _ in 0..600 {
        if reqwest::get(&health).await.is_ok_and(|r| r.status() == 200) {
            return Replica { port, child };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("replica on port {port} did not start");
}

/// A browser behind the proxy: its own cookies and client address, a new
/// connection (so the next replica in turn) for every request.
#[derive(Clone)]
struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(proxy: &Proxy, address: &str) -> Browser {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(address).unwrap());
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .pool_max_idle_per_host(0)
                .default_headers(headers)
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
            base: format!("http://{}", proxy.addr),
        }
    }

    /// Status and JSON body, or `None` when the replica went away mid-request.
    async fn post(&self, path: &str, body: Value) -> Option<(u16, Value)> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> Option<(u16, Value)> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .ok()?;
        let status = response.status().as_u16();
        Some((status, response.json().await.unwrap_or(Value::Null)))
    }

    /// Creates an invite; its id and token when the server acknowledged it.
    async fn create(&self, body: Value) -> Option<(String, String)> {
        match self.post("/api/auth/invite/create", body).await? {
            (200, body) => Some((
                body["inviteId"].as_str()?.to_string(),
                body["message"].as_str()?.to_string(),
            )),
            _ => None,
        }
    }

    /// Activates `token` and signs up as `email`; the answer when it was 200.
    async fn join(&self, token: &str, email: &str) -> Option<Value> {
        let (status, _) = self
            .post("/api/auth/invite/activate", json!({ "token": token }))
            .await?;
        if status != 200 {
            return None;
        }
        let body = json!({ "email": email, "password": "visitor-password", "name": "Visitor" });
        match self.post("/api/auth/sign-up/email", body).await? {
            (200, body) => Some(body),
            _ => None,
        }
    }
}

/// What the servers acknowledged.
#[derive(Default)]
struct Acknowledged {
    invites: Vec<String>,
    private_emails: Vec<String>,
    short_lived: Vec<String>,
    cancelled: Vec<String>,
    users: Vec<String>,
    crowd_uses: usize,
}

async fn worker(admin: Browser, proxy_base: Arc<Proxy>, w: usize, acked: Arc<Mutex<Acknowledged>>) {
    for round in 0..ROUNDS {
        let record = |f: &dyn Fn(&mut Acknowledged)| f(&mut acked.lock().unwrap());
        // A public invite, used by a new visitor.
        if let Some((id, token)) = admin.create(json!({ "role": "user" })).await {
            record(&|a| a.invites.push(id.clone()));
            let visitor = Browser::new(&proxy_base, &format!("10.1.{w}.{round}"));
            let email = format!("w{w}r{round}@example.com");
            if let Some(body) = visitor.join(&token, &email).await {
                if let Some(user) = body["user"]["id"].as_str() {
                    record(&|a| a.users.push(user.to_string()));
                }
            }
        }
        // A private invite: its email leaves from a reactor on some replica.
        let email = format!("p{w}r{round}@example.com");
        if let Some((id, _)) = admin
            .create(json!({ "role": "user", "email": email }))
            .await
        {
            record(&|a| {
                a.invites.push(id.clone());
                a.private_emails.push(email.clone());
            });
        }
        // An invite that the sweeper expires a second later.
        if let Some((id, _)) = admin
            .create(json!({ "role": "user", "expiresIn": 1 }))
            .await
        {
            record(&|a| {
                a.invites.push(id.clone());
                a.short_lived.push(id.clone());
            });
        }
        // One created and cancelled.
        if round % 3 == 0 {
            if let Some((id, token)) = admin.create(json!({ "role": "user" })).await {
                record(&|a| a.invites.push(id.clone()));
                if let Some((200, _)) = admin
                    .post("/api/auth/invite/cancel", json!({ "token": token }))
                    .await
                {
                    record(&|a| a.cancelled.push(id.clone()));
                }
            }
        }
        // The audit API.
        if let Some((status, body)) = admin.get("/api/ledger/invites?limit=5").await {
            assert!(
                status == 200 || status == 503,
                "the audit API answered {status}: {body}"
            );
        }
    }
}

/// How many `event_type` events the log holds for the invite with this id.
async fn events_of(pool: &PgPool, invite_id: &str, event_type: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM events
          WHERE event_type = $2 AND aggregate_id = (
                SELECT aggregate_id FROM events WHERE event_type = 'Created'
                   AND payload -> 'Created' -> 'terms' ->> 'invite_id' = $1)",
    )
    .bind(invite_id)
    .bind(event_type)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn log_end(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT coalesce(max(global_position), 0) FROM events")
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Whether every checkpoint (read models and reactors) has reached the log's end.
async fn caught_up(pool: &PgPool) -> bool {
    let end = log_end(pool).await;
    let behind: i64 =
        sqlx::query_scalar("SELECT count(*) FROM projection_checkpoint WHERE last_position < $1")
            .bind(end)
            .fetch_one(pool)
            .await
            .unwrap();
    behind == 0
}

/// Records every move of a checkpoint (read models and reactors alike): from
/// where to where, and whether the moving session held that checkpoint's
/// advisory lock (the key is the follower's: the first 8 bytes of a SHA-256).
async fn watch_checkpoint_moves(pool: &PgPool) {
    sqlx::raw_sql(
        "CREATE TABLE checkpoint_move (
             id bigserial PRIMARY KEY, name text, moved_from bigint, moved_to bigint,
             owner int, locked bool);
         CREATE FUNCTION note_checkpoint_move() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO checkpoint_move (name, moved_from, moved_to, owner, locked)
             SELECT OLD.name, OLD.last_position, NEW.last_position, pg_backend_pid(),
                    EXISTS (SELECT 1 FROM pg_locks
                             WHERE locktype = 'advisory' AND granted
                               AND pid = pg_backend_pid()
                               AND ((classid::bigint << 32) | objid::bigint)
                                   = ('x' || left(encode(sha256(convert_to(
                                         'invite-ledger projection ' || OLD.name, 'UTF8')),
                                         'hex'), 16))::bit(64)::bigint);
             RETURN NEW;
         END $$;
         CREATE TRIGGER checkpoint_moves BEFORE UPDATE ON projection_checkpoint
             FOR EACH ROW EXECUTE FUNCTION note_checkpoint_move();",
    )
    .execute(pool)
    .await
    .unwrap();
}

/// Every checkpoint moved only under its advisory lock, and each move started
/// where the one before it ended: one owner at a time, none skipping or
/// repeating another's batch.
async fn assert_one_owner_at_a_time(pool: &PgPool) {
    let moves: Vec<(String, i64, i64, i32, bool)> = sqlx::query_as(
        "SELECT name, moved_from, moved_to, owner, locked FROM checkpoint_move ORDER BY id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let unlocked: Vec<_> = moves.iter().filter(|m| !m.4).collect();
    assert!(
        unlocked.is_empty(),
        "checkpoints moved without their lock: {unlocked:?}"
    );
    let mut owners: HashMap<&str, HashSet<i32>> = HashMap::new();
    let mut last: HashMap<&str, i64> = HashMap::new();
    for (name, from, to, owner, _) in &moves {
        if let Some(previous) = last.insert(name, *to) {
            assert_eq!(
                *from, previous,
                "{name} moved from {from}, but its last move ended at {previous}"
            );
        }
        assert!(to >= from, "{name} moved back from {from} to {to}");
        owners.entry(name).or_default().insert(*owner);
    }
    assert!(
        owners.len() >= 5,
        "read models and reactors all moved: {:?}",
        owners.keys()
    );
    println!(
        "checkpoint moves: {}; sessions per checkpoint: {:?}",
        moves.len(),
        owners.iter().map(|(n, o)| (n, o.len())).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn three_replicas_under_load_with_a_kill_and_a_restart_lose_nothing() {
    let db = TestDb::new().await;
    let smtp = SmtpSink::start().await;
    let hooks = WebhookSink::start().await;
    let mut admin_cmd = binary(
        &db,
        &[
            "user",
            "create",
            "--email",
            ADMIN_EMAIL,
            "--password",
            ADMIN_PASSWORD,
            "--name",
            "Ada Admin",
            "--role",
            "admin",
        ],
    );
    assert!(admin_cmd.status().await.unwrap().success());
    let mut manager_cmd = binary(
        &db,
        &[
            "user",
            "create",
            "--email",
            MANAGER_EMAIL,
            "--password",
            ADMIN_PASSWORD,
            "--name",
            "Max Manager",
            "--role",
            "manager",
        ],
    );
    assert!(manager_cmd.status().await.unwrap().success());
    let pool = crate::helpers::small_pool(&db.url).await.unwrap();
    watch_checkpoint_moves(&pool).await;
    let before_replicas = log_end(&pool).await;

    let ports: Vec<u16> = (0..3).map(|_| crate::helpers::free_port()).collect();
    let mut replicas = Vec::new();
    for port in &ports {
        replicas.push(start_replica(&db, *port, &smtp, &hooks).await);
    }
    let backends = ports
        .iter()
        .map(|p| SocketAddr::from(([127, 0, 0, 1], *p)))
        .collect();
    let proxy = Arc::new(Proxy::start(backends).await);

    // The limits are one budget across the replicas. Sign-in: one address gets
    // SIGN_INS_PER_ADDRESS attempts in all, not per replica.
    let attacker = Browser::new(&proxy, "198.51.100.7");
    let mut sign_in_statuses = Vec::new();
    for _ in 0..(3 * SIGN_INS_PER_ADDRESS + 3) {
        let body = json!({ "email": ADMIN_EMAIL, "password": "wrong-password" });
        let (status, _) = attacker
            .post("/api/auth/sign-in/email", body)
            .await
            .unwrap();
        sign_in_statuses.push(status);
    }
    let refused = sign_in_statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        sign_in_statuses.len() - refused,
        SIGN_INS_PER_ADDRESS,
        "sign-in attempts answered (not 429) over three replicas: {sign_in_statuses:?}"
    );
    // Guessing: unknown tokens from one address, spread over the three.
    let guesser = Browser::new(&proxy, "198.51.100.8");
    let mut guess_statuses = Vec::new();
    for i in 0..(3 * GUESSES_PER_MINUTE) {
        let (status, _) = guesser
            .get(&format!("/api/auth/invite/get?token=guess{i}"))
            .await
            .unwrap();
        guess_statuses.push(status);
    }
    let refused = guess_statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        guess_statuses.len() - refused,
        GUESSES_PER_MINUTE,
        "token guesses answered (not 429) over three replicas: {guess_statuses:?}"
    );
    assert!(
        proxy.served().iter().all(|n| *n >= 3),
        "every replica took part: {:?}",
        proxy.served()
    );

    // Quotas: a manager may have 5 invites open; 50 creates at once, spread
    // over the three replicas, open exactly 5.
    let manager = Browser::new(&proxy, "198.51.100.9");
    let (status, body) = manager
        .post(
            "/api/auth/sign-in/email",
            json!({ "email": MANAGER_EMAIL, "password": ADMIN_PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let creates =
        (0..50).map(|_| manager.post("/api/auth/invite/create", json!({ "role": "user" })));
    let answers: Vec<_> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|answer| answer.expect("every replica is up"))
        .collect();
    let opened = answers.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(
        opened, MANAGER_OPEN_INVITES,
        "invites opened over three replicas"
    );
    for (status, body) in answers.iter().filter(|(status, _)| *status != 200) {
        assert_eq!(
            (*status, &body["code"]),
            (429, &json!("INVITE_QUOTA_EXCEEDED")),
            "{body}"
        );
    }

    let admin = Browser::new(&proxy, "10.0.0.1");
    let (status, body) = admin
        .post(
            "/api/auth/sign-in/email",
            json!({ "email": ADMIN_EMAIL, "password": ADMIN_PASSWORD }),
        )
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");

    // The crowd's invite.
    let (crowd_id, crowd_token) = admin
        .create(json!({ "role": "user", "maxUses": CROWD_SEATS }))
        .await
        .unwrap();

    let acked = Arc::new(Mutex::new(Acknowledged::default()));
    acked.lock().unwrap().invites.push(crowd_id.clone());
    let load = futures::future::join_all(
        (0..WORKERS).map(|w| tokio::spawn(worker(admin.clone(), proxy.clone(), w, acked.clone()))),
    );
    let crowd = {
        let (proxy, token, acked) = (proxy.clone(), crowd_token.clone(), acked.clone());
        tokio::spawn(async move {
            futures::stream::iter(0..CROWD)
                .map(|i| {
                    let visitor = Browser::new(&proxy, &format!("10.2.0.{i}"));
                    let token = token.clone();
                    async move { visitor.join(&token, &format!("crowd{i}@example.com")).await }
                })
                .buffer_unordered(CROWD)
                .for_each(|answer| {
                    if let Some(body) = answer {
                        let mut acked = acked.lock().unwrap();
                        if let Some(user) = body["user"]["id"].as_str() {
                            acked.users.push(user.to_string());
                        }
                        if body["invite"]["used"] == true {
                            acked.crowd_uses += 1;
                        }
                    }
                    futures::future::ready(())
                })
                .await
        })
    };
    // Mid-load: SIGKILL the first replica, then stop the second with SIGTERM and
    // start it again on its port.
    let chaos = async {
        let progress = || acked.lock().unwrap().invites.len();
        poll_until(60, progress, |n| *n >= WORKERS * 3).await;
        let mut killed = replicas.remove(0);
        killed.child.start_kill().unwrap();
        killed.child.wait().await.unwrap();
        poll_until(60, progress, |n| *n >= WORKERS * 8).await;
        let mut stopped = replicas.remove(0);
        let pid = stopped.child.id().unwrap().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), stopped.child.wait())
            .await
            .expect("a stopped replica exits within its grace")
            .unwrap();
        assert!(exit.success(), "SIGTERM ends the replica cleanly: {exit:?}");
        replicas.push(start_replica(&db, stopped.port, &smtp, &hooks).await);
    };
    let (loaded, crowded, ()) = tokio::join!(load, crowd, chaos);
    for worker in loaded {
        worker.unwrap();
    }
    crowded.unwrap();
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.invites.len() > WORKERS * ROUNDS,
        "the load went on through the kill and the restart: {} invites acknowledged",
        acked.invites.len()
    );

    // Every acknowledged write is in the log.
    for id in &acked.invites {
        assert_eq!(events_of(&pool, id, "Created").await, 1, "invite {id}");
    }
    for id in &acked.cancelled {
        assert_eq!(events_of(&pool, id, "Cancelled").await, 1, "cancel of {id}");
    }
    for user in &acked.users {
        let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
            .bind(user)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(events >= 1, "user {user} is in the log");
    }

    // The crowd over three replicas never went past maxUses.
    let crowd_used = events_of(&pool, &crowd_id, "Used").await;
    assert!(
        crowd_used <= CROWD_SEATS,
        "{crowd_used} uses of a {CROWD_SEATS}-seat invite"
    );
    assert!(
        acked.crowd_uses as i64 <= crowd_used && acked.crowd_uses > 0,
        "{} acknowledged uses, {crowd_used} in the log",
        acked.crowd_uses
    );

    // Each short-lived invite expired exactly once.
    let expired_once = || async {
        let mut all = true;
        for id in &acked.short_lived {
            let n = events_of(&pool, id, "Expired").await;
            assert!(n <= 1, "invite {id} expired {n} times");
            all &= n == 1;
        }
        all
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !expired_once().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "short-lived invites not expired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT aggregate_id FROM events WHERE event_type = 'Expired'
           GROUP BY aggregate_id HAVING count(*) > 1) t",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(twice, 0, "no invite expired twice");

    // Every private invite's email arrived (duplicates allowed).
    let wanted: HashSet<String> = acked.private_emails.iter().cloned().collect();
    let received = smtp
        .wait_until(60, |r| {
            let reached: HashSet<String> = r.iter().flat_map(|m| m.to.clone()).collect();
            wanted.is_subset(&reached)
        })
        .await;
    let reached: HashSet<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    let missing: Vec<_> = wanted.difference(&reached).collect();
    assert!(missing.is_empty(), "no email reached {missing:?}");

    // Every event since the replicas started was posted to the webhook.
    let positions: Vec<i64> =
        sqlx::query_scalar("SELECT global_position FROM events WHERE global_position > $1")
            .bind(before_replicas)
            .fetch_all(&pool)
            .await
            .unwrap();
    let delivered = hooks
        .wait_until(60, |h| {
            let ids: HashSet<&str> = h
                .iter()
                .filter(|h| h.status < 300)
                .map(|h| h.id.as_str())
                .collect();
            positions
                .iter()
                .all(|p| ids.contains(format!("evt_{p}").as_str()))
        })
        .await;
    let ids: HashSet<String> = delivered
        .iter()
        .filter(|h| h.status < 300)
        .map(|h| h.id.clone())
        .collect();
    let undelivered: Vec<_> = positions
        .iter()
        .filter(|p| !ids.contains(&format!("evt_{p}")))
        .collect();
    assert!(
        undelivered.is_empty(),
        "webhooks never sent: {undelivered:?}"
    );
    // One invite's hooks arrive in log order, as first received.
    let mut first_seen: HashMap<String, Vec<i64>> = HashMap::new();
    let mut seen = HashSet::new();
    for hook in delivered.iter().filter(|h| h.status < 300) {
        if seen.insert(hook.id.clone()) {
            let data = &hook.json()["data"];
            first_seen
                .entry(data["aggregateId"].as_str().unwrap().to_string())
                .or_default()
                .push(data["globalPosition"].as_i64().unwrap());
        }
    }
    for (aggregate, positions) in &first_seen {
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "hooks of {aggregate} out of order: {positions:?}"
        );
    }

    // The read models equal a rebuild from the log.
    let settled = async {
        loop {
            if caught_up(&pool).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), settled)
        .await
        .expect("every checkpoint reaches the log's end");
    assert_one_owner_at_a_time(&pool).await;
    let live = crate::helpers::read_models(&pool, false).await;
    let mut rebuild = binary(&db, &["projections", "rebuild"]);
    let output = rebuild.stdout(Stdio::piped()).output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(
        live,
        crate::helpers::read_models(&pool, false).await,
        "the read models written by three replicas differ from a rebuild"
    );
    let uses_in_view: i64 =
        sqlx::query_scalar("SELECT count(*) FROM invite_use WHERE invite_id::text = $1")
            .bind(&crowd_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(uses_in_view, crowd_used);

    println!(
        "{} invites, {} users, {} crowd uses of {CROWD_SEATS}, {} emails, {} hooks; \
         connections per replica {:?}",
        acked.invites.len(),
        acked.users.len(),
        crowd_used,
        received.len(),
        delivered.len(),
        proxy.served()
    );
    pool.close().await;
    for mut replica in replicas {
        replica.child.start_kill().unwrap();
        replica.child.wait().await.unwrap();
    }
}
