//! Statistics for tables that have rows but were never analysed: after a
//! restore (`pg_restore` writes none) or a bulk load, on a server whose
//! autovacuum is off or has not come round yet, the planner would guess, and
//! a plan made on a guess can scan a whole table per batch.

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

/// `analyse_unanalysed` in the background, once, at start.
pub fn analyse_in_background(pool: PgPool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        match analyse_unanalysed(&pool).await {
            Ok(tables) if !tables.is_empty() => {
                tracing::info!(?tables, "analysed tables that had no statistics")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "could not analyse tables without statistics"),
        }
    })
}
