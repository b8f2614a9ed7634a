//! A read model whose rows are gone while its checkpoint says it applied the
//! log (a restore of a dump without read-model rows, `projections rebuild`
//! skipped) would be served as an empty ledger: no invites, no admin to sign
//! in. `serve` refuses to start on one, naming the command that fixes it.

use sqlx::PgPool;

/// Each read model, and an event type that always leaves a row in it.
const WITNESSES: [(&str, &str); 3] = [
    ("invite", "Created"),
    ("invite_use", "Used"),
    ("user_account", "Registered"),
];

/// Refuses when a read model is empty although its checkpoint is past an
/// event that leaves a row in it.
pub async fn refuse_emptied(pool: &PgPool) -> anyhow::Result<()> {
    let mut emptied = Vec::new();
    for (table, event_type) in WITNESSES {
        // The table name is one of ours, above: no caller text reaches the SQL.
        let sql = format!(
            "SELECT NOT EXISTS (SELECT 1 FROM {table})
                AND EXISTS (SELECT 1 FROM events e, projection_checkpoint c
                             WHERE c.name = $1 AND e.event_type = $2
                               AND (e.transaction_id, e.global_position)
                                   <= (c.last_xid, c.last_position))"
        );
        let empty_behind: bool = sqlx::query_scalar(&sql)
            .bind(table)
            .bind(event_type)
            .fetch_one(pool)
            .await?;
        if empty_behind {
            emptied.push(table);
        }
    }
    anyhow::ensure!(
        emptied.is_empty(),
        "the read models {} are empty but their checkpoints say they applied the log (a \
         restore without their rows?): run `invite-ledger projections rebuild` with this \
         DATABASE_URL, then serve",
        emptied.join(", ")
    );
    Ok(())
}
