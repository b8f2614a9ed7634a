use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::persist::{EventStoreAggregateContext, PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, AggregateContext, AggregateError, EventEnvelope};
use postgres_es::PostgresEventRepository;
use rand::Rng;
use sqlx::PgPool;
use tokio::sync::watch;

use super::group_commit::GroupCommit;
use super::guard::{self, Admission, Guard};
use super::person_keys::{self, KeyState, SealingKeys};
use super::Position;
use crate::domain::decide::Decide;
use crate::domain::invite::{Invite, InviteCommand, InviteError};
use crate::domain::organization::{Organization, OrganizationCommand};
use crate::domain::roles::RolePolicy;
use crate::domain::user::{User, UserCommand, UserError};

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
    /// The inviter's quota has no room; the text names the limit.
    #[error("quota reached ({0})")]
    QuotaExceeded(String),
    /// A twin request with the same idempotency key committed first; nothing
    /// of this one was written.
    #[error("the idempotency key was taken by another request")]
    KeyTaken,
}

/// A command the ledger runs: which aggregate it is for, where that aggregate's
/// events are, and whether the command starts a new one.
pub trait LedgerCommand: Clone + Send + Sync {
    type Aggregate: Decide<Command = Self>;
    /// Whether the command starts a new aggregate (it need not load one first).
    fn creates(&self) -> bool;
    fn store(ledger: &Ledger) -> &AppendStore<Self::Aggregate>;
}

impl LedgerCommand for InviteCommand {
    type Aggregate = Invite;

    fn creates(&self) -> bool {
        matches!(self, InviteCommand::Create { .. })
    }

    fn store(ledger: &Ledger) -> &AppendStore<Invite> {
        &ledger.invites
    }
}

impl LedgerCommand for UserCommand {
    type Aggregate = User;

    fn creates(&self) -> bool {
        matches!(self, UserCommand::Register { .. })
    }

    fn store(ledger: &Ledger) -> &AppendStore<User> {
        &ledger.users
    }
}

/// Facts about an organization never start it: an empty one is loaded as is.
impl LedgerCommand for OrganizationCommand {
    type Aggregate = Organization;

    fn creates(&self) -> bool {
        false
    }

    fn store(ledger: &Ledger) -> &AppendStore<Organization> {
        &ledger.organizations
    }
}

/// What became of one command of a batch of new invites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchResult {
    /// Appended, at this position.
    Written(Position),
    /// The aggregate refused it.
    Refused(InviteError),
    /// Valid, but the inviter's quota had no room left for it.
    OverQuota,
}

/// Appends commands' events and tells where they landed in the global order.
#[derive(Clone)]
pub struct Ledger {
    invites: Arc<AppendStore<Invite>>,
    users: Arc<AppendStore<User>>,
    organizations: Arc<AppendStore<Organization>>,
    roles: Arc<RolePolicy>,
    appended: Arc<watch::Sender<Position>>,
    /// This process's latest append that changes an account (a user's event,
    /// an invite's `Used`): what a signed-in request waits for before it reads
    /// its own account.
    accounts_appended: Arc<watch::Sender<Position>>,
    turns: Arc<[tokio::sync::Mutex<()>]>,
    keys: Arc<SealingKeys>,
    writer: Arc<GroupCommit>,
}

impl Ledger {
    pub fn new(pool: PgPool, roles: RolePolicy) -> Self {
        let keys = Arc::new(SealingKeys::new(pool.clone()));
        Self {
            invites: Arc::new(AppendStore::new(&pool)),
            users: Arc::new(AppendStore::new(&pool)),
            organizations: Arc::new(AppendStore::new(&pool)),
            keys,
            roles: Arc::new(roles),
            appended: Arc::new(watch::Sender::new(Position::default())),
            accounts_appended: Arc::new(watch::Sender::new(Position::default())),
            turns: (0..WRITE_SHARDS).map(|_| Default::default()).collect(),
            writer: Arc::new(GroupCommit::new(&pool)),
        }
    }

    pub fn roles(&self) -> &RolePolicy {
        &self.roles
    }

    /// The position of this process's latest append: followers of the log
    /// watch it to start at once.
    pub fn appended(&self) -> watch::Receiver<Position> {
        self.appended.subscribe()
    }

    /// How far this process has written: every read model must reach `all`
    /// to show all of it, `user_account` must reach `accounts`.
    pub fn written_here(&self) -> WrittenHere {
        WrittenHere {
            all: *self.appended.borrow(),
            accounts: *self.accounts_appended.borrow(),
        }
    }

    /// New invites, each under its own id, decided one by one and the valid
    /// ones appended together in one transaction (with the guard's quota and
    /// receipt). A taken token anywhere writes nothing and is
    /// `Domain(TokenTaken)`: the caller draws new tokens and tries again.
    pub async fn create_invites(
        &self,
        commands: Vec<(String, InviteCommand)>,
        guard: &Guard,
    ) -> Result<(Vec<BatchResult>, Admission), LedgerError<InviteError>> {
        let mut results = Vec::with_capacity(commands.len());
        let mut events = Vec::with_capacity(commands.len());
        let mut valid = Vec::new();
        for (i, (id, command)) in commands.into_iter().enumerate() {
            let context = EventStoreAggregateContext {
                aggregate_id: id,
                aggregate: Invite::default(),
                current_sequence: 0,
                current_snapshot: None,
            };
            match decide(&context, command, &self.roles) {
                Ok(decided) => {
                    let serialized = serialize(&context, decided)
                        .map_err(|e| LedgerError::Store(e.to_string()))?;
                    valid.push((i, serialized.len()));
                    events.extend(serialized);
                    results.push(BatchResult::OverQuota);
                }
                Err(refused) => results.push(BatchResult::Refused(refused)),
            }
        }
        if events.is_empty() {
            return Ok((results, Admission::default()));
        }
        self.keys
            .seal(&mut events)
            .await
            .map_err(|e| LedgerError::Store(e.to_string()))?;
        let appended = match append(&self.writer, &events, guard).await {
            Ok(appended) => appended,
            Err(AppendError::Conflict) => return Err(LedgerError::Domain(InviteError::TokenTaken)),
            Err(other) => return Err(other.into()),
        };
        // Each new invite is one `Created` event: the first `admitted` were written.
        let mut positions = appended.positions.iter();
        for (i, count) in valid {
            if let Some(last) = positions.by_ref().take(count).last() {
                results[i] = BatchResult::Written(*last);
            }
        }
        if let Some(&last) = appended.positions.last() {
            self.note_appended(last, &events);
        }
        Ok((results, appended.admission))
    }

    pub async fn load_invite(
        &self,
        id: &str,
    ) -> Result<Invite, LedgerError<<Invite as Aggregate>::Error>> {
        let mut context = self.invites.load_aggregate(id).await.map_err(store_error)?;
        Ok(context.aggregate().clone())
    }

    /// The organization `id` as its events make it (empty if it has none).
    pub async fn load_organization(
        &self,
        id: &str,
    ) -> Result<Organization, LedgerError<<Organization as Aggregate>::Error>> {
        let mut context = self
            .organizations
            .load_aggregate(id)
            .await
            .map_err(store_error)?;
        Ok(context.aggregate().clone())
    }

    /// Runs a command on the aggregate `id`, in that aggregate's turn: loads,
    /// decides and appends (on a lost race, does it all again on fresh state),
    /// with the guard's quota and receipt in the events' transaction (the
    /// default guard does nothing). Returns the position of the last event
    /// written, if any. A command that starts an aggregate decides on an empty
    /// one without loading it first; if the id is taken after all, the append
    /// conflicts and the next attempt loads what is there.
    pub async fn execute<C: LedgerCommand>(
        &self,
        id: &str,
        command: C,
        guard: &Guard,
    ) -> Result<Option<Position>, LedgerError<<C::Aggregate as Aggregate>::Error>> {
        let creates = command.creates();
        let store = C::store(self);
        let _turn = self.turn_of(C::Aggregate::TYPE, id).lock().await;
        self.decide_and_append(store, id, command, creates, guard)
            .await
    }

    /// The position of the last event written, if the command wrote any.
    async fn decide_and_append<A>(
        &self,
        store: &AppendStore<A>,
        id: &str,
        command: A::Command,
        creates: bool,
        guard: &Guard,
    ) -> Result<Option<Position>, LedgerError<A::Error>>
    where
        A: Decide,
        A::Command: Clone,
    {
        for attempt in 0..MAX_ATTEMPTS {
            let context = if creates && attempt == 0 {
                EventStoreAggregateContext {
                    aggregate_id: id.to_string(),
                    aggregate: A::default(),
                    current_sequence: 0,
                    current_snapshot: None,
                }
            } else {
                store.load_aggregate(id).await.map_err(store_error)?
            };
            let events =
                decide(&context, command.clone(), &self.roles).map_err(LedgerError::Domain)?;
            if events.is_empty() {
                return Ok(None);
            }
            let mut serialized =
                serialize(&context, events).map_err(|e| LedgerError::Store(e.to_string()))?;
            self.keys
                .seal(&mut serialized)
                .await
                .map_err(|e| LedgerError::Store(e.to_string()))?;
            match append(&self.writer, &serialized, guard).await {
                Ok(appended) => {
                    let Some(last) = appended.positions.last().copied() else {
                        let limit = appended.admission.refused_by.unwrap_or_default();
                        return Err(LedgerError::QuotaExceeded(limit));
                    };
                    self.note_appended(last, &serialized);
                    return Ok(Some(last));
                }
                Err(AppendError::Conflict) => {
                    after_a_lost_race(attempt).await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(LedgerError::Contended)
    }

    /// Sign-up by invite as one step: the new account's `Registered` and the
    /// invite's `Used` are appended together or not at all, so a failed
    /// registration never spends a seat and the use always finds its account.
    /// Returns the position of the last event.
    pub async fn register_with_invite(
        &self,
        invite_id: &str,
        use_invite: InviteCommand,
        user_id: &str,
        register: UserCommand,
        guard: &Guard,
    ) -> Result<Position, JointError> {
        let _turn = self.turn_of(Invite::TYPE, invite_id).lock().await;
        for attempt in 0..MAX_ATTEMPTS {
            let invite = self
                .invites
                .load_aggregate(invite_id)
                .await
                .map_err(|e| JointError::Invite(store_error(e)))?;
            let user = if attempt == 0 {
                EventStoreAggregateContext {
                    aggregate_id: user_id.to_string(),
                    aggregate: User::default(),
                    current_sequence: 0,
                    current_snapshot: None,
                }
            } else {
                self.users
                    .load_aggregate(user_id)
                    .await
                    .map_err(|e| JointError::User(store_error(e)))?
            };
            let used = decide(&invite, use_invite.clone(), &self.roles)
                .map_err(|e| JointError::Invite(LedgerError::Domain(e)))?;
            let registered = decide(&user, register.clone(), &self.roles)
                .map_err(|e| JointError::User(LedgerError::Domain(e)))?;
            // The account first: when the use is folded, it is there.
            let mut events = serialize(&user, registered).map_err(JointError::store)?;
            events.extend(serialize(&invite, used).map_err(JointError::store)?);
            self.keys
                .seal(&mut events)
                .await
                .map_err(JointError::store)?;
            match append(&self.writer, &events, guard).await {
                Ok(appended) => {
                    let last = *appended
                        .positions
                        .last()
                        .ok_or_else(|| JointError::store("a sign-up by invite appended nothing"))?;
                    self.note_appended(last, &events);
                    return Ok(last);
                }
                Err(AppendError::Conflict) => {
                    after_a_lost_race(attempt).await;
                }
                Err(other) => return Err(JointError::store(other.to_string())),
            }
        }
        Err(JointError::Invite(LedgerError::Contended))
    }

    /// Erases a person (crypto-shredding): deletes their key and appends
    /// `Erased` to their user aggregate in one transaction, so every reader
    /// that sees the event finds the key gone. `None`: erased already, nothing
    /// recorded.
    pub async fn erase_person(
        &self,
        person: &str,
        by_user_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<Position>, LedgerError<UserError>> {
        let _turn = self.turn_of(User::TYPE, person).lock().await;
        let store = |e: sqlx::Error| LedgerError::Store(e.to_string());
        for attempt in 0..MAX_ATTEMPTS {
            let user = self
                .users
                .load_aggregate(person)
                .await
                .map_err(store_error)?;
            let mut tx = self.users.pool.begin().await.map_err(store)?;
            let key = person_keys::key_state(&mut tx, person)
                .await
                .map_err(store)?;
            let command = UserCommand::Erase {
                by_user_id: by_user_id.to_string(),
                key_exists: key == KeyState::Live,
                at,
            };
            let erased = decide(&user, command, &self.roles).map_err(LedgerError::Domain)?;
            if erased.is_empty() {
                return Ok(None);
            }
            let events = serialize(&user, erased).map_err(|e| LedgerError::Store(e.to_string()))?;
            person_keys::erase_key(&mut tx, person, at)
                .await
                .map_err(store)?;
            match insert_events(&mut tx, &events).await {
                Ok(positions) => {
                    tx.commit().await.map_err(store)?;
                    self.keys.forget(person);
                    // Loaded states may hold the person's opened fields.
                    self.invites.recent.forget_all();
                    self.users.recent.forget_all();
                    self.organizations.recent.forget_all();
                    let last = *positions
                        .last()
                        .ok_or_else(|| LedgerError::Store("an erasure appended nothing".into()))?;
                    self.note_appended(last, &events);
                    return Ok(Some(last));
                }
                Err(AppendError::Conflict) => {
                    drop(tx);
                    after_a_lost_race(attempt).await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(LedgerError::Contended)
    }

    /// Wakes the log's followers for what was just appended.
    fn note_appended(&self, last: Position, events: &[SerializedEvent]) {
        let further = |p: &mut Position| std::mem::replace(p, last.max(*p)) != *p;
        if events.iter().any(changes_an_account) {
            self.accounts_appended.send_if_modified(further);
        }
        self.appended.send_if_modified(further);
    }

    fn turn_of(&self, aggregate_type: &str, id: &str) -> &tokio::sync::Mutex<()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (aggregate_type, id).hash(&mut hasher);
        &self.turns[hasher.finish() as usize % self.turns.len()]
    }
}

/// How far this process has written (`Ledger::written_here`).
#[derive(Debug, Clone, Copy, Default)]
pub struct WrittenHere {
    pub all: Position,
    pub accounts: Position,
}

/// Whether `user_account` folds this event: a user's own, or an invite's use
/// (the role it gives).
fn changes_an_account(event: &SerializedEvent) -> bool {
    event.aggregate_type == User::TYPE || event.event_type == "Used"
}

/// Aggregates as this process last loaded them, so the next load reads only
/// the events after (a crowd on one invite, a busy public invite: a command's
/// cost stops growing with the invite's history). Nothing is trusted beyond
/// what the log says: every load still reads the log from that sequence on,
/// so other replicas' writes are seen. Held in memory only and briefly (the
/// state holds opened personal fields): dropped after `RECENT_LIFETIME`, all
/// at once past `RECENT_MAX` entries, and on an erasure here.
struct Recent<A> {
    states: std::sync::Mutex<HashMap<String, (usize, A, std::time::Instant)>>,
}

const RECENT_LIFETIME: Duration = Duration::from_secs(30);
const RECENT_MAX: usize = 4096;

impl<A: Clone> Recent<A> {
    fn get(&self, id: &str) -> Option<(usize, A)> {
        let states = self.states.lock().expect("not poisoned");
        states
            .get(id)
            .filter(|(_, _, at)| at.elapsed() < RECENT_LIFETIME)
            .map(|(sequence, state, _)| (*sequence, state.clone()))
    }

    fn keep(&self, id: &str, sequence: usize, state: &A) {
        let mut states = self.states.lock().expect("not poisoned");
        if states.len() >= RECENT_MAX && !states.contains_key(id) {
            states.clear();
        }
        states.insert(
            id.to_string(),
            (sequence, state.clone(), std::time::Instant::now()),
        );
    }

    fn forget_all(&self) {
        self.states.lock().expect("not poisoned").clear();
    }
}

/// The events of one aggregate type: loaded through postgres-es's repository,
/// which reads its rows; events older than sealing are upcast and personal
/// fields opened (`person_keys::open_serialized`) before they are decoded, so
/// the aggregate decides on plain text, or on `[erased]`. Appends do not go
/// through cqrs-es: the ledger's `append` writes them (see `Ledger::execute`).
pub struct AppendStore<A: Aggregate> {
    pool: PgPool,
    repository: PostgresEventRepository,
    recent: Recent<A>,
}

impl<A: Aggregate> AppendStore<A> {
    fn new(pool: &PgPool) -> Self {
        AppendStore {
            pool: pool.clone(),
            repository: PostgresEventRepository::new(pool.clone()),
            recent: Recent {
                states: Default::default(),
            },
        }
    }
}

impl<A: Aggregate + Clone> AppendStore<A> {
    /// From the state this process last loaded, if recent, reading only the
    /// events after it; from the whole log otherwise.
    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<EventStoreAggregateContext<A>, AggregateError<A::Error>> {
        let (sequence, aggregate) = self.recent.get(aggregate_id).unwrap_or_default();
        let mut context = EventStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            current_sequence: sequence,
            current_snapshot: None,
        };
        let mut events = if sequence == 0 {
            self.repository.get_events::<A>(aggregate_id).await?
        } else {
            self.repository
                .get_last_events::<A>(aggregate_id, sequence)
                .await?
        };
        if events.is_empty() {
            return Ok(context);
        }
        let mut conn = self.pool.acquire().await.map_err(persistence)?;
        person_keys::open_serialized(&mut conn, &mut events)
            .await
            .map_err(|e| AggregateError::UnexpectedError(e.into()))?;
        drop(conn);
        for event in events {
            let envelope = EventEnvelope::<A>::try_from(event)?;
            context.current_sequence = envelope.sequence;
            context.aggregate.apply(envelope.payload);
        }
        self.recent
            .keep(aggregate_id, context.current_sequence, &context.aggregate);
        Ok(context)
    }
}

/// Waits a little before the next try of a command that lost the race for an
/// aggregate's next sequence number, longer after each loss, with jitter so
/// that the losers do not meet again.
async fn after_a_lost_race(attempt: usize) {
    let jitter = rand::thread_rng().gen_range(0..=(2 + attempt as u64 * 2));
    tokio::time::sleep(Duration::from_millis(jitter)).await;
}

/// Why an append wrote nothing.
#[derive(Debug, thiserror::Error)]
pub(super) enum AppendError {
    /// A taken sequence: another writer was first.
    #[error("another writer appended first")]
    Conflict,
    /// The guard's receipt key is held by a twin request.
    #[error("the idempotency key is taken")]
    KeyTaken,
    #[error("{0}")]
    Database(#[from] sqlx::Error),
    /// The group writer's statement failed, or the writer is gone.
    #[error("{0}")]
    Writer(String),
}

impl<E: std::error::Error> From<AppendError> for LedgerError<E> {
    fn from(error: AppendError) -> Self {
        match error {
            AppendError::Conflict => LedgerError::Contended,
            AppendError::KeyTaken => LedgerError::KeyTaken,
            AppendError::Database(e) => LedgerError::Store(e.to_string()),
            AppendError::Writer(e) => LedgerError::Store(e),
        }
    }
}

/// What an append wrote: the positions of the events written, in the order
/// given, and how many the guard's quota let through (all, without one).
struct Appended {
    positions: Vec<Position>,
    admission: Admission,
}

/// Appends events, of one aggregate or several, in one statement (so all or
/// none), in the order given. Without a guard that is the group writer's
/// statement, shared with other commands' events (see `group_commit`);
/// with one, the statement runs in a transaction that first takes the quota's
/// turn and keeps only the events it admits, and then writes the receipt, so
/// the events and their receipt are committed together or not at all.
async fn append(
    writer: &GroupCommit,
    events: &[SerializedEvent],
    guard: &Guard,
) -> Result<Appended, AppendError> {
    if guard.is_empty() {
        let positions = writer.append(events).await?;
        return Ok(Appended {
            admission: Admission {
                admitted: events.len(),
                refused_by: None,
            },
            positions,
        });
    }
    let mut tx = writer.pool().begin().await?;
    let admission = match &guard.quota {
        Some(quota) => guard::admit(&mut tx, quota, events.len()).await?,
        None => Admission {
            admitted: events.len(),
            refused_by: None,
        },
    };
    let admitted = &events[..admission.admitted];
    if admitted.is_empty() {
        return Ok(Appended {
            positions: Vec::new(),
            admission,
        });
    }
    let positions = insert_events(&mut tx, admitted).await?;
    if let Some(password) = &guard.password {
        crate::auth::passwords::write(&mut tx, password).await?;
    }
    if let Some(receipt) = &guard.receipt {
        if !guard::write_receipt(&mut tx, receipt, &admission).await? {
            return Err(AppendError::KeyTaken);
        }
    }
    tx.commit().await?;
    hold_after_append_if_asked(guard).await;
    Ok(Appended {
        positions,
        admission,
    })
}

/// The one INSERT of the log: returns the events' positions in the order given.
pub(super) async fn insert_events<E: std::borrow::Borrow<SerializedEvent>>(
    conn: &mut sqlx::PgConnection,
    events: &[E],
) -> Result<Vec<Position>, AppendError> {
    let events: Vec<&SerializedEvent> = events.iter().map(std::borrow::Borrow::borrow).collect();
    let column =
        |f: fn(&SerializedEvent) -> String| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let positions: Vec<(i64, i64)> = sqlx::query_as(
        "INSERT INTO events
            (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         SELECT a, i, s, t, v, p::json, m::json
           FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[],
                       $6::text[], $7::text[])
                AS e(a, i, s, t, v, p, m)
         RETURNING transaction_id::text::bigint, global_position",
    )
    .bind(column(|e| e.aggregate_type.clone()))
    .bind(column(|e| e.aggregate_id.clone()))
    .bind(events.iter().map(|e| e.sequence as i64).collect::<Vec<_>>())
    .bind(column(|e| e.event_type.clone()))
    .bind(column(|e| e.event_version.clone()))
    .bind(column(|e| e.payload.to_string()))
    .bind(column(|e| e.metadata.to_string()))
    .fetch_all(conn)
    .await
    .map_err(|e| match e.as_database_error().and_then(|d| d.code()) {
        Some(code) if code == "23505" => AppendError::Conflict,
        _ => AppendError::Database(e),
    })?;
    // RETURNING gives the rows in insertion order: the order of `unnest`.
    Ok(positions
        .into_iter()
        .map(|(xid, global)| Position { xid, global })
        .collect())
}

/// For the crash test of idempotent retries only: with
/// `LEDGER_TEST_HOLD_AFTER_APPEND=1`, a request whose append wrote a receipt
/// never answers, so the test can kill the process between append and answer.
async fn hold_after_append_if_asked(guard: &Guard) {
    static HOLD: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        std::env::var("LEDGER_TEST_HOLD_AFTER_APPEND").is_ok_and(|v| v == "1")
    });
    if *HOLD && guard.receipt.is_some() {
        tracing::warn!("LEDGER_TEST_HOLD_AFTER_APPEND: holding this request after its append");
        std::future::pending::<()>().await;
    }
}

/// Why a sign-up by invite was not recorded: the invite's refusal or the account's.
#[derive(Debug, thiserror::Error)]
pub enum JointError {
    #[error(transparent)]
    Invite(LedgerError<InviteError>),
    #[error(transparent)]
    User(LedgerError<UserError>),
}

impl JointError {
    fn store(error: impl std::fmt::Display) -> Self {
        JointError::Invite(LedgerError::Store(error.to_string()))
    }
}

/// The events `command` gives on the aggregate as loaded.
fn decide<A: Decide>(
    context: &EventStoreAggregateContext<A>,
    command: A::Command,
    roles: &RolePolicy,
) -> Result<Vec<A::Event>, A::Error> {
    context.aggregate.decide(command, roles)
}

/// The events as rows of the log, after the aggregate's current sequence.
fn serialize<A: Aggregate>(
    context: &EventStoreAggregateContext<A>,
    events: Vec<A::Event>,
) -> Result<Vec<SerializedEvent>, cqrs_es::persist::PersistenceError> {
    events
        .into_iter()
        .enumerate()
        .map(|(i, payload)| {
            SerializedEvent::try_from(&EventEnvelope::<A> {
                aggregate_id: context.aggregate_id.clone(),
                sequence: context.current_sequence + i + 1,
                payload,
                metadata: HashMap::new(),
            })
        })
        .collect()
}

fn persistence<E: std::error::Error>(error: sqlx::Error) -> AggregateError<E> {
    AggregateError::DatabaseConnectionError(Box::new(error))
}

fn store_error<E: std::error::Error>(error: AggregateError<E>) -> LedgerError<E> {
    match error {
        AggregateError::UserError(e) => LedgerError::Domain(e),
        AggregateError::AggregateConflict => LedgerError::Contended,
        other => LedgerError::Store(other.to_string()),
    }
}
