//! The server binary in child processes on a test's database: `serve` on a
//! free port, and `user create` for the accounts a test starts with.

use std::process::Stdio;
use std::time::Duration;

use serde_json::json;
use tokio::process::{Child, Command};

use super::TestDb;

/// A `serve` process; killed (SIGKILL) when dropped.
pub struct Served {
    pub child: Child,
    pub base: String,
}

/// The executable running `args` on the test's database, with cheap password hashing.
pub fn binary(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-ledger"));
    command
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("PASSWORD_HASH_MEMORY_KIB", "64")
        .env("PASSWORD_HASH_ITERATIONS", "1")
        .env("SIGN_IN_ATTEMPTS_PER_ADDRESS", "100000")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true);
    command
}

/// `invite-ledger serve` on a free port, once `/readyz` answers 200.
pub async fn serve(db: &TestDb, env: &[(&str, &str)]) -> Served {
    let port = super::free_port().to_string();
    let mut env = env.to_vec();
    env.extend([
        ("PORT", port.as_str()),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("DATABASE_MAX_CONNECTIONS", "8"),
    ]);
    let child = binary(db, &["serve"], &env).spawn().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ready = client.get(format!("{base}/readyz")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return Served { child, base };
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not ready within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An account made from the command line, as an operator makes the first admin.
pub async fn create_user(db: &TestDb, email: &str, role: &str, env: &[(&str, &str)]) {
    let args = [
        "user",
        "create",
        "--email",
        email,
        "--password",
        "password1",
        "--name",
        "Someone",
        "--role",
        role,
    ];
    let status = binary(db, &args, env).status().await.unwrap();
    assert!(status.success(), "user create {email} ({role})");
}

impl Served {
    /// A session token for `email` (password `password1`), for `Authorization: Bearer`.
    pub async fn sign_in(&self, email: &str) -> String {
        let reply: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/api/auth/sign-in/email", self.base))
            .json(&json!({ "email": email, "password": "password1" }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["token"].as_str().expect("signed in").to_string()
    }

    /// SIGKILL, and wait until the process is gone.
    pub async fn kill_9(mut self) {
        self.child.kill().await.unwrap();
    }
}
