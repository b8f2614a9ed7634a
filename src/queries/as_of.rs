//! Time travel: the read models as they stood at a past moment, read from their
//! history tables (every version of every row, with the time range in which it
//! held), so an answer costs what its rows cost, whatever the size of the log.
//!
//! `as_of` refers to the time the ledger recorded an event (`recorded_at`, the
//! database clock of the writing transaction), not the domain time `at` that
//! commands carry: that is what the ledger knew at that moment, it cannot be
//! set by a caller. Rows show it as `recordedAt`.
//!
//! Status that depends on the clock (an invite past its `expiresAt`) is worked
//! out for the moment asked, now or then.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::error::ServiceError;
use crate::ledger::Position;
use crate::projections::row::{Row, SqlValue};

/// Which state a query reads, and the moment whose clock decides expiry.
#[derive(Debug, Clone, Copy)]
pub enum At {
    /// The live read models, at this moment of the service's clock.
    Now(DateTime<Utc>),
    /// The versions that held at this recorded time.
    Past(DateTime<Utc>),
}

impl At {
    /// The past as of `asked`, taken to the end of its millisecond: answers
    /// show times to the millisecond, so an `as_of` copied from a `recordedAt`
    /// includes the event that shows it.
    pub fn past(asked: DateTime<Utc>) -> At {
        let millis = asked.timestamp_millis();
        let end = DateTime::from_timestamp_micros(millis * 1_000 + 999).unwrap_or(asked);
        At::Past(end.max(asked))
    }

    /// `At::past` of an `as_of` a caller sent: a time PostgreSQL can compare
    /// with (years 1 to 9999; it has no year 0), else `400 VALIDATION_ERROR`.
    pub fn asked(asked: DateTime<Utc>) -> Result<At, ServiceError> {
        use chrono::Datelike;
        if !(1..=9999).contains(&asked.year()) {
            return Err(ServiceError::bad_request(
                "VALIDATION_ERROR",
                "as_of must be a time between the years 1 and 9999",
            ));
        }
        Ok(At::past(asked))
    }

    pub fn moment(self) -> DateTime<Utc> {
        match self {
            At::Now(moment) | At::Past(moment) => moment,
        }
    }

    /// A table expression for `R`'s rows at this moment, named as its table, so
    /// one SQL text answers for now and for the past. A past one is a plain
    /// subquery that PostgreSQL folds into the query around it, so the history's
    /// indexes serve its filters and order.
    pub fn table<R: Row>(self) -> String {
        match self {
            At::Now(_) => R::TABLE.to_string(),
            At::Past(moment) => {
                let mut at = String::new();
                moment.write_text(&mut at);
                format!(
                    "(SELECT {columns} FROM {history}
                       WHERE valid_from <= '{at}'
                         AND (valid_to IS NULL OR valid_to > '{at}')) AS {table}",
                    columns = R::column_list(),
                    history = R::HISTORY,
                    table = R::TABLE,
                )
            }
        }
    }
}

/// The position of the last event the ledger recorded at or before `moment`:
/// what an answer as of that moment reflects.
pub async fn last_position_until(
    conn: &mut PgConnection,
    moment: DateTime<Utc>,
) -> sqlx::Result<Option<Position>> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT transaction_id::text::bigint, global_position FROM events
          WHERE recorded_at <= $1
          ORDER BY recorded_at DESC, global_position DESC
          LIMIT 1",
    )
    .bind(moment)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(xid, global)| Position { xid, global }))
}
