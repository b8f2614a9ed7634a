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

/// The reference page may not be framed (clickjacking) and may only talk to
/// this server, whatever the viewer's features would like to reach.
#[tokio::test]
async fn the_docs_page_may_not_be_framed_or_reach_elsewhere() {
    let server = TestServer::start().await;
    let response = reqwest::get(format!("http://{}/docs", server.addr))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    for directive in [
        "default-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "`{directive}` not in `{csp}`");
    }
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
}
