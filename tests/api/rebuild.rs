//! `invite-ledger projections rebuild` replays every read model from the log and
//! gives identical rows.

// Not std's: a test blocked on a child process would freeze the in-process server's
// tasks, maybe mid-transaction with a projection's lock that the child then waits for.
use tokio::process::Command;

use crate::helpers::TestServer;
use serde_json::json;

/// A history touching every event type and every path: single- and multi-use
/// invites used up or partly used, activations, cancel, reject, expiry, a
/// resend, an upgrade of an existing account by invite, and roles set by an admin.
async fn varied_history(server: &TestServer) {
    let admin = server.admin().await;
    let single = admin.create_invite(json!({ "role": "user" })).await;
    let one = server.client();
    one.activate(&single).await.ok();
    one.sign_up("single@example.com", "password1", "Single")
        .await
        .ok();
    let partly = admin
        .create_invite(json!({ "role": "user", "maxUses": 3 }))
        .await;
    let first = server.client();
    first.activate(&partly).await.ok();
    first
        .sign_up("partly@example.com", "password1", "Partly")
        .await
        .ok();
    // An existing account raised by an invite (no new account: no inviter).
    let upgrade = admin
        .create_invite(json!({ "role": "admin", "maxUses": 2 }))
        .await;
    let existing = server.user_with_role("existing@example.com", "user").await;
    existing.activate(&upgrade).await.ok();
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "email": "resent@example.com" }),
        )
        .await
        .ok();
    let resent = server.mailer.last_to("resent@example.com").await.token;
    admin
        .post("/api/auth/invite/resend", json!({ "token": resent }))
        .await
        .ok();
    for i in 0..3 {
        let token = admin
            .create_invite(json!({ "role": "admin", "maxUses": 2 }))
            .await;
        let visitor = server.client();
        visitor.activate(&token).await.ok();
        visitor
            .sign_up(&format!("v{i}@example.com"), "password1", "Visitor")
            .await
            .ok();
    }
    let cancelled = admin.create_invite(json!({ "role": "user" })).await;
    admin
        .post("/api/auth/invite/cancel", json!({ "token": cancelled }))
        .await
        .ok();

    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "user", "email": "r@example.com" }),
        )
        .await
        .ok();
    let rejecter = server.client();
    rejecter
        .sign_up("r@example.com", "password1", "R")
        .await
        .ok();
    let token = server.mailer.last_to("r@example.com").await.token;
    rejecter
        .post("/api/auth/invite/reject", json!({ "token": token }))
        .await
        .ok();

    let expiring = admin
        .create_invite(json!({ "role": "user", "expiresIn": 10 }))
        .await;
    server.clock.advance(chrono::Duration::seconds(11));
    server.client().activate(&expiring).await.refused_because(
        400,
        "INVALID_OR_EXPIRED_INVITE",
        "INVITE_EXPIRED",
    );

    let demoted = server.client();
    let id = demoted
        .sign_up("d@example.com", "password1", "D")
        .await
        .ok()["user"]["id"]
        .clone();
    admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": id, "role": "admin" }),
        )
        .await
        .ok();
    admin
        .post(
            "/api/auth/admin/set-role",
            json!({ "userId": id, "role": "user" }),
        )
        .await
        .ok();

    // An erased person: an account with a use, and an invitee without one.
    // A rebuild can no longer open their fields; the tables must not differ.
    let erased = invite_ledger::domain::user::user_id_for_email("partly@example.com");
    admin
        .post(&format!("/api/ledger/users/{erased}/erase"), json!({}))
        .await
        .ok();
    admin
        .post("/api/ledger/users/resent@example.com/erase", json!({}))
        .await
        .ok();
}

#[tokio::test]
async fn rebuild_from_the_log_gives_identical_read_models() {
    let server = TestServer::start().await;
    varied_history(&server).await;
    let before = crate::helpers::read_models(server.pool().await, true).await;
    assert!(
        before.iter().all(|(_, rows)| !rows.is_empty()),
        "every table has rows"
    );
    let statuses: Vec<String> = sqlx::query_scalar("SELECT DISTINCT status FROM invite ORDER BY 1")
        .fetch_all(server.pool().await)
        .await
        .unwrap();
    assert_eq!(
        statuses,
        ["cancelled", "expired", "pending", "rejected", "used_up"]
    );
    let event_types: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT event_type FROM events ORDER BY 1")
            .fetch_all(server.pool().await)
            .await
            .unwrap();
    assert_eq!(
        event_types,
        [
            "Activated",
            "Cancelled",
            "Created",
            "Erased",
            "Expired",
            "Refused",
            "Registered",
            "Rejected",
            "Resent",
            "RoleSet",
            "Used"
        ]
    );
    let upgrades: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM invite_use WHERE NOT new_account AND role_before <> role_granted",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(upgrades, 1, "an existing account was upgraded by an invite");
    let erased: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM user_account WHERE email = '[erased]' AND name = '[erased]')
              + (SELECT count(*) FROM invite WHERE email = '[erased]')
              + (SELECT count(*) FROM invite_use WHERE user_email = '[erased]')",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(
        erased, 3,
        "an erased account, its use and an erased invitee's invite"
    );
    // Each invite has a version per event that changed it, and only its last
    // one is open.
    let (versions, invite_events, open, invites): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM invite_history),
                (SELECT count(*) FROM events WHERE aggregate_type = 'invite'
                    AND event_type NOT IN ('Resent', 'Refused')),
                (SELECT count(*) FROM invite_history WHERE valid_to IS NULL),
                (SELECT count(*) FROM invite)",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!((versions, open), (invite_events, invites));

    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["projections", "rebuild"])
        .env("DATABASE_URL", &server.db.url)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for name in ["invite", "invite_use", "user_account"] {
        assert!(
            stdout.contains(&format!("{name}: rebuilt from")),
            "{stdout}"
        );
    }

    let after = crate::helpers::read_models(server.pool().await, true).await;
    assert_eq!(
        before, after,
        "rebuilt read models differ from the originals"
    );

    // With room for two rows of each read model in memory, rows are written out
    // early and the events that touch them later are applied at the end: the
    // same tables again.
    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["projections", "rebuild", "--rows-in-memory", "2"])
        .env("DATABASE_URL", &server.db.url)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        before,
        crate::helpers::read_models(server.pool().await, true).await,
        "a rebuild with little memory differs from the originals"
    );

    // The service keeps working on the rebuilt tables.
    let admin = server.admin().await;
    let token = admin.create_invite(json!({ "role": "user" })).await;
    assert_eq!(
        server.client().invite_info(&token).await.ok()["invitation"]["status"],
        "pending"
    );
}

#[tokio::test]
async fn status_shows_each_projection_caught_up() {
    let server = TestServer::start().await;
    varied_history(&server).await;
    let output = Command::new(env!("CARGO_BIN_EXE_invite-ledger"))
        .args(["projections", "status"])
        .env("DATABASE_URL", &server.db.url)
        .output()
        .await
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in ["invite", "invite_use", "user_account"] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(name) && l.split_whitespace().next() == Some(name));
        let line = line.unwrap_or_else(|| panic!("no line for {name}: {stdout}"));
        assert!(line.trim_end().ends_with(" 0"), "{name} has no lag: {line}");
        assert!(!line.contains("stale"), "{line}");
    }
}
