//! The real Better Auth client against the real binary: runs the Node suite in
//! `tests/client` (`node --test`), which starts `invite-ledger` on its own database
//! and drives it only through `createAuthClient` from the `better-auth` npm package.
//! Needs Node.js 20+ and npm; installs the pinned packages itself (`npm ci`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

const MIN_NODE_MAJOR: u32 = 20;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client")
}

fn run(command: &mut Command, what: &str) -> Output {
    command.output().unwrap_or_else(|error| {
        panic!(
            "could not run {what}: {error}. The Better Auth client suite needs Node.js \
             {MIN_NODE_MAJOR}+ and npm on the PATH (https://nodejs.org)"
        )
    })
}

fn report(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn require_node() {
    let output = run(Command::new("node").arg("--version"), "`node --version`");
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= MIN_NODE_MAJOR,
        "the Better Auth client suite needs Node.js {MIN_NODE_MAJOR}+, found `{version}`"
    );
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// `npm ci` when node_modules is missing or older than the lockfile.
fn install_packages(dir: &Path) {
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    let wanted = [dir.join("package.json"), dir.join("package-lock.json")]
        .iter()
        .filter_map(|p| modified(p))
        .max();
    if installed.is_some() && installed >= wanted {
        return;
    }
    let output = run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir),
        "`npm ci`",
    );
    assert!(
        output.status.success(),
        "`npm ci` in {} failed:\n{}",
        dir.display(),
        report(&output)
    );
}

#[test]
fn the_real_better_auth_client_works_against_the_binary() {
    let dir = suite_dir();
    require_node();
    install_packages(&dir);
    let output = run(
        Command::new("node")
            // A test that hangs fails after a minute instead of holding up the run.
            .args(["--test", "--test-timeout=60000"])
            .current_dir(&dir)
            .env("INVITE_LEDGER_BIN", env!("CARGO_BIN_EXE_invite-ledger")),
        "`node --test`",
    );
    let report = report(&output);
    println!("{report}");
    assert!(
        output.status.success(),
        "the Better Auth client suite failed (tests/client):\n{report}"
    );
}
