//! Invitation email through the email reactor: over real SMTP, with templates
//! from files, resent on request, and with no raw token in the ledger.

use std::sync::Arc;
use std::time::Duration;

use crate::helpers::invite_hash;
use crate::helpers::smtp_sink::{Received, SmtpSink};
use crate::helpers::TestServer;
use serde_json::json;

use invite_ledger::mailer::{Mailer, SmtpMailer};

async fn server_with_smtp(sink: &SmtpSink) -> TestServer {
    let mailer: Arc<dyn Mailer> = Arc::new(
        SmtpMailer::new(
            &sink.url(),
            "Invites <invites@example.com>",
            Duration::from_secs(5),
        )
        .unwrap(),
    );
    TestServer::start_with_mailer(&[], Some(mailer)).await
}

async fn only_email_to(sink: &SmtpSink, to: &str) -> Received {
    let received = sink
        .wait_until(10, |r| r.iter().any(|m| m.to == [to]))
        .await;
    let mine: Vec<_> = received.into_iter().filter(|m| m.to == [to]).collect();
    assert_eq!(mine.len(), 1, "one email to {to}");
    mine.into_iter().next().unwrap()
}

/// The text after `prefix` on its line.
fn line_after<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{text}"))
        .trim()
}

#[tokio::test]
async fn a_private_invite_arrives_over_smtp_with_a_working_link_and_code() {
    let sink = SmtpSink::start().await;
    let server = server_with_smtp(&sink).await;
    let admin = server.admin().await;
    let created = admin.invite_by_email("admin", "New@Example.com").await;
    assert_eq!(created["message"], "The invitation was sent");

    let received = only_email_to(&sink, "new@example.com").await;
    let message = received.message();
    assert_eq!(
        message.subject(),
        Some("You're invited to join our platform!")
    );
    assert_eq!(
        message.from().unwrap().first().unwrap().address(),
        Some("invites@example.com")
    );
    let text = message.body_text(0).unwrap().to_string();
    assert!(
        text.contains("Ada Admin invited you to create an account."),
        "{text}"
    );
    assert_eq!(line_after(&text, "Role:"), "admin");
    let url = line_after(&text, "Accept:").to_string();
    let code = line_after(&text, "Or use this code:").to_string();
    assert_eq!(
        url,
        format!("http://localhost:3000/api/auth/invite/{code}?callbackURL=%2Fauth%2Fsign-up")
    );
    let html = message.body_html(0).unwrap().replace("&#x2f;", "/");
    assert!(
        html.contains(&format!("<a href=\"{url}\">Click here to accept</a>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("Or use this code: {code}")),
        "{html}"
    );

    // The link in the email works: it activates, then the newcomer signs up.
    let visitor = server.client();
    let link = visitor
        .get(url.strip_prefix("http://localhost:3000").unwrap())
        .await;
    assert_eq!(link.status, 303, "{}", link.body);
    assert_eq!(link.location(), "/auth/sign-up");
    let signed_up = visitor
        .sign_up("new@example.com", "password1", "Newcomer")
        .await
        .ok();
    assert_eq!(signed_up["user"]["role"], "admin");
    assert_eq!(signed_up["invite"]["used"], true);
}

#[tokio::test]
async fn a_role_upgrade_email_leads_to_sign_in_and_hides_an_unshared_inviter() {
    let sink = SmtpSink::start().await;
    let server = server_with_smtp(&sink).await;
    server.user_with_role("bob@example.com", "user").await;
    let admin = server.admin().await;
    admin
        .post(
            "/api/auth/invite/create",
            json!({ "role": "admin", "email": "bob@example.com", "shareInviterName": false }),
        )
        .await
        .ok();
    let received = only_email_to(&sink, "bob@example.com").await;
    let message = received.message();
    assert_eq!(message.subject(), Some("Role upgrade invitation"));
    let text = message.body_text(0).unwrap().to_string();
    assert!(
        text.contains("Someone invited you to upgrade your role."),
        "{text}"
    );
    assert!(!text.contains("Ada"), "{text}");
    assert!(
        line_after(&text, "Accept:").ends_with("?callbackURL=%2Fauth%2Fsign-in"),
        "{text}"
    );
}

#[tokio::test]
async fn template_files_replace_the_built_in_templates() {
    let dir = std::env::temp_dir().join(format!("invite-ledger-tpl-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("invitation.subject.txt"),
        "Join Acme as {{ role }}",
    )
    .unwrap();
    std::fs::write(
        dir.join("invitation.txt"),
        "{{ inviter_name }} asks you to join: {{ url }}",
    )
    .unwrap();
    let server = TestServer::start_with(&["--mail-template-dir", dir.to_str().unwrap()]).await;
    let admin = server.admin().await;
    admin.invite_by_email("admin", "t@example.com").await;
    let email = server.mailer.last_to("t@example.com").await;
    assert_eq!(email.subject(), "Join Acme as admin");
    assert_eq!(
        email.text().trim(),
        format!("Ada Admin asks you to join: {}", email.url)
    );
    assert!(
        email.html().contains("Click here to accept"),
        "the HTML stays built in"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn resend_sends_the_same_invitation_again_and_is_recorded() {
    let server = TestServer::start_with(&["--roles", "user,member,admin"]).await;
    let admin = server.admin().await;
    admin.invite_by_email("member", "r@example.com").await;
    let first = server.mailer.last_to("r@example.com").await;
    server.read_models_caught_up().await;
    let view_before: (String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT status, updated_at FROM invite")
            .fetch_one(server.pool().await)
            .await
            .unwrap();

    let resent = admin
        .post("/api/auth/invite/resend", json!({ "token": first.token }))
        .await
        .ok();
    assert_eq!(resent["status"], true);
    let both = server.mailer.wait_for("r@example.com", 2).await;
    assert_eq!(both.len(), 2);
    assert_eq!(both[1], first, "the same email, same token and link");

    let resent_by: Vec<String> = sqlx::query_scalar(
        "SELECT payload->'Resent'->>'by_user_id' FROM events WHERE event_type = 'Resent'",
    )
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    let admin_id = admin.session().await["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(resent_by, vec![admin_id]);
    server.read_models_caught_up().await;
    let view_after: (String, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT status, updated_at FROM invite")
            .fetch_one(server.pool().await)
            .await
            .unwrap();
    assert_eq!(view_after, view_before, "the invite view ignores a resend");

    // Neither the invitee, a stranger nor anyone signed out may resend.
    let member = server.user_with_role("m@example.com", "member").await;
    member
        .post("/api/auth/invite/resend", json!({ "token": first.token }))
        .await
        .err(403, "NOT_ALLOWED_TO_RESEND");
    server
        .client()
        .post("/api/auth/invite/resend", json!({ "token": first.token }))
        .await
        .err(401, "UNAUTHORIZED");
    admin
        .post(
            "/api/auth/invite/resend",
            json!({ "token": "no-such-token" }),
        )
        .await
        .err(400, "INVALID_TOKEN");
    admin
        .post("/api/auth/invite/resend", json!({}))
        .await
        .err(400, "VALIDATION_ERROR");
    let public = admin.create_invite(json!({ "role": "member" })).await;
    admin
        .post("/api/auth/invite/resend", json!({ "token": public }))
        .await
        .refused_because(400, "CANT_REJECT_INVITE", "NOT_A_PRIVATE_INVITE");
    admin
        .post("/api/auth/invite/cancel", json!({ "token": first.token }))
        .await
        .ok();
    admin
        .post("/api/auth/invite/resend", json!({ "token": first.token }))
        .await
        .refused_because(400, "INVALID_TOKEN", "INVITE_CANCELLED");
    assert_eq!(server.mailer.wait_for("r@example.com", 2).await.len(), 2);
}

#[tokio::test]
async fn the_ledger_keeps_a_sealed_token_never_the_token() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    admin.invite_by_email("admin", "s@example.com").await;
    let token = server.mailer.last_to("s@example.com").await.token;
    let (id, payload): (String, String) = sqlx::query_as(
        "SELECT aggregate_id, payload::text FROM events WHERE event_type = 'Created'",
    )
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(id, invite_hash(&token));
    assert!(!payload.contains(&token), "{payload}");
    let event: serde_json::Value = serde_json::from_str(&payload).unwrap();
    let sealed = event["Created"]["terms"]["sealed_token"].as_str().unwrap();
    assert!(sealed.starts_with("v1."), "{payload}");
    let anywhere: i64 = sqlx::query_scalar(
        "SELECT (SELECT count(*) FROM reactor_delivery WHERE payload::text LIKE '%' || $1 || '%')
              + (SELECT count(*) FROM reactor_attempt WHERE error LIKE '%' || $1 || '%')",
    )
    .bind(&token)
    .fetch_one(server.pool().await)
    .await
    .unwrap();
    assert_eq!(anywhere, 0);
}
