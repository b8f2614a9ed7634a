//! The README's front-end example (`try-invite.mjs`), exactly as the README
//! prints it, run with the real Better Auth client against the real binary:
//! before the admin exists it prints the refusal and fails; once the admin is
//! made as the quick-start makes it, it prints the new user's role, twice.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use crate::helpers::node::{install_packages, report, require_node};
use crate::helpers::TestDb;
use tokio::process::{Child, Command};

const SECTION: &str = "## Use it from a Better Auth front end";

/// The first JavaScript block of the README's front-end section.
fn readme_snippet() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme.find(SECTION).expect("the front-end section")..];
    let block = &section[section.find("```js\n").expect("a ```js block") + "```js\n".len()..];
    block[..block.find("\n```").unwrap()].to_string()
}

/// The snippet saved as `try-invite.mjs` in a folder of its own that sees the
/// client suite's pinned packages.
fn script() -> PathBuf {
    let client = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client");
    require_node();
    install_packages(&client);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("try-invite-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(client.join("node_modules"), dir.join("node_modules")).unwrap();
    let script = dir.join("try-invite.mjs");
    std::fs::write(&script, readme_snippet()).unwrap();
    script
}

async fn run_script(script: &Path, base: &str) -> Output {
    let run = Command::new("node")
        .arg(script)
        .env("INVITE_LEDGER_URL", base)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("try-invite.mjs ends within 60 s")
        .expect("node runs")
}

/// `invite-ledger serve` on a free port, once `/readyz` answers 200.
async fn serve(db: &TestDb) -> (Child, String) {
    let port = crate::helpers::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .arg("serve")
        .env("DATABASE_URL", &db.url)
        .env("PORT", port.to_string())
        .env("DATABASE_MAX_CONNECTIONS", "5")
        // As the README's quick-start runs it.
        .env("INVITE_ONLY", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(tokio::time::Instant::now() < deadline, "not ready in 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, base)
}

#[tokio::test]
async fn the_readme_front_end_example_runs_twice_and_reports_refusals() {
    let script = script();
    let db = TestDb::new().await;
    let (_server, base) = serve(&db).await;

    // No admin yet: the sign-in is refused, and the script says so and stops.
    let refused = run_script(&script, &base).await;
    let shown = report(&refused);
    assert!(!refused.status.success(), "{shown}");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("signIn: error INVALID_EMAIL_OR_PASSWORD: "),
        "{shown}"
    );
    assert!(refused.stdout.is_empty(), "{shown}");

    // The admin, as the quick-start's first step makes it.
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["user", "create", "--email", "admin@example.com"])
        .args([
            "--password",
            "secret123",
            "--name",
            "Admin",
            "--role",
            "admin",
        ])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", report(&made));

    for run in 1..=2 {
        let output = run_script(&script, &base).await;
        let shown = report(&output);
        assert!(output.status.success(), "run {run}: {shown}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "user\n",
            "run {run}: {shown}"
        );
    }
    let _ = std::fs::remove_dir_all(script.parent().unwrap());
}
