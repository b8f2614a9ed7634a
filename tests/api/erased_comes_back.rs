//! A sign-up with an erased person's address is a new person: a new id, none
//! of the erased one's invites or roles, and erasing by that address again
//! reaches the new person.

use serde_json::json;

use crate::helpers::TestServer;

const RHEA_EMAIL: &str = "rhea.marchbanks@example.com";

#[tokio::test]
async fn signing_up_after_erasure_makes_a_new_person() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let rhea = server.user_with_role(RHEA_EMAIL, "admin").await;
    let first_id = rhea.user_id().await;
    let pending = rhea.create_invite(json!({ "role": "user" })).await;

    admin
        .post(&format!("/api/ledger/users/{first_id}/erase"), json!({}))
        .await
        .ok();

    let again = server.client();
    let second_id = again
        .sign_up(RHEA_EMAIL, "password2", "Rhea Again")
        .await
        .ok()["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(second_id, first_id, "the erased id came back");
    assert_eq!(
        again.role().await,
        "user",
        "the erased person's role came back"
    );
    let cancel = again.cancel(&pending).await;
    assert_ne!(cancel.status, 200, "the erased person's invite came back");
    assert!(
        server.client().invite_info(&pending).await.status == 200,
        "the invite is still pending"
    );

    let erased = admin
        .post(&format!("/api/ledger/users/{RHEA_EMAIL}/erase"), json!({}))
        .await
        .ok();
    assert_eq!(erased["userId"], second_id.as_str(), "{erased}");
    assert_eq!(erased["alreadyErased"], false, "{erased}");
}

/// An erased person's page says that they were erased, when and by whom,
/// rather than reading as a broken `[erased] [erased]`.
#[tokio::test]
async fn an_erased_person_shows_when_and_by_whom() {
    let server = TestServer::start().await;
    let admin = server.admin().await;
    let admin_id = admin.user_id().await;
    let rhea = server.user_with_role(RHEA_EMAIL, "user").await;
    let id = rhea.user_id().await;
    let before = admin.get(&format!("/api/ledger/users/{id}")).await.ok();
    assert!(before["erased"].is_null(), "{before}");
    admin
        .post(&format!("/api/ledger/users/{id}/erase"), json!({}))
        .await
        .ok();
    let after = admin.get(&format!("/api/ledger/users/{id}")).await.ok();
    assert_eq!(after["email"], "[erased]", "{after}");
    assert_eq!(after["erased"]["by"], admin_id.as_str(), "{after}");
    assert!(after["erased"]["at"].is_string(), "{after}");
    assert!(after["erased"]["position"].is_string(), "{after}");
}
