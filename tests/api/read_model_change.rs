//! Changing a read model is editing its SQL and its one fold: a server started
//! with the new version rebuilds the table from the log beside the old one,
//! keeps serving the old one meanwhile, and swaps the new one in, events
//! appended during the rebuild included. The fixture read model here tallies
//! invites per inviter; its second version adds a column.

use std::sync::Arc;

use crate::helpers::{config, CapturingMailer, TestServer};
use invite_ledger::app::App;
use invite_ledger::domain::invite::InviteEvent;
use invite_ledger::ledger::{LedgerEvent, RecordedEvent};
use invite_ledger::projections::model::{Key, Model, ReadModel, Rows};
use invite_ledger::projections::{self, Projection};
use invite_ledger::read_model_row;
use serde_json::json;

/// Version 1: invites created per inviter.
mod v1 {
    use super::*;

    read_model_row! {
        pub struct Tally in "inviter_tally" keyed by inviter_id: String {
            pub inviter_id: String,
            pub invites: i32,
        }
    }

    pub struct InviterTally;

    impl ReadModel for InviterTally {
        type Row = Tally;
        const NAME: &'static str = "inviter_tally";
        const SCHEMA: &'static str = "CREATE TABLE inviter_tally
            (inviter_id text PRIMARY KEY, invites integer NOT NULL);
            CREATE TABLE inviter_tally_history (LIKE inviter_tally,
                valid_from timestamptz NOT NULL, valid_from_position bigint NOT NULL,
                valid_to timestamptz, valid_to_position bigint);";

        fn keys(event: &RecordedEvent) -> Vec<Key<Self>> {
            match &event.event {
                LedgerEvent::Invite(InviteEvent::Created { inviter_id, .. }) => {
                    vec![inviter_id.clone()]
                }
                _ => vec![],
            }
        }

        fn evolve(rows: &mut Rows<Tally>, event: &RecordedEvent) {
            if let LedgerEvent::Invite(InviteEvent::Created { inviter_id, .. }) = &event.event {
                match rows.get_mut(inviter_id) {
                    Some(row) => row.invites += 1,
                    None => rows.insert(Tally {
                        inviter_id: inviter_id.clone(),
                        invites: 1,
                    }),
                }
            }
        }
    }
}

/// Version 2: the same, and a column for the uses of those invites.
mod v2 {
    use super::*;

    read_model_row! {
        pub struct Tally in "inviter_tally" keyed by inviter_id: String {
            pub inviter_id: String,
            pub invites: i32,
            pub uses: i32,
        }
    }

    pub struct InviterTally;

    impl ReadModel for InviterTally {
        type Row = Tally;
        const NAME: &'static str = "inviter_tally";
        const SCHEMA: &'static str = "CREATE TABLE inviter_tally
            (inviter_id text PRIMARY KEY, invites integer NOT NULL, uses integer NOT NULL);
            CREATE TABLE inviter_tally_history (LIKE inviter_tally,
                valid_from timestamptz NOT NULL, valid_from_position bigint NOT NULL,
                valid_to timestamptz, valid_to_position bigint);";

        fn keys(event: &RecordedEvent) -> Vec<Key<Self>> {
            match &event.event {
                LedgerEvent::Invite(InviteEvent::Created { inviter_id, .. })
                | LedgerEvent::Invite(InviteEvent::Used { inviter_id, .. }) => {
                    vec![inviter_id.clone()]
                }
                _ => vec![],
            }
        }

        fn evolve(rows: &mut Rows<Tally>, event: &RecordedEvent) {
            match &event.event {
                LedgerEvent::Invite(InviteEvent::Created { inviter_id, .. }) => {
                    match rows.get_mut(inviter_id) {
                        Some(row) => row.invites += 1,
                        None => rows.insert(Tally {
                            inviter_id: inviter_id.clone(),
                            invites: 1,
                            uses: 0,
                        }),
                    }
                }
                LedgerEvent::Invite(InviteEvent::Used { inviter_id, .. }) => {
                    if let Some(row) = rows.get_mut(inviter_id) {
                        row.uses += 1;
                    }
                }
                _ => {}
            }
        }
    }
}

/// A replica of the server whose read models are the service's and one more;
/// it stops when dropped, as a restarted process would.
struct Replica(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Replica {
    fn drop(&mut self) {
        self.0.iter().for_each(|task| task.abort());
    }
}

async fn replica_with(server: &TestServer, extra: Arc<dyn Projection>) -> Replica {
    let mut read_models = projections::all();
    read_models.push(extra);
    let settings = config(&server.db, &[]).settings().unwrap();
    let (_app, tasks) = App::start_with(
        settings,
        server.clock.clone(),
        Arc::new(CapturingMailer::default()),
        read_models,
    )
    .await
    .expect("replica starts");
    Replica(tasks)
}

async fn tallies(server: &TestServer, columns: &str) -> Vec<(String, Vec<i32>)> {
    let rows: Vec<(String, serde_json::Value)> = sqlx::query_as(&format!(
        "SELECT inviter_id, json_build_array({columns}) FROM inviter_tally ORDER BY 1"
    ))
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    rows.into_iter()
        .map(|(id, values)| (id, serde_json::from_value(values).unwrap()))
        .collect()
}

async fn stored_version(server: &TestServer) -> Option<String> {
    sqlx::query_scalar("SELECT version FROM projection_checkpoint WHERE name = 'inviter_tally'")
        .fetch_optional(server.pool().await)
        .await
        .unwrap()
}

/// Creates `invites` invites as the admin and uses the first `used` of them.
async fn invite_and_use(server: &TestServer, invites: usize, used: usize, tag: &str) {
    let admin = server.admin().await;
    for i in 0..invites {
        let token = admin.create_invite(json!({ "role": "user" })).await;
        if i < used {
            let visitor = server.client();
            visitor.activate(&token).await.ok();
            visitor
                .sign_up(&format!("{tag}{i}@example.com"), "password1", "Visitor")
                .await
                .ok();
        }
    }
}

#[tokio::test]
async fn a_column_added_to_a_read_model_is_rebuilt_from_the_log_while_serving() {
    let server = TestServer::start().await;
    let admin_id = server.admin().await.user_id().await;
    invite_and_use(&server, 4, 2, "before").await;

    // Version 1 appears: a new read model catches up from the start of the log.
    let first = replica_with(&server, Arc::new(Model::<v1::InviterTally>::new())).await;
    let counted = crate::helpers::eventually(
        20,
        || tallies(&server, "invites"),
        |rows| rows == &vec![(admin_id.clone(), vec![4])],
    )
    .await;
    assert_eq!(counted, vec![(admin_id.clone(), vec![4])]);
    let v1_version = stored_version(&server).await;
    drop(first);

    // Version 2 replaces it: rebuilt from the log in the background.
    let v2_model: Arc<dyn Projection> = Arc::new(Model::<v2::InviterTally>::new());
    let v2_version = v2_model.version();
    assert_ne!(v1_version.as_deref(), Some(v2_version.as_str()));
    let _second = replica_with(&server, v2_model).await;
    // Writes go on meanwhile, and the old table answers until the swap.
    invite_and_use(&server, 3, 1, "during").await;
    let swapped = crate::helpers::eventually(
        30,
        || stored_version(&server),
        |version| version.as_deref() == Some(v2_version.as_str()),
    )
    .await;
    assert_eq!(swapped.as_deref(), Some(v2_version.as_str()));

    let expected = vec![(admin_id.clone(), vec![7, 3])];
    let rebuilt = crate::helpers::eventually(
        20,
        || tallies(&server, "invites, uses"),
        |rows| rows == &expected,
    )
    .await;
    assert_eq!(rebuilt, expected, "the new column holds the whole log");

    // And it stays current with what is appended next.
    invite_and_use(&server, 1, 1, "after").await;
    let expected = vec![(admin_id, vec![8, 4])];
    let current = crate::helpers::eventually(
        20,
        || tallies(&server, "invites, uses"),
        |rows| rows == &expected,
    )
    .await;
    assert_eq!(current, expected);
}
