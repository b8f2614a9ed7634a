//! A real Better Auth server beside the real binary: builds the npm package in
//! `packages/better-auth` and runs the Node suite in `tests/companion` (`node --test`),
//! which starts `invite-ledger` and a Better Auth server (with `@invite-ledger/better-auth`,
//! and for the differential `better-invite` 0.5.7) each on a database of its own, and
//! drives them with `createAuthClient` from the `better-auth` npm package.
//! Needs Node.js 20+ and npm; installs the pinned packages itself (`npm ci`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::node::{install_packages, report, require_node, run};

fn repo_dir(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// `tsc` type-checks the package (its sources and its type tests: `authClient.invite.*`
/// typed as better-invite's), then builds its `dist/` from its `src/`.
fn build_package(package: &Path) {
    install_packages(package);
    for script in ["typecheck", "build"] {
        let output = run(
            Command::new("npm")
                .args(["run", script])
                .current_dir(package),
            "`npm run` in packages/better-auth",
        );
        assert!(
            output.status.success(),
            "`npm run {script}` in {} failed:\n{}",
            package.display(),
            report(&output)
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The suite installs the package as a copy (`install-links`), so that it resolves
/// `better-auth` from the suite's own node_modules; the copy is refreshed from the
/// build just made, whatever `npm ci` last copied.
fn refresh_installed_copy(package: &Path, suite: &Path) {
    let installed = suite.join("node_modules/@invite-ledger/better-auth");
    let _ = fs::remove_dir_all(installed.join("dist"));
    copy_dir(&package.join("dist"), &installed.join("dist"));
    fs::copy(package.join("package.json"), installed.join("package.json")).unwrap();
}

#[test]
fn a_real_better_auth_server_with_the_plugin_works_beside_the_binary() {
    require_node();
    let package = repo_dir("packages/better-auth");
    let suite = repo_dir("tests/companion");
    build_package(&package);
    install_packages(&suite);
    refresh_installed_copy(&package, &suite);
    let output = run(
        Command::new("node")
            // One scenario at a time: each starts two servers and two databases.
            .args(["--test", "--test-concurrency=1", "--test-timeout=180000"])
            .current_dir(&suite)
            .env("INVITE_LEDGER_BIN", env!("CARGO_BIN_EXE_invite-ledger")),
        "`node --test`",
    );
    let report = report(&output);
    println!("{report}");
    assert!(
        output.status.success(),
        "the Better Auth companion suite failed (tests/companion):\n{report}"
    );
}
