//! A restore of the README's small dump (no read-model rows, checkpoints kept)
//! that skips `projections rebuild` is not served as an empty ledger: `serve`
//! refuses to start and names the command.

use std::process::Stdio;

use tokio::process::Command;

use crate::helpers::TestServer;

#[tokio::test]
async fn serve_refuses_read_models_emptied_behind_their_checkpoints() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    admin
        .create_invite(serde_json::json!({ "role": "user" }))
        .await;
    // What `pg_dump --exclude-table-data='invite*' --exclude-table-data='user_account*'`
    // restores: the log and the checkpoints, no read-model rows.
    sqlx::raw_sql(
        "DO $$ DECLARE t text; BEGIN
           FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
                      AND (tablename LIKE 'invite%' OR tablename LIKE 'user_account%')
           LOOP EXECUTE format('TRUNCATE %I', t); END LOOP;
         END $$",
    )
    .execute(server.pool().await)
    .await
    .unwrap();

    let port = crate::helpers::free_port().to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .arg("serve")
        .env("DATABASE_URL", &server.db.url)
        .env("PORT", &port)
        .env("DATABASE_MAX_CONNECTIONS", "4")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(30), output)
        .await
        .expect("serve refused to start, rather than serving")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains("projections rebuild"), "{stderr}");
    assert!(stderr.contains("user_account"), "{stderr}");
}
