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
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{ConnectOptions, PgConnection, PgPool};
use tokio::sync::{Semaphore, SemaphorePermit};

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
    /// Held until the state is dropped: one of the `FOLDS_AT_ONCE` turns.
    turn: Option<SemaphorePermit<'static>>,
}

impl PastState {
    pub async fn close(self) {
        let _ = sqlx::Connection::close(self.conn).await;
    }
}

/// Past states folded at once, each on a connection of its own: a crowd of
/// `as_of` requests must not take a shared PostgreSQL's connections or the
/// server's memory.
const FOLDS_AT_ONCE: usize = 4;
static FOLDS: Semaphore = Semaphore::const_new(FOLDS_AT_ONCE);
/// How long a request waits for a turn before it is told to come back.
const TURN_WAIT: Duration = Duration::from_secs(2);
/// A fold that runs longer than this is stopped by PostgreSQL.
const STATEMENT_TIMEOUT_MS: &str = "30000";

/// Every fold's turn is taken: answer 503 and let the caller come back.
#[derive(Debug, thiserror::Error)]
#[error("too many past states are being folded; try again shortly")]
pub struct Saturated;

/// The read models as they stood at `as_of` (see the module's comment), or
/// `Saturated` when `FOLDS_AT_ONCE` folds are running and none ends within
/// `TURN_WAIT`.
pub async fn fold_until(
    pool: &PgPool,
    as_of: DateTime<Utc>,
    scope: Scope<'_>,
) -> anyhow::Result<PastState> {
    let turn = tokio::time::timeout(TURN_WAIT, FOLDS.acquire())
        .await
        .map_err(|_| Saturated)?
        .expect("the semaphore is never closed");
    let mut state = fold_in_turn(pool, as_of, scope).await?;
    state.turn = Some(turn);
    Ok(state)
}

async fn fold_in_turn(
    pool: &PgPool,
    as_of: DateTime<Utc>,
    scope: Scope<'_>,
) -> anyhow::Result<PastState> {
    let mut conn = (*pool.connect_options())
        .clone()
        .options([("statement_timeout", STATEMENT_TIMEOUT_MS)])
        .connect()
        .await?;
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
        folds.push(projection.fold(projections::ROWS_IN_MEMORY));
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
        for fold in &mut folds {
            fold.take_spilled().send(&mut conn).await?;
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
    for (fold, projection) in folds.iter_mut().zip(&all) {
        fold.write(&mut conn).await?;
        projections::apply_deferred(&mut conn, &**projection, &fold.take_deferred()).await?;
    }
    Ok(PastState {
        conn,
        position,
        turn: None,
    })
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
