//! Node.js suites run from Rust tests: their npm packages, installed on demand.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

fn modified(path: &Path) -> Option<SystemTime> {
    path.metadata().and_then(|m| m.modified()).ok()
}

/// `npm ci` in `dir` when its node_modules is missing or older than its lockfile.
pub fn install_packages(dir: &Path) {
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    let wanted = [dir.join("package.json"), dir.join("package-lock.json")]
        .iter()
        .filter_map(|p| modified(p))
        .max();
    if installed.is_some() && installed >= wanted {
        return;
    }
    let output = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("could not run `npm ci` (Node.js 20+ and npm needed): {e}"));
    assert!(
        output.status.success(),
        "`npm ci` in {} failed:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
