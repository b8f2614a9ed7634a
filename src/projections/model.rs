//! A read model is a row type and one pure function that evolves rows with a
//! recorded event. Three drivers run that one function: the live runner (load
//! the rows a batch touches, evolve, upsert the changed ones), the rebuild
//! (evolve everything in memory, COPY) and `as_of` (the same, into temporary
//! tables). No rule of a read model lives anywhere else.

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;

use async_trait::async_trait;
use sqlx::PgConnection;

use super::row::Row;
use super::writer::{self, CopyRows};
use super::{Fold, Projection};
use crate::ledger::RecordedEvent;

pub trait ReadModel: Send + Sync + 'static {
    type Row: Row;
    /// The name of its checkpoint and lock.
    const NAME: &'static str;
    /// The SQL that creates its table (`projections/NAME.sql`).
    const SCHEMA: &'static str;

    /// The keys of the stored rows `evolve` reads or changes for this event
    /// (not those it only adds): the runner loads them before folding.
    fn keys(event: &RecordedEvent) -> Vec<Key<Self>>;
    /// The rules: applies one event to the rows (only those of `keys(event)`).
    fn evolve(rows: &mut Rows<Self::Row>, event: &RecordedEvent);
}

pub type Key<M> = <<M as ReadModel>::Row as Row>::Key;

/// The rows an event may touch, by key, and which of them changed.
pub struct Rows<R: Row> {
    rows: HashMap<R::Key, R>,
    changed: Option<HashSet<R::Key>>,
}

impl<R: Row> Rows<R> {
    fn new(track_changes: bool) -> Self {
        Rows {
            rows: HashMap::new(),
            changed: track_changes.then(HashSet::new),
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
        Some(row)
    }

    /// Adds a row, or replaces the one with its key.
    pub fn insert(&mut self, row: R) {
        let key = row.key().clone();
        if let Some(changed) = &mut self.changed {
            changed.insert(key.clone());
        }
        self.rows.insert(key, row);
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
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

    fn table(&self) -> &'static str {
        M::Row::TABLE
    }

    async fn apply(&self, conn: &mut PgConnection, events: &[RecordedEvent]) -> sqlx::Result<()> {
        let mut wanted: Vec<Key<M>> = events.iter().flat_map(M::keys).collect();
        let mut seen = HashSet::new();
        wanted.retain(|key| seen.insert(key.clone()));
        let keys: Vec<&Key<M>> = wanted.iter().collect();
        let mut rows = Rows::new(true);
        for row in writer::load::<M::Row>(conn, &keys).await? {
            rows.rows.insert(row.key().clone(), row);
        }
        for event in events {
            M::evolve(&mut rows, event);
        }
        writer::upsert(conn, &rows.take_changed()).await
    }

    fn fold(&self) -> Box<dyn Fold> {
        Box::new(InMemory::<M> {
            rows: Rows::new(false),
        })
    }
}

/// Every row of a read model in memory, for rebuilds and `as_of`.
struct InMemory<M: ReadModel> {
    rows: Rows<M::Row>,
}

#[async_trait]
impl<M: ReadModel> Fold for InMemory<M> {
    fn fold(&mut self, event: &RecordedEvent) {
        M::evolve(&mut self.rows, event);
    }

    async fn write(&mut self, conn: &mut PgConnection) -> sqlx::Result<u64> {
        let mut copy = CopyRows::new::<M::Row>(conn);
        for row in std::mem::take(&mut self.rows.rows).into_values() {
            copy.row(&row).await?;
        }
        copy.finish().await
    }
}
