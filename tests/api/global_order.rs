//! The catch-up reader follows (transaction id, position) below the oldest running
//! transaction: an event committed late by a slow writer is never skipped.

use crate::helpers::TestServer;
use chrono::Utc;
use invite_ledger::domain::user::{user_id_for_email, UserCommand, UserEvent};
use invite_ledger::ledger::{read_batch, Guard, LedgerEvent, Position};
use sqlx::{Acquire, Connection};

fn registered(email: &str) -> serde_json::Value {
    serde_json::to_value(UserEvent::Registered {
        email: email.into(),
        name: "Slow".into(),
        role: "user".into(),
        email_verified: false,
        at: Utc::now(),
    })
    .unwrap()
}

/// Registers `email` through the ledger; returns the event's position.
async fn register(server: &TestServer, email: &str) -> Position {
    server
        .app
        .ledger
        .execute(
            &user_id_for_email(email),
            UserCommand::Register {
                email: email.into(),
                name: "Writer".into(),
                role: "user".into(),
                email_verified: false,
                at: Utc::now(),
            },
            &Guard::default(),
        )
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_is_read_before_later_transactions_and_never_skipped() {
    let server = TestServer::start().await;
    let pool = server.pool().await.clone();

    // A slow writer takes the lower position and stays open.
    let mut slow_conn = pool.acquire().await.unwrap();
    let mut slow = slow_conn.begin().await.unwrap();
    let slow_id = user_id_for_email("slow@example.com");
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('user', $1, 1, 'Registered', '1', $2, '{}')",
    )
    .bind(&slow_id)
    .bind(registered("slow@example.com"))
    .execute(&mut *slow)
    .await
    .unwrap();

    // A fast writer commits after it, with a higher position.
    let fast_id = user_id_for_email("fast@example.com");
    let fast_position = register(&server, "fast@example.com").await;

    // While the slow writer is open, nothing after it may be read.
    let mut reader = pool.acquire().await.unwrap();
    let start = Position::default();
    let visible = read_batch(&mut reader, start, 100).await.unwrap();
    assert!(
        visible.iter().all(|e| e.aggregate_id != fast_id),
        "the fast event must wait for the slow transaction"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let fast_projected: i64 = sqlx::query_scalar("SELECT count(*) FROM user_account WHERE id = $1")
        .bind(&fast_id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        fast_projected, 0,
        "the runner must not pass the open transaction"
    );

    slow.commit().await.unwrap();

    let all = read_batch(&mut reader, start, 100).await.unwrap();
    let order: Vec<&str> = all
        .iter()
        .filter(|e| e.aggregate_id == slow_id || e.aggregate_id == fast_id)
        .map(|e| {
            if e.aggregate_id == slow_id {
                "slow"
            } else {
                "fast"
            }
        })
        .collect();
    assert_eq!(
        order,
        ["slow", "fast"],
        "transaction order, not position order"
    );
    assert!(matches!(all[0].event, LedgerEvent::User(_)));

    assert!(
        server
            .app
            .progress
            .wait_for(fast_position, &[], std::time::Duration::from_secs(10))
            .await
    );
    let projected: i64 = sqlx::query_scalar("SELECT count(*) FROM user_account WHERE id = ANY($1)")
        .bind(vec![slow_id, fast_id])
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        projected, 2,
        "both events reach the read model: none skipped"
    );
}

#[tokio::test]
async fn the_event_log_is_append_only() {
    let server = TestServer::start().await;
    let update = sqlx::query("UPDATE events SET payload = '{}'")
        .execute(server.pool().await)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events")
        .execute(server.pool().await)
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn each_event_records_its_transaction_and_time() {
    let server = TestServer::start().await;
    let rows: Vec<(i64, i64, bool)> = sqlx::query_as(
        "SELECT global_position, transaction_id::text::bigint, recorded_at IS NOT NULL FROM events",
    )
    .fetch_all(server.pool().await)
    .await
    .unwrap();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|(p, x, t)| *p > 0 && *x > 0 && *t));
}

/// A write transaction left open in another database on the same server must not
/// hold this ledger's readers back (its transaction ids share the server's counter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_transaction_in_another_database_does_not_stall_readers() {
    let server = TestServer::start().await;
    let other = crate::helpers::TestDb::new().await;
    let mut foreign = sqlx::PgConnection::connect(&other.url).await.unwrap();
    let mut open = Acquire::begin(&mut foreign).await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *open)
        .await
        .unwrap();

    let position = register(&server, "after@example.com").await;

    let mut reader = server.pool_now().acquire().await.unwrap();
    let visible = read_batch(&mut reader, Position::default(), 100)
        .await
        .unwrap();
    assert!(
        visible.iter().any(|e| e.position == position),
        "an event committed here is readable while another database's transaction is open"
    );
    assert!(
        server
            .app
            .progress
            .wait_for(position, &[], std::time::Duration::from_secs(5))
            .await,
        "the read models catch up while another database's transaction is open"
    );
    open.rollback().await.unwrap();
}
