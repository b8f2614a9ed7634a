//! Where an audit answer reads from: the live read models (on the standby when
//! it has replayed what the caller has seen), or their history as of a past
//! moment; and which log position the answer reflects.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;
use utoipa::ToSchema;

use super::as_of::{self, At};
use super::standby;
use crate::context::Context;
use crate::error::ServiceError;
use crate::ledger::Position;

/// How long an `as_of` answer waits for the read models to have applied every
/// event recorded by its moment.
const AS_OF_WAIT: Duration = Duration::from_secs(5);

/// Which moment of the log an answer reflects.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reflects {
    /// The `as_of` asked for; absent for the current state.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::json_time::option::serialize"
    )]
    pub as_of: Option<DateTime<Utc>>,
    /// The last log position the answer includes (`transaction/position`);
    /// `null` when the log held nothing yet.
    pub position: Option<String>,
}

/// A connection to read from, the moment it reads at, and the position it reflects.
pub struct Source {
    conn: sqlx::pool::PoolConnection<sqlx::Postgres>,
    pub at: At,
    position: Option<Position>,
}

impl Source {
    /// `seen`: the position the caller has seen (`Ledger-Position`): a read
    /// goes to the standby (`DATABASE_READ_URL`) only once it has replayed
    /// that far, and a read as of a past moment only once it has replayed the
    /// moment's last event too; else to the primary.
    pub async fn open(
        context: &Context,
        seen: Option<Position>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Source, ServiceError> {
        Ok(match as_of {
            None => {
                let (mut conn, on_standby) = standby::connection(context, seen).await?;
                // The read models have applied at least the slowest one's checkpoint.
                let position = if on_standby {
                    let (names, _): (Vec<String>, Vec<_>) =
                        context.progress.checkpoints().into_iter().unzip();
                    standby::applied(&mut conn, &names).await?
                } else {
                    context
                        .progress
                        .checkpoints()
                        .into_iter()
                        .map(|(_, p)| p)
                        .min()
                };
                Source {
                    conn,
                    at: At::Now(context.clock.now()),
                    position,
                }
            }
            Some(asked) => {
                let at = At::asked(asked)?;
                // No connection is held while the read models catch up.
                let position = {
                    let mut conn = context.pool.acquire().await?;
                    as_of::last_position_until(&mut conn, at.moment()).await?
                };
                if let Some(position) = position {
                    if !context.progress.wait_for(position, &[], AS_OF_WAIT).await {
                        return Err(ServiceError::Busy);
                    }
                }
                let (conn, _) = standby::connection(context, position.max(seen)).await?;
                Source { conn, at, position }
            }
        })
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// The connection itself, for an export that streams from it.
    pub fn into_conn(self) -> sqlx::pool::PoolConnection<sqlx::Postgres> {
        self.conn
    }

    pub fn reflects(&self) -> Reflects {
        Reflects {
            as_of: match self.at {
                At::Now(_) => None,
                At::Past(moment) => Some(moment),
            },
            position: self
                .position
                .filter(|p| *p != Position::default())
                .map(|p| p.to_string()),
        }
    }
}
