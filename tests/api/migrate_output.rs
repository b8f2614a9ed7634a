//! `migrate` says what it did: each migration it applied, or that the
//! database was already up to date.

use tokio::process::Command;

use crate::helpers::TestDb;

async fn migrate(db: &TestDb) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn migrate_lists_what_it_applied() {
    let db = TestDb::new().await;
    let first = migrate(&db).await;
    let migrations: Vec<String> =
        std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
            .collect();
    for file in &migrations {
        let (version, rest) = file.split_once('_').unwrap();
        let name = rest.trim_end_matches(".sql").replace('_', " ");
        let line = format!("applied {} {name}", version.parse::<i64>().unwrap());
        assert!(first.contains(&line), "`{line}` not in:\n{first}");
    }
    let again = migrate(&db).await;
    assert!(!again.contains("applied "), "{again}");
    assert!(
        again.contains(&format!(
            "already up to date ({} migrations)",
            migrations.len()
        )),
        "{again}"
    );
}

/// PostgreSQL's notices (`relation ... already exists, skipping`) are its
/// chatter, not the command's: they stay out of what an operator reads.
#[tokio::test]
async fn commands_print_no_database_notice() {
    let db = TestDb::new().await;
    migrate(&db).await;
    for args in [&["migrate"][..], &["projections", "status"][..]] {
        let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env_remove("RUST_LOG")
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{all}");
        assert!(!all.contains("notice"), "{args:?}: {all}");
    }
}
