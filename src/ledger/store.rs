use std::sync::Arc;
use std::time::Duration;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventStore};
use postgres_es::PostgresEventRepository;
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::Notify;

use super::Position;
use crate::domain::invite::Invite;
use crate::domain::roles::RolePolicy;
use crate::domain::user::User;

/// Two writers racing for an aggregate's next sequence: one wins, the other
/// reloads and decides again. Enough rounds for a crowd on one public invite.
const MAX_ATTEMPTS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError<E: std::error::Error> {
    #[error(transparent)]
    Domain(E),
    #[error("too many concurrent writers on one aggregate; try again")]
    Contended,
    #[error("event store: {0}")]
    Store(String),
}

type Store<A> = PersistedEventStore<PostgresEventRepository, A>;

/// Appends commands' events and tells where they landed in the global order.
#[derive(Clone)]
pub struct Ledger {
    pool: PgPool,
    invites: Arc<Store<Invite>>,
    users: Arc<Store<User>>,
    roles: Arc<RolePolicy>,
    appended: Arc<Notify>,
}

impl Ledger {
    pub fn new(pool: PgPool, roles: RolePolicy) -> Self {
        Self {
            invites: Arc::new(store_on(&pool)),
            users: Arc::new(store_on(&pool)),
            pool,
            roles: Arc::new(roles),
            appended: Arc::new(Notify::new()),
        }
    }

    pub fn roles(&self) -> &RolePolicy {
        &self.roles
    }

    /// Woken after every local append, so projection runners start at once.
    pub fn appended(&self) -> Arc<Notify> {
        self.appended.clone()
    }

    pub async fn execute_invite(
        &self,
        id: &str,
        command: <Invite as Aggregate>::Command,
    ) -> Result<Option<Position>, LedgerError<<Invite as Aggregate>::Error>> {
        self.execute(&self.invites, id, command).await
    }

    pub async fn execute_user(
        &self,
        id: &str,
        command: <User as Aggregate>::Command,
    ) -> Result<Option<Position>, LedgerError<<User as Aggregate>::Error>> {
        self.execute(&self.users, id, command).await
    }

    pub async fn load_invite(
        &self,
        id: &str,
    ) -> Result<Invite, LedgerError<<Invite as Aggregate>::Error>> {
        let mut context = self.invites.load_aggregate(id).await.map_err(store_error)?;
        Ok(context.aggregate().clone())
    }

    /// Loads, decides and appends; on a lost race, does it all again on fresh
    /// state. Returns the position of the last event written, if any.
    async fn execute<A>(
        &self,
        store: &Store<A>,
        id: &str,
        command: A::Command,
    ) -> Result<Option<Position>, LedgerError<A::Error>>
    where
        A: Aggregate<Services = RolePolicy>,
        A::Command: Clone,
    {
        for attempt in 0..MAX_ATTEMPTS {
            let mut context = store.load_aggregate(id).await.map_err(store_error)?;
            let sink = Default::default();
            context
                .aggregate()
                .handle(command.clone(), &self.roles, &sink)
                .await
                .map_err(LedgerError::Domain)?;
            let events = sink.collect().await;
            if events.is_empty() {
                return Ok(None);
            }
            match store.commit(events, context, Default::default()).await {
                Ok(committed) => {
                    self.appended.notify_waiters();
                    let last = committed.last().expect("events were written");
                    return self.position_of(A::TYPE, id, last.sequence).await.map(Some);
                }
                Err(AggregateError::AggregateConflict) => {
                    let jitter = rand::thread_rng().gen_range(0..=(2 + attempt as u64 * 2));
                    tokio::time::sleep(Duration::from_millis(jitter)).await;
                }
                Err(other) => return Err(store_error(other)),
            }
        }
        Err(LedgerError::Contended)
    }

    async fn position_of<E: std::error::Error>(
        &self,
        aggregate_type: &str,
        id: &str,
        sequence: usize,
    ) -> Result<Position, LedgerError<E>> {
        let (xid, global): (i64, i64) = sqlx::query_as(
            "SELECT transaction_id::text::bigint, global_position FROM events
              WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence = $3",
        )
        .bind(aggregate_type)
        .bind(id)
        .bind(sequence as i64)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| LedgerError::Store(e.to_string()))?;
        Ok(Position { xid, global })
    }
}

fn store_on<A: Aggregate>(pool: &PgPool) -> Store<A> {
    PersistedEventStore::new_event_store(PostgresEventRepository::new(pool.clone()))
}

fn store_error<E: std::error::Error>(error: AggregateError<E>) -> LedgerError<E> {
    match error {
        AggregateError::UserError(e) => LedgerError::Domain(e),
        AggregateError::AggregateConflict => LedgerError::Contended,
        other => LedgerError::Store(other.to_string()),
    }
}
