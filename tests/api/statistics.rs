//! Without autovacuum (as on this machine's PostgreSQL), a table that grew is
//! analysed by the server itself, so statements it prepared while the table was
//! small are planned again for its size.

use std::time::{Duration, Instant};

use crate::helpers::TestDb;
use invite_ledger::statistics::analyse_changed;

#[tokio::test]
async fn a_table_that_changed_past_the_threshold_is_analysed_and_one_that_did_not_is_not() {
    let db = TestDb::new().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE grown (id int PRIMARY KEY); CREATE TABLE still (id int PRIMARY KEY);
         INSERT INTO grown SELECT generate_series(1, 1000); INSERT INTO still VALUES (1);",
    )
    .execute(&pool)
    .await
    .unwrap();
    // The statistics of a change reach pg_stat_user_tables within a second or so.
    let deadline = Instant::now() + Duration::from_secs(15);
    let analysed = loop {
        let analysed = analyse_changed(&pool).await.unwrap();
        if !analysed.is_empty() || Instant::now() > deadline {
            break analysed;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(analysed, vec!["public.grown".to_string()]);
    let with_statistics: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT tablename::text FROM pg_stats WHERE schemaname = 'public'
            AND tablename IN ('grown', 'still') ORDER BY 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(with_statistics, vec!["grown".to_string()]);
    // Analysed, it is not analysed again until it changes again.
    assert!(analyse_changed(&pool).await.unwrap().is_empty());
    pool.close().await;
}
