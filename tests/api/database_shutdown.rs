//! A connection PostgreSQL ends under a request (a fast shutdown, an
//! administrator's `pg_terminate_backend`) is the database being out of
//! reach: `503 SERVICE_UNAVAILABLE` with `Retry-After`, not a 500.

use axum::response::IntoResponse;
use sqlx::{Connection, PgConnection};

use crate::helpers::TestDb;
use invite_ledger::error::ServiceError;
use invite_ledger::http::ApiError;

#[tokio::test]
async fn a_terminated_connection_answers_503() {
    let db = TestDb::new().await;
    let mut victim = PgConnection::connect(&db.url).await.unwrap();
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut victim)
        .await
        .unwrap();
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .unwrap();
    let error = sqlx::query("SELECT 1")
        .execute(&mut victim)
        .await
        .expect_err("the connection was ended");
    let response = ApiError::from(ServiceError::from(error)).into_response();
    assert_eq!(response.status(), 503, "{response:?}");
    assert!(response.headers().contains_key("retry-after"));
}
