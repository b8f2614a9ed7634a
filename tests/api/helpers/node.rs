//! Running the Node suites under `tests/` (the Better Auth client, the docs page
//! in Chromium): Node.js 20+ and npm, and their pinned packages (`npm ci`).

use std::path::Path;
use std::process::{Command, Output};
use std::time::SystemTime;

pub const MIN_NODE_MAJOR: u32 = 20;

pub fn run(command: &mut Command, what: &str) -> Output {
    command.output().unwrap_or_else(|error| {
        panic!(
            "could not run {what}: {error}. The Node suites need Node.js \
             {MIN_NODE_MAJOR}+ and npm on the PATH (https://nodejs.org)"
        )
    })
}

pub fn report(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn require_node() {
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
        "the Node suites need Node.js {MIN_NODE_MAJOR}+, found `{version}`"
    );
}

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// `npm ci` when node_modules is missing or older than the lockfile.
pub fn install_packages(dir: &Path) {
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
