//! The binary refuses configuration mistakes before it touches a database, and
//! says which variable is wrong; `--help` shows no secret and only the options a
//! command uses; stdout carries only what scripts read.

use std::process::Output;

use crate::helpers::TestDb;
use tokio::process::Command;

/// The binary with a clean slate: none of the caller's variables of ours.
fn binary(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-ledger"));
    command.args(args).env_remove("RUST_LOG").kill_on_drop(true);
    for (name, _) in std::env::vars() {
        if name.starts_with("DATABASE_") || name == "LOG_FORMAT" {
            command.env_remove(name);
        }
    }
    command
}

async fn run(command: &mut Command) -> (Output, String, String) {
    let output = command.output().await.expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (output, stdout, stderr)
}

/// `serve` with `env` set exits with an error whose text contains `expected`.
async fn serve_refuses(env: &[(&str, &str)], expected: &[&str]) -> String {
    let mut command = binary(&["serve"]);
    // Nothing listens there: a refusal must come before any connection.
    command.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/never_used");
    command.envs(env.iter().copied());
    let (output, _, stderr) = run(&mut command).await;
    assert!(!output.status.success(), "{env:?} was accepted: {stderr}");
    for text in expected {
        assert!(stderr.contains(text), "{env:?}: `{text}` not in: {stderr}");
    }
    stderr
}

#[tokio::test]
async fn configuration_mistakes_are_refused_naming_the_variable() {
    let stderr = serve_refuses(
        &[(
            "DATABASE_URL",
            "postgres://postgres:S3cretPw@127.0.0.1:5432/",
        )],
        &["DATABASE_URL names no database", "127.0.0.1:5432"],
    )
    .await;
    assert!(!stderr.contains("S3cretPw"), "{stderr}");
    serve_refuses(
        &[("DATABASE_URL", "garbage")],
        &["DATABASE_URL is not a URL"],
    )
    .await;
    serve_refuses(&[("ROLES", "user,,admin")], &["ROLES", "empty"]).await;
    serve_refuses(&[("ROLES", "user, admin, user")], &["ROLES", "twice"]).await;
    serve_refuses(
        &[("BASE_URL", "localhost:3000")],
        &["BASE_URL", "absolute http(s) URL"],
    )
    .await;
    serve_refuses(
        &[("MAIL_TEMPLATE_DIR", "/nonexistent/invite-ledger-templates")],
        &["MAIL_TEMPLATE_DIR", "is not a folder"],
    )
    .await;
    serve_refuses(&[("SMTP_URL", "garbage")], &["SMTP_URL is not a URL"]).await;
}

#[tokio::test]
async fn unreachable_places_are_named() {
    let mut command = binary(&["migrate"]);
    command.env(
        "DATABASE_URL",
        "postgres://postgres@127.0.0.1:1/invite_ledger",
    );
    let (output, _, stderr) = run(&mut command).await;
    assert!(!output.status.success());
    assert!(
        stderr.contains("127.0.0.1:1/invite_ledger (DATABASE_URL)"),
        "{stderr}"
    );

    // A host name is a bind address too: the start goes on to the database.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port().to_string();
    drop(free);
    serve_refuses(
        &[("BIND_ADDRESS", "localhost"), ("PORT", &port)],
        &["cannot start on PostgreSQL at 127.0.0.1:1/never_used (DATABASE_URL)"],
    )
    .await;

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    serve_refuses(
        &[("BIND_ADDRESS", "127.0.0.1"), ("PORT", &port)],
        &[&format!(
            "cannot listen on 127.0.0.1:{port} (BIND_ADDRESS, PORT)"
        )],
    )
    .await;
}

#[tokio::test]
async fn misspelt_variables_are_warned_about() {
    let stderr = serve_refuses(
        &[
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/"),
            ("DEFAULT_REDIRECT_TO_AFTER_UPGRADE", "/welcome"),
        ],
        &["DEFAULT_REDIRECT_TO_AFTER_UPGRADE"],
    )
    .await;
    assert!(stderr.contains("not an option"), "{stderr}");
}

#[tokio::test]
async fn help_hides_secrets_and_lists_only_the_options_a_command_uses() {
    let secrets = [
        ("DATABASE_URL", "postgres://app:S3cretPw@db.internal/ledger"),
        ("SMTP_URL", "smtps://mailer:MailPw@mail.internal"),
        ("TOKEN_SEALING_KEY", &"ab".repeat(32)),
        ("WEBHOOK_SECRET", "whsec_HookPw"),
    ];
    let (_, help, _) = run(binary(&["serve", "--help"]).envs(secrets)).await;
    assert!(help.contains("--smtp-url"), "{help}");
    for (name, value) in secrets {
        assert!(!help.contains(value), "{name}'s value shown in: {help}");
    }

    let (_, help, _) = run(&mut binary(&["apikey", "create", "--help"])).await;
    assert!(help.contains("--name <NAME>"), "{help}");
    assert!(help.contains("--database-url"), "{help}");
    for other in ["--port", "--roles", "--smtp-url", "--password-hash"] {
        assert!(!help.contains(other), "{other} in: {help}");
    }
    let (_, help, _) = run(&mut binary(&["user", "create", "--help"])).await;
    for used in [
        "--roles",
        "--password-hash-memory-kib",
        "--min-password-length",
    ] {
        assert!(help.contains(used), "{used} not in: {help}");
    }
    assert!(!help.contains("--smtp-url"), "{help}");
}

#[tokio::test]
async fn apikey_create_prints_only_the_key_on_stdout() {
    let db = TestDb::new().await;
    let mut command = binary(&["apikey", "create", "--name", "script"]);
    command.env("DATABASE_URL", &db.url).env("RUST_LOG", "info");
    let (output, stdout, stderr) = run(&mut command).await;
    assert!(output.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "stdout: {stdout}");
    assert!(
        !lines[0].contains(' ') && lines[0].len() >= 32,
        "stdout: {stdout}"
    );
    assert!(
        stderr.contains("API key created"),
        "logs go to stderr: {stderr}"
    );
    // No colour codes when stderr is not a terminal.
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}
