//! The real Better Auth client against the real binary: runs the Node suite in
//! `tests/client` (`node --test`), which starts `invite-ledger` on its own database
//! and drives it only through `createAuthClient` from the `better-auth` npm package.
//! Needs Node.js 20+ and npm; installs the pinned packages itself (`npm ci`).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::node::{install_packages, report, require_node, run};

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client")
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
