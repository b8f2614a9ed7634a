//! A read model is a row type and one pure function that evolves rows with a
//! recorded event. Two drivers run that one function: the live runner (load
//! the rows a batch touches, evolve, upsert the changed ones) and the rebuild
//! (evolve everything in memory, COPY). Both also write each row's versions to
//! its history table, which `as_of` reads. No rule of a read model lives
//! anywhere else.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::PgConnection;

use super::row::Row;
use super::writer::{self, CopyRows, Since, Version};
use super::{Fold, Projection, Spilled};
use crate::domain::user::UserEvent;
use crate::ledger::personal::ERASED;
use crate::ledger::{LedgerEvent, Position, RecordedEvent};

pub trait ReadModel: Send + Sync + 'static {
    type Row: Row;
    /// The name of its checkpoint and lock.
    const NAME: &'static str;
    /// The SQL that creates its table (`projections/NAME.sql`).
    const SCHEMA: &'static str;
    /// The columns holding a person's data, by the column naming the person.
    /// An `Erased` event sets them to `[erased]` in every row and every
    /// version of the person (`erase`); a rebuild, which can no longer open
    /// the person's fields, writes `[erased]` there from the start.
    const PERSONAL: &'static [Personal] = &[];

    /// The keys of the stored rows `evolve` reads or changes for this event
    /// (not those it only adds): the runner loads them before folding.
    fn keys(event: &RecordedEvent) -> Vec<Key<Self>>;
    /// The rules: applies one event to the rows (only those of `keys(event)`).
    fn evolve(rows: &mut Rows<Self::Row>, event: &RecordedEvent);
}

pub type Key<M> = <<M as ReadModel>::Row as Row>::Key;

/// Columns of one person's data, and the column with that person's id.
pub struct Personal {
    pub owner: &'static str,
    pub columns: &'static [&'static str],
}

/// The persons a batch erases.
fn erased_in(events: &[RecordedEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|e| matches!(e.event, LedgerEvent::User(UserEvent::Erased { .. })))
        .map(|e| e.aggregate_id.clone())
        .collect()
}

/// Sets the persons' columns to `[erased]` in a read model's rows and its
/// history. The rows this batch loaded were folded with what they held
/// before, so this runs after the batch is written. Each erasure scans the
/// history table once (it is not indexed by person: erasures are rare,
/// history writes are not).
async fn erase<M: ReadModel>(conn: &mut PgConnection, persons: &[String]) -> sqlx::Result<()> {
    for personal in M::PERSONAL {
        let set: Vec<String> = personal
            .columns
            .iter()
            // A column with nothing in it stays empty, as a replay leaves it.
            .map(|column| {
                format!("{column} = CASE WHEN {column} IS NULL THEN NULL ELSE '{ERASED}' END")
            })
            .collect();
        let changed: Vec<String> = personal
            .columns
            .iter()
            .map(|column| format!("({column} IS NOT NULL AND {column} <> '{ERASED}')"))
            .collect();
        for table in [M::Row::TABLE, M::Row::HISTORY] {
            sqlx::query(&format!(
                "UPDATE {table} SET {} WHERE {} = ANY($1) AND ({})",
                set.join(", "),
                personal.owner,
                changed.join(" OR ")
            ))
            .bind(persons)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// The rows an event may touch, by key, and which of them changed.
pub struct Rows<R: Row> {
    rows: HashMap<R::Key, R>,
    changed: Option<HashSet<R::Key>>,
    /// The keys changed by the event being folded: each gets a new version.
    touched: Vec<R::Key>,
}

impl<R: Row> Rows<R> {
    pub(super) fn new(track_changes: bool) -> Self {
        Rows {
            rows: HashMap::new(),
            changed: track_changes.then(HashSet::new),
            touched: Vec::new(),
        }
    }

    pub fn get(&self, key: &R::Key) -> Option<&R> {
        self.rows.get(key)
    }

    /// The row with this key, to change: it will be written.
    pub fn get_mut(&mut self, key: &R::Key) -> Option<&mut R> {
        let row = self.rows.get_mut(key)?;
        if let Some(changed) = &mut self.changed {
            changed.insert(key.clone());
        }
        self.touched.push(key.clone());
        Some(row)
    }

    /// Adds a row, or replaces the one with its key.
    pub fn insert(&mut self, row: R) {
        let key = row.key().clone();
        if let Some(changed) = &mut self.changed {
            changed.insert(key.clone());
        }
        self.touched.push(key.clone());
        self.rows.insert(key, row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub(super) fn into_rows(self) -> Vec<R> {
        self.rows.into_values().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The keys changed since the last call, each once, in the order first changed.
    fn take_touched(&mut self) -> Vec<R::Key> {
        let mut seen = HashSet::new();
        let mut touched = std::mem::take(&mut self.touched);
        touched.retain(|key| seen.insert(key.clone()));
        touched
    }

    fn take_changed(&mut self) -> Vec<&R> {
        let changed = self.changed.take().unwrap_or_default();
        changed
            .iter()
            .filter_map(|key| self.rows.get(key))
            .collect()
    }
}

/// A `ReadModel` behind the object-safe `Projection` the drivers take.
pub struct Model<M: ReadModel>(PhantomData<M>);

impl<M: ReadModel> Model<M> {
    pub fn new() -> Self {
        Model(PhantomData)
    }
}

impl<M: ReadModel> Default for Model<M> {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl<M: ReadModel> Projection for Model<M> {
    fn name(&self) -> &'static str {
        M::NAME
    }

    fn schema(&self) -> &'static str {
        M::SCHEMA
    }

    fn tables(&self) -> [&'static str; 2] {
        [M::Row::TABLE, M::Row::HISTORY]
    }

    async fn apply(&self, conn: &mut PgConnection, events: &[RecordedEvent]) -> sqlx::Result<()> {
        // An erasure blanks what was written before it, not what follows it
        // in the same batch (the same email may be invited again, under a new
        // key): the batch is applied in parts that each end with an erasure.
        for part in
            events.split_inclusive(|event| !erased_in(std::slice::from_ref(event)).is_empty())
        {
            self.apply_part(conn, part).await?;
        }
        Ok(())
    }

    fn fold(&self, rows_in_memory: usize) -> Box<dyn Fold> {
        Box::new(InMemory::<M> {
            rows: Rows::new(false),
            limit: rows_in_memory.max(1),
            written_out: HashSet::new(),
            spilled: Vec::new(),
            open_versions: HashMap::new(),
            history: Vec::new(),
            deferred: Vec::new(),
            written: 0,
            field: String::new(),
        })
    }
}

impl<M: ReadModel> Model<M> {
    /// Folds events into the stored rows they touch, writes the rows and their
    /// versions, then blanks the persons the events erase.
    async fn apply_part(
        &self,
        conn: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> sqlx::Result<()> {
        let mut wanted: Vec<Key<M>> = events.iter().flat_map(M::keys).collect();
        let mut seen = HashSet::new();
        wanted.retain(|key| seen.insert(key.clone()));
        let keys: Vec<&Key<M>> = wanted.iter().collect();
        let mut rows = Rows::new(true);
        for row in writer::load::<M::Row>(conn, &keys).await? {
            rows.rows.insert(row.key().clone(), row);
        }
        // Each event's changes are a new version of each row it changed; a
        // row's stored current version ends where its first new one starts.
        let mut versions: Vec<Version<M::Row>> = Vec::new();
        let mut latest: HashMap<Key<M>, usize> = HashMap::new();
        let mut ends: Vec<(Key<M>, Since)> = Vec::new();
        for event in events {
            M::evolve(&mut rows, event);
            let since = Since::of(event);
            for key in rows.take_touched() {
                let Some(row) = rows.get(&key) else { continue };
                match latest.insert(key.clone(), versions.len()) {
                    Some(earlier) => versions[earlier].to = Some(since),
                    None => ends.push((key, since)),
                }
                versions.push(Version {
                    row: row.clone(),
                    from: since,
                    to: None,
                });
            }
        }
        writer::upsert(conn, &rows.take_changed()).await?;
        writer::record_versions(conn, &ends, &versions).await?;
        let erased = erased_in(events);
        if erased.is_empty() {
            return Ok(());
        }
        erase::<M>(conn, &erased).await
    }
}

/// A read model's rows in memory, for rebuilds and `as_of`, at most `limit`
/// at a time.
struct InMemory<M: ReadModel> {
    rows: Rows<M::Row>,
    limit: usize,
    /// Hashes of the keys of rows written out already. A collision only sets
    /// an event aside that need not be: it is applied later all the same.
    written_out: HashSet<u64>,
    /// Rows that left memory, in COPY's text format, until `spill` sends them.
    spilled: Vec<u8>,
    /// Each row's current version, encoded but for its end.
    open_versions: HashMap<Key<M>, Vec<u8>>,
    /// Ended versions, in COPY's text format for the history table.
    history: Vec<u8>,
    deferred: Vec<Position>,
    written: u64,
    field: String,
}

impl<M: ReadModel> InMemory<M> {
    fn hash(key: &Key<M>) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        hasher.finish()
    }

    /// Sends the row with `key` (if in memory) out, with its current version,
    /// and marks the key written.
    fn spill_key(&mut self, key: &Key<M>) {
        if let Some(row) = self.rows.rows.remove(key) {
            writer::encode_copy_row(&row, &mut self.spilled, &mut self.field);
            self.written += 1;
        }
        if let Some(open) = self.open_versions.remove(key) {
            writer::end_version(&open, None, &mut self.history, &mut self.field);
        }
        self.written_out.insert(Self::hash(key));
    }

    /// A new version of each row the last event changed; each ends the one before.
    fn record_versions(&mut self, event: &RecordedEvent) {
        let since = Since::of(event);
        for key in self.rows.take_touched() {
            let Some(row) = self.rows.rows.get(&key) else {
                continue;
            };
            let mut open = Vec::new();
            writer::encode_open_version(row, since, &mut open, &mut self.field);
            if let Some(ended) = self.open_versions.insert(key, open) {
                writer::end_version(&ended, Some(since), &mut self.history, &mut self.field);
            }
        }
    }

    fn spill_all(&mut self) {
        let keys: Vec<Key<M>> = self.rows.rows.keys().cloned().collect();
        for key in &keys {
            self.spill_key(key);
        }
    }
}

#[async_trait]
impl<M: ReadModel> Fold for InMemory<M> {
    fn fold(&mut self, event: &RecordedEvent) {
        let keys = M::keys(event);
        if !self.written_out.is_empty()
            && keys
                .iter()
                .any(|key| self.written_out.contains(&Self::hash(key)))
        {
            // The event needs a row that is no longer here: it waits for the
            // table, and so does every row it touches.
            keys.iter().for_each(|key| self.spill_key(key));
            self.deferred.push(event.position);
            return;
        }
        M::evolve(&mut self.rows, event);
        self.record_versions(event);
        if self.rows.len() > self.limit {
            self.spill_all();
        }
    }

    fn take_spilled(&mut self) -> Spilled {
        Spilled(vec![
            (
                writer::copy_statement::<M::Row>(),
                std::mem::take(&mut self.spilled),
            ),
            (
                writer::copy_history_statement::<M::Row>(),
                std::mem::take(&mut self.history),
            ),
        ])
    }

    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64> {
        for open in std::mem::take(&mut self.open_versions).into_values() {
            writer::end_version(&open, None, &mut self.history, &mut self.field);
        }
        self.take_spilled().send(conn).await?;
        let mut copy = CopyRows::new::<M::Row>(conn);
        for row in std::mem::take(&mut self.rows.rows).into_values() {
            copy.row(&row).await?;
        }
        Ok(self.written + copy.finish().await?)
    }

    fn take_deferred(&mut self) -> Vec<Position> {
        std::mem::take(&mut self.deferred)
    }
}
