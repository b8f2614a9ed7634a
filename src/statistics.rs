//! Statistics for tables that have rows but were never analysed: after a
//! restore (`pg_restore` writes none) or a bulk load, on a server whose
//! autovacuum is off or has not come round yet, the planner would guess, and
//! a plan made on a guess can scan a whole table per batch. Where autovacuum
//! is off, the server also analyses what changed, as autovacuum would.

use std::time::Duration;

use sqlx::PgPool;

/// Analyses every table of the schema that holds data and has no statistics.
/// Returns the tables analysed.
pub async fn analyse_unanalysed(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', n.nspname, c.relname)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()
            AND pg_relation_size(c.oid) > 0
            AND NOT EXISTS (SELECT 1 FROM pg_stats s
                             WHERE s.schemaname = n.nspname AND s.tablename = c.relname)",
    )
    .fetch_all(pool)
    .await?;
    for table in &tables {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(pool)
            .await?;
    }
    Ok(tables)
}

/// Analyses the tables of the schema that changed as much as autovacuum's
/// default analyse threshold (50 rows and a tenth of the table) since their
/// last analyse. Returns the tables analysed.
pub async fn analyse_changed(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables
          WHERE schemaname = current_schema()
            AND n_mod_since_analyze > 50 + 0.1 * n_live_tup",
    )
    .fetch_all(pool)
    .await?;
    for table in &tables {
        sqlx::query(&format!("ANALYZE {table}"))
            .execute(pool)
            .await?;
    }
    Ok(tables)
}

/// How often a server whose PostgreSQL runs without autovacuum looks for
/// tables that changed enough to be analysed again.
const ANALYSE_EVERY: Duration = Duration::from_secs(10);

/// In the background: `analyse_unanalysed` once at start; then, only where
/// autovacuum is off, `analyse_changed` every `ANALYSE_EVERY`. A statement a
/// connection prepared while a table was small keeps its plan until the table
/// is analysed again: without autovacuum, a plan fit for a hundred rows would
/// scan a million.
pub fn analyse_in_background(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        report(analyse_unanalysed(&pool).await, "had no statistics");
        let autovacuum: sqlx::Result<String> =
            sqlx::query_scalar("SHOW autovacuum").fetch_one(&pool).await;
        if !matches!(autovacuum.as_deref(), Ok("off")) {
            return;
        }
        let mut every = tokio::time::interval(ANALYSE_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            report(
                analyse_changed(&pool).await,
                "changed since their last analyse",
            );
        }
    })
}

fn report(analysed: sqlx::Result<Vec<String>>, why: &str) {
    match analysed {
        Ok(tables) if !tables.is_empty() => tracing::info!(?tables, "analysed tables that {why}"),
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "could not analyse tables that {why}"),
    }
}
