//! Appends under contention from two processes' worth of ledgers: `maxUses` holds
//! when the store's key, not the in-process turn, settles the race, and every
//! append reports the place its event really took in the global order.

use chrono::{Duration, TimeZone, Utc};
use futures::future::join_all;
use sqlx::PgPool;
use uuid::Uuid;

use crate::helpers::TestDb;
use invite_ledger::app;
use invite_ledger::domain::invite::{Actor, InviteCommand, InviteError, InviteTerms};
use invite_ledger::domain::roles::RolePolicy;
use invite_ledger::domain::token::TokenType;
use invite_ledger::ledger::{Guard, Ledger, LedgerError, Position};

fn actor(n: usize, role: &str) -> Actor {
    Actor {
        user_id: format!("user-{n}"),
        email: format!("user{n}@example.com"),
        name: format!("User {n}"),
        role: role.into(),
    }
}

fn roles() -> RolePolicy {
    RolePolicy::new(vec!["user".into(), "admin".into()], "user", "admin").unwrap()
}

async fn position_in_log(pool: &PgPool, id: &str, sequence: i64) -> Position {
    let (xid, global): (i64, i64) = sqlx::query_as(
        "SELECT transaction_id::text::bigint, global_position FROM events
          WHERE aggregate_type = 'invite' AND aggregate_id = $1 AND sequence = $2",
    )
    .bind(id)
    .bind(sequence)
    .fetch_one(pool)
    .await
    .unwrap();
    Position { xid, global }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_ledgers_racing_on_one_invite_never_exceed_max_uses() {
    let db = TestDb::new().await;
    let pool = app::connect(&db.url).await.unwrap();
    app::prepare(&pool).await.unwrap();
    // Two ledgers on one database: like two replicas, they share no turn.
    let ledgers = [
        Ledger::new(pool.clone(), roles()),
        Ledger::new(pool.clone(), roles()),
    ];
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    let id = "invite-under-contention";
    let terms = InviteTerms {
        invite_id: Uuid::new_v4(),
        token_type: TokenType::Token,
        role: "admin".into(),
        email: None,
        invitee_id: None,
        invitee_name: None,
        new_account: true,
        max_uses: 5,
        infinity_max_uses: false,
        expires_at: at + Duration::hours(1),
        redirect_to_sign_up: "/auth/sign-up".into(),
        redirect_to_sign_in: "/auth/sign-in".into(),
        redirect_to_after_upgrade: "/auth/invited".into(),
        share_inviter_name: true,
        sender_response_redirect: "signUp".into(),
        sealed_token: None,
        custom_invite_url: None,
    };
    let created = ledgers[0]
        .execute(
            id,
            InviteCommand::Create {
                terms,
                inviter: actor(0, "admin"),
                at,
            },
            &Guard::default(),
        )
        .await
        .unwrap()
        .expect("an event was written");
    assert_eq!(created, position_in_log(&pool, id, 1).await);

    let uses = (1..=30).map(|n| {
        let ledger = &ledgers[n % 2];
        async move {
            let command = InviteCommand::Use {
                user: actor(n, "user"),
                new_account: false,
                at,
            };
            ledger.execute(id, command, &Guard::default()).await
        }
    });
    let outcomes = join_all(uses).await;

    let mut positions = Vec::new();
    for outcome in outcomes {
        match outcome {
            Ok(Some(position)) => positions.push(position),
            Err(LedgerError::Domain(InviteError::UsedUp)) => {}
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(positions.len(), 5, "exactly maxUses uses were written");
    let mut in_log = Vec::new();
    for sequence in 2..=6 {
        in_log.push(position_in_log(&pool, id, sequence).await);
    }
    positions.sort();
    in_log.sort();
    assert_eq!(positions, in_log, "each append told where its event is");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 6, "one Created and five Used, nothing more");
    pool.close().await;
}
