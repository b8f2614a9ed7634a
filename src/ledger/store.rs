use std::hash::{Hash, Hasher};
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

/// Writers of one aggregate in this process take turns, so a crowd on one
/// invite queues instead of losing the same race over and over (each loss a
/// reload, a failed insert and a sleep). Writers in other processes are still
/// held off by the store's sequence check and the retry above. Aggregates share
/// a turn only when their ids fall in the same of these shards.
const WRITE_SHARDS: usize = 1024;

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
    turns: Arc<[tokio::sync::Mutex<()>]>,
}

impl Ledger {
    pub fn new(pool: PgPool, roles: RolePolicy) -> Self {
        Self {
            invites: Arc::new(store_on(&pool)),
            users: Arc::new(store_on(&pool)),
            pool,
            roles: Arc::new(roles),
            appended: Arc::new(Notify::new()),
            turns: (0..WRITE_SHARDS).map(|_| Default::default()).collect(),
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

    /// In this aggregate's turn: loads, decides and appends (on a lost race, does
    /// it all again on fresh state). Returns the position of the last event
    /// written, if any.
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
        let sequence = {
            let _turn = self.turn_of(A::TYPE, id).lock().await;
            match self.decide_and_append(store, id, command).await? {
                Some(sequence) => sequence,
                None => return Ok(None),
            }
        };
        self.position_of(A::TYPE, id, sequence).await.map(Some)
    }

    /// The sequence number of the last event written, if the command wrote any.
    async fn decide_and_append<A>(
        &self,
        store: &Store<A>,
        id: &str,
        command: A::Command,
    ) -> Result<Option<usize>, LedgerError<A::Error>>
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
                    return Ok(Some(last.sequence));
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

    fn turn_of(&self, aggregate_type: &str, id: &str) -> &tokio::sync::Mutex<()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (aggregate_type, id).hash(&mut hasher);
        &self.turns[hasher.finish() as usize % self.turns.len()]
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
