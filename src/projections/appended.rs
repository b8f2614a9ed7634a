//! The rows one append makes, folded from its own events: a command that
//! starts an invite or an account answers with its row at once, without
//! waiting for the read model to apply the event.

use std::sync::LazyLock;

use sqlx::PgPool;

use super::model::{ReadModel, Rows};
use crate::ledger::{decode_rows, Position, RECORDED_COLUMNS};

/// `M`'s rows as the events of the append at `position` (one transaction)
/// leave them, folded from nothing: exact for the rows that append creates.
pub async fn rows_made<M: ReadModel>(
    pool: &PgPool,
    position: Position,
) -> anyhow::Result<Vec<M::Row>> {
    rows_after::<M>(pool, position, Vec::new()).await
}

/// `rows`, as the events of the append at `position` leave them: exact when
/// `rows` are as they stood right before that append.
pub async fn rows_after<M: ReadModel>(
    pool: &PgPool,
    position: Position,
    rows: Vec<M::Row>,
) -> anyhow::Result<Vec<M::Row>> {
    static OF_TRANSACTION: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT {RECORDED_COLUMNS} FROM events
              WHERE transaction_id = $1::text::xid8 ORDER BY global_position"
        )
    });
    let mut conn = pool.acquire().await?;
    let found = sqlx::query(&OF_TRANSACTION)
        .bind(position.xid.to_string())
        .fetch_all(&mut *conn)
        .await?;
    let events = decode_rows(&mut conn, &found).await?;
    let mut folded = Rows::<M::Row>::new(false);
    for row in rows {
        folded.insert(row);
    }
    for event in &events {
        M::evolve(&mut folded, event);
    }
    Ok(folded.into_rows())
}
