//! The README's first line promises invite-only sign-up: its quick-start runs
//! the server with `INVITE_ONLY=true`, and its steps work under it (a walk-in
//! is refused, the invited visitor signs up with the invite's role).

use serde_json::json;

use crate::helpers::TestServer;

/// The command of "Two commands" that runs the server.
fn readme_serve_command() -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    readme
        .lines()
        .find(|line| line.contains("cargo run --release -- serve"))
        .expect("the README runs the server")
        .to_string()
}

#[tokio::test]
async fn the_quick_start_serves_invite_only_and_its_steps_work() {
    let command = readme_serve_command();
    assert!(command.contains("INVITE_ONLY=true"), "{command}");

    let server = TestServer::start_with(&["--invite-only", "true"]).await;
    server
        .client()
        .sign_up("walk-in@example.com", "password1", "Walk In")
        .await
        .err(403, "INVITE_REQUIRED");
    let admin = server.admin().await;
    let token = admin
        .create_invite(json!({ "role": "user", "senderResponse": "token" }))
        .await;
    let visitor = server.client();
    visitor.activate(&token).await.ok();
    let signed_up = visitor
        .sign_up("test@example.com", "test123x", "Test User")
        .await
        .ok();
    assert_eq!(signed_up["user"]["role"], "user", "{signed_up}");
    assert_eq!(signed_up["invite"]["used"], true, "{signed_up}");
    assert_eq!(visitor.role().await, "user");
}

/// Everything `.ci/run` makes sure of before the tests is in the README's
/// "Two commands", so a newcomer without `.ci/run` can run them.
#[test]
fn the_readme_names_every_test_prerequisite() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("## Two commands").unwrap();
    let end = start + readme[start..].find("\n## ").unwrap();
    let section = &readme[start..end];
    for needed in [
        "PostgreSQL",
        "127.0.0.1:4222",
        "nats-server",
        "-js",
        "cargo-nextest",
        "cargo install cargo-nextest",
        "Node.js 20",
        "Chromium",
    ] {
        assert!(section.contains(needed), "`{needed}` not in:\n{section}");
    }
}

/// Upgrading starts from the changelog: it exists, the README's Upgrading
/// points to it, and it has a section for the version `Cargo.toml` names.
#[test]
fn the_changelog_covers_this_version() {
    let root = env!("CARGO_MANIFEST_DIR");
    let changelog = std::fs::read_to_string(format!("{root}/CHANGELOG.md")).expect("CHANGELOG.md");
    let readme = std::fs::read_to_string(format!("{root}/README.md")).unwrap();
    let upgrading = &readme[readme.find("## Upgrading").unwrap()..];
    let upgrading = &upgrading[..upgrading[3..].find("\n## ").unwrap()];
    assert!(upgrading.contains("CHANGELOG.md"), "{upgrading}");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        changelog.contains(&format!("## {version}")),
        "no section for {version} in CHANGELOG.md"
    );
    assert!(changelog.contains("## Unreleased"), "{changelog}");
}
