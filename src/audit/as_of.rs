//! Time travel: the read models as they stood at a past moment, folded from the log.
//!
//! `as_of` refers to the time the ledger recorded an event (`recorded_at`, the
//! database clock of the writing transaction), not the domain time `at` that
//! commands carry: that is what the ledger knew at that moment, it cannot be
//! set by a caller, and it is indexed by the log's own order. The state folds,
//! in global order, every event recorded at or before `as_of` in transactions
//! that are no longer running; it reflects the log up to the last of them.
//!
//! The folded rows go into temporary tables of the same name as the read
//! models, on a connection of its own (temporary tables shadow the live ones
//! there; a fresh connection has no statement planned against the live ones),
//! so the same queries answer for the past and for now.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sqlx::{ConnectOptions, PgConnection, PgPool};

use crate::ledger::{recorded_from_row, Position, RecordedEvent, RECORDED_COLUMNS};
use crate::projections::{self, Projection};

const PAGE: i64 = 20_000;

/// What part of the log a past state needs.
pub enum Scope<'a> {
    /// Every event: lists and the who-invited-whom graph.
    Everything,
    /// One aggregate's events only: a single invite.
    Aggregate {
        aggregate_type: &'a str,
        aggregate_id: &'a str,
    },
}

/// A connection whose read-model tables hold the state at `as_of`.
pub struct PastState {
    pub conn: PgConnection,
    /// The last event folded in; `None` if the log had nothing yet.
    pub position: Option<Position>,
}

impl PastState {
    pub async fn close(self) {
        let _ = sqlx::Connection::close(self.conn).await;
    }
}

pub async fn fold_until(
    pool: &PgPool,
    as_of: DateTime<Utc>,
    scope: Scope<'_>,
) -> anyhow::Result<PastState> {
    let mut conn = pool.connect_options().connect().await?;
    let live: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut conn)
        .await?;
    let all: Vec<Arc<dyn Projection>> = projections::all();
    let mut folds = Vec::new();
    for projection in &all {
        let table = projection.table();
        sqlx::Executor::execute(
            &mut conn,
            format!("CREATE TEMP TABLE {table} (LIKE {live}.{table} INCLUDING ALL)").as_str(),
        )
        .await?;
        folds.push(projection.fold());
    }
    let mut position = None;
    let mut after = Position::default();
    loop {
        let events = read_until(&mut conn, &scope, as_of, after).await?;
        let Some(last) = events.last().map(|e| e.position) else {
            break;
        };
        for event in &events {
            folds.iter_mut().for_each(|fold| fold.fold(event));
        }
        position = Some(last);
        after = last;
        if matches!(scope, Scope::Aggregate { .. }) {
            break;
        }
    }
    if let Scope::Aggregate { .. } = scope {
        // The answer reflects the whole log up to `as_of`, not one aggregate.
        position = last_position_until(&mut conn, as_of).await?;
    }
    for fold in &mut folds {
        fold.write(&mut conn).await?;
    }
    Ok(PastState { conn, position })
}

/// The next page of events recorded by `as_of`, in global order.
async fn read_until(
    conn: &mut PgConnection,
    scope: &Scope<'_>,
    as_of: DateTime<Utc>,
    after: Position,
) -> anyhow::Result<Vec<RecordedEvent>> {
    let rows = match scope {
        Scope::Everything => {
            sqlx::query(&format!(
                "SELECT {RECORDED_COLUMNS} FROM events
                  WHERE (transaction_id, global_position) > ($1::text::xid8, $2)
                    AND transaction_id < ledger_read_horizon()
                    AND recorded_at <= $3
                  ORDER BY transaction_id, global_position
                  LIMIT $4"
            ))
            .bind(after.xid.to_string())
            .bind(after.global)
            .bind(as_of)
            .bind(PAGE)
            .fetch_all(conn)
            .await?
        }
        // An aggregate's own order is its sequence; its key finds it at once.
        Scope::Aggregate {
            aggregate_type,
            aggregate_id,
        } => {
            sqlx::query(&format!(
                "SELECT {RECORDED_COLUMNS} FROM events
                  WHERE aggregate_type = $1 AND aggregate_id = $2
                    AND transaction_id < ledger_read_horizon()
                    AND recorded_at <= $3
                  ORDER BY sequence"
            ))
            .bind(aggregate_type)
            .bind(aggregate_id)
            .bind(as_of)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter().map(recorded_from_row).collect()
}

/// The last position, in global order, of an event recorded by `as_of`.
async fn last_position_until(
    conn: &mut PgConnection,
    as_of: DateTime<Utc>,
) -> sqlx::Result<Option<Position>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, global_position FROM events
          WHERE transaction_id < ledger_read_horizon()
            AND recorded_at <= $1
          ORDER BY transaction_id DESC, global_position DESC
          LIMIT 1",
    )
    .bind(as_of)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(xid, global)| Position { xid, global }))
}
