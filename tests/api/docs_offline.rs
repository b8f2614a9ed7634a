//! `/docs` works without internet: the Node suite in `tests/docs` opens it in
//! headless Chromium (Debian's `/usr/bin/chromium`, driven by `playwright-core`)
//! with every request to any other host cut off, and sees the operations of
//! `/openapi.json` rendered. Needs Node.js 20+, npm and Chromium; installs the
//! pinned npm packages itself (`npm ci`).

use std::path::Path;

use crate::helpers::node::{install_packages, report, require_node};
use crate::helpers::TestServer;

#[tokio::test]
async fn the_docs_page_renders_offline_in_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/docs");
    require_node();
    install_packages(&dir);
    let server = TestServer::start().await;
    // Not std's blocking `output()`: the server runs on this test's runtime.
    let output = tokio::process::Command::new("node")
        .args(["--test", "--test-timeout=120000"])
        .current_dir(&dir)
        .env("DOCS_BASE_URL", format!("http://{}", server.addr))
        .kill_on_drop(true)
        .output()
        .await
        .expect("node runs");
    let report = report(&output);
    println!("{report}");
    assert!(
        output.status.success(),
        "the docs page suite failed (tests/docs):\n{report}"
    );
}
