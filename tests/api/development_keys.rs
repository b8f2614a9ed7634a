//! `serve` refuses the public development keys unless `BASE_URL` is local or
//! `ALLOW_DEVELOPMENT_KEYS` says so: a dump of a server that hashes tokens
//! under a public key gives its 6-character codes away in minutes.

use tokio::process::Command;

const KEY: &str = "5f3c1d2e4b6a79880a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778";

/// `serve` with `env` and no key of ours set: its stderr, once it has exited.
async fn serve(env: &[(&str, &str)]) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_invite-ledger"));
    command.arg("serve").kill_on_drop(true);
    for (name, _) in std::env::vars() {
        if name.starts_with("DATABASE_") || name.starts_with("TOKEN_") || name == "BASE_URL" {
            command.env_remove(name);
        }
    }
    command.env_remove("ALLOW_DEVELOPMENT_KEYS");
    // Nothing listens there: a start that gets past the keys stops at the database.
    command.env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/never_used");
    command.envs(env.iter().copied());
    let output = command.output().await.unwrap();
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).to_string()
}

const PAST_THE_KEYS: &str = "cannot start on PostgreSQL";

#[tokio::test]
async fn a_public_server_refuses_the_development_keys() {
    let stderr = serve(&[("BASE_URL", "https://invite.example.com")]).await;
    for named in [
        "TOKEN_HASH_KEY",
        "TOKEN_SEALING_KEY",
        "ALLOW_DEVELOPMENT_KEYS",
    ] {
        assert!(stderr.contains(named), "`{named}` not in: {stderr}");
    }
    assert!(!stderr.contains(PAST_THE_KEYS), "{stderr}");

    let stderr = serve(&[
        ("BASE_URL", "https://invite.example.com"),
        ("TOKEN_HASH_KEY", KEY),
    ])
    .await;
    assert!(stderr.contains("TOKEN_SEALING_KEY"), "{stderr}");
    assert!(!stderr.contains(PAST_THE_KEYS), "{stderr}");
}

#[tokio::test]
async fn keys_a_local_base_url_or_an_explicit_flag_let_it_start() {
    for env in [
        vec![
            ("BASE_URL", "https://invite.example.com"),
            ("TOKEN_HASH_KEY", KEY),
            ("TOKEN_SEALING_KEY", KEY),
        ],
        vec![
            ("BASE_URL", "https://invite.example.com"),
            ("ALLOW_DEVELOPMENT_KEYS", "1"),
        ],
        vec![],
        vec![("BASE_URL", "http://127.0.0.1:8080")],
        vec![("BASE_URL", "http://[::1]:8080")],
        vec![("BASE_URL", "http://localhost:3000")],
    ] {
        let stderr = serve(&env).await;
        assert!(stderr.contains(PAST_THE_KEYS), "{env:?}: {stderr}");
    }
}
