//! The README's "Backups and restore", as an operator runs it: a dump without
//! the read models' rows, restored into a new database and rebuilt with
//! `invite-ledger projections rebuild`, gives the same read models, and the
//! restored ledger serves the same answers.

use std::process::{Command, Output};

use crate::helpers::{TestDb, TestServer};
use serde_json::json;
use sqlx::PgPool;

/// The read models' tables: what a restore rebuilds.
const READ_MODELS: &[&str] = &[
    "invite",
    "invite_history",
    "invite_use",
    "invite_use_history",
    "user_account",
    "user_account_history",
];

/// Every row of the read models, as text, sorted.
async fn read_model_rows(pool: &PgPool) -> Vec<String> {
    let mut rows = Vec::new();
    for table in READ_MODELS {
        let sql = format!("SELECT '{table} ' || t::text FROM {table} t");
        rows.extend(
            sqlx::query_scalar::<_, String>(&sql)
                .fetch_all(pool)
                .await
                .unwrap(),
        );
    }
    rows.sort();
    rows
}

fn run(command: &mut Command) -> Output {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn a_dump_without_read_models_restores_and_rebuilds_the_same_state() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    let visitor = server.client();
    visitor.activate(&token).await.ok();
    visitor
        .sign_up("restored@example.com", "password1", "Restored")
        .await
        .ok();
    admin.invite_by_email("user", "private@example.com").await;
    admin.cancel(&token).await;
    // Every read model has rows to lose and rebuild.
    server.pool().await.close().await;
    let before = read_model_rows(&crate::helpers::small_pool(&server.db.url).await.unwrap()).await;
    for table in READ_MODELS {
        assert!(
            before.iter().any(|r| r.starts_with(&format!("{table} "))),
            "{table} has rows"
        );
    }

    let dump = std::env::temp_dir().join(format!("ledger-{}.dump", uuid::Uuid::new_v4()));
    run(Command::new("pg_dump")
        .args(["-Fc", "--dbname", &server.db.url])
        .args([
            "--exclude-table-data=invite*",
            "--exclude-table-data=user_account*",
        ])
        .arg("--file")
        .arg(&dump));
    let restored = TestDb::new().await;
    run(Command::new("pg_restore")
        .args(["--dbname", &restored.url])
        .arg(&dump));
    let _ = std::fs::remove_file(&dump);
    let pool = crate::helpers::small_pool(&restored.url).await.unwrap();
    assert!(
        read_model_rows(&pool).await.is_empty(),
        "the dump left the read models' rows out"
    );

    run(Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", &restored.url));
    let after = read_model_rows(&pool).await;
    assert_eq!(after, before, "the rebuilt read models equal the originals");
}
