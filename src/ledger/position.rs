use std::fmt;

/// A place in the global order: the writing transaction's id, then the event's
/// position. Ordered lexicographically, as readers consume the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub xid: i64,
    pub global: i64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.xid, self.global)
    }
}

impl std::str::FromStr for Position {
    type Err = String;

    /// Parses what `Display` writes: `xid/global`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a log position (expected `xid/position`)");
        let (xid, global) = s.split_once('/').ok_or_else(bad)?;
        Ok(Position {
            xid: xid.parse().map_err(|_| bad())?,
            global: global.parse().map_err(|_| bad())?,
        })
    }
}

impl Position {
    /// The full position of the event with this `global_position`, if any.
    pub async fn of_global(
        conn: &mut sqlx::PgConnection,
        global: i64,
    ) -> sqlx::Result<Option<Position>> {
        let xid: Option<i64> = sqlx::query_scalar(
            "SELECT transaction_id::text::bigint FROM events WHERE global_position = $1",
        )
        .bind(global)
        .fetch_optional(conn)
        .await?;
        Ok(xid.map(|xid| Position { xid, global }))
    }

    /// The position of the last event committed, if the log has any.
    pub async fn head(pool: &sqlx::PgPool) -> sqlx::Result<Option<Position>> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT transaction_id::text::bigint, global_position FROM events
              ORDER BY transaction_id DESC, global_position DESC LIMIT 1",
        )
        .fetch_optional(pool)
        .await?;
        Ok(row.map(|(xid, global)| Position { xid, global }))
    }

    /// Whether an event of this log stands at this position.
    pub async fn is_recorded(self, pool: &sqlx::PgPool) -> sqlx::Result<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events
                             WHERE transaction_id = $1::text::xid8 AND global_position = $2)",
        )
        .bind(self.xid.to_string())
        .bind(self.global)
        .fetch_one(pool)
        .await
    }
}
