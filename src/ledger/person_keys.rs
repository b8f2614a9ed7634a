//! The `person_key` table (migration 0011): the keys personal fields are
//! sealed with. Writers find or make a person's key once and keep it in memory
//! (no round trip per event); readers load the keys of a batch of events in
//! one query and keep none, so an erasure on any replica shows on the next batch.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use rand::RngCore;
use sqlx::{PgConnection, PgPool};

use super::personal::{self, Keyring, PersonKey, PlainPersonalFields, SealingKey};

/// How long a writer trusts a key it holds. A key erased on another replica
/// meanwhile only makes what it seals unreadable (`[erased]`), never readable.
const CACHED_FOR: Duration = Duration::from_secs(300);

/// Past this many keys in memory, the cache starts over.
const CACHE_LIMIT: usize = 100_000;

/// Lost races on a new person's key before giving up (another writer made it
/// between our look and our insert).
const ATTEMPTS: usize = 4;

/// The keys of these persons, as readers need them (absent: never had one).
pub async fn keyring(conn: &mut PgConnection, persons: &[String]) -> sqlx::Result<Keyring> {
    if persons.is_empty() {
        return Ok(Keyring::new());
    }
    let rows: Vec<(String, i32, Option<Vec<u8>>, bool)> = sqlx::query_as(
        "SELECT person_id, generation, key, erased_at IS NOT NULL
           FROM person_key WHERE person_id = ANY($1)",
    )
    .bind(persons)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(person, generation, key, erased)| {
            let key = key.and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok());
            (
                person,
                PersonKey {
                    generation,
                    key,
                    erased,
                },
            )
        })
        .collect())
}

/// Upcasts events loaded for an aggregate and opens their personal fields.
pub async fn open_serialized(
    conn: &mut PgConnection,
    events: &mut [SerializedEvent],
) -> anyhow::Result<()> {
    let mut persons = Vec::new();
    for event in events.iter_mut() {
        if PlainPersonalFields.can_upcast(&event.event_type, &event.event_version) {
            *event = PlainPersonalFields.upcast(event.clone());
        }
        personal::persons_in(&event.payload, &mut persons);
    }
    persons.sort();
    persons.dedup();
    let keys = keyring(conn, &persons).await?;
    for event in events.iter_mut() {
        personal::open(&mut event.payload, &keys)?;
    }
    Ok(())
}

/// The writers' keys: found or made in one statement per batch of persons
/// not yet known, then kept for a while.
pub struct SealingKeys {
    pool: PgPool,
    cache: Mutex<HashMap<String, (SealingKey, Instant)>>,
}

impl SealingKeys {
    pub fn new(pool: PgPool) -> Self {
        SealingKeys {
            pool,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Seals the personal fields of events about to be appended.
    pub async fn seal(&self, events: &mut [SerializedEvent]) -> anyhow::Result<()> {
        let mut persons: Vec<String> = events
            .iter()
            .flat_map(|e| personal::owners(&e.aggregate_id, &e.payload))
            .collect();
        if persons.is_empty() {
            return Ok(());
        }
        persons.sort();
        persons.dedup();
        let keys = self.keys_of(&persons).await?;
        for event in events {
            personal::seal(&event.aggregate_id, &mut event.payload, &keys)?;
        }
        Ok(())
    }

    /// Drops a person's key from memory (this process erased it).
    pub fn forget(&self, person: &str) {
        self.cache.lock().expect("not poisoned").remove(person);
    }

    async fn keys_of(&self, persons: &[String]) -> anyhow::Result<HashMap<String, SealingKey>> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.cache.lock().expect("not poisoned");
            for person in persons {
                match cache.get(person) {
                    Some((key, at)) if at.elapsed() < CACHED_FOR => {
                        found.insert(person.clone(), *key);
                    }
                    _ => missing.push(person.clone()),
                }
            }
        }
        for _ in 0..ATTEMPTS {
            if missing.is_empty() {
                break;
            }
            let got = find_or_make(&self.pool, &missing).await?;
            let mut cache = self.cache.lock().expect("not poisoned");
            if cache.len() > CACHE_LIMIT {
                cache.clear();
            }
            for (person, key) in got {
                cache.insert(person.clone(), (key, Instant::now()));
                found.insert(person, key);
            }
            missing.retain(|p| !found.contains_key(p));
        }
        anyhow::ensure!(missing.is_empty(), "no key could be made for a person");
        Ok(found)
    }
}

/// The live keys of `persons` (sorted, distinct): existing ones, and new ones
/// for persons without (or erased: a new generation). A person whose key
/// another writer is making at this moment may be missing: ask again.
async fn find_or_make(
    pool: &PgPool,
    persons: &[String],
) -> sqlx::Result<Vec<(String, SealingKey)>> {
    let fresh: Vec<Vec<u8>> = persons
        .iter()
        .map(|_| {
            let mut key = vec![0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut key);
            key
        })
        .collect();
    let rows: Vec<(String, i32, Vec<u8>)> = sqlx::query_as(
        "WITH wanted AS (
             SELECT * FROM unnest($1::text[], $2::bytea[]) AS w(person_id, key)),
         made AS (
             INSERT INTO person_key AS p (person_id, key)
             SELECT person_id, key FROM wanted
             ON CONFLICT (person_id) DO UPDATE
                 SET key = EXCLUDED.key, generation = p.generation + 1, created_at = now()
                 WHERE p.key IS NULL
             RETURNING p.person_id, p.generation, p.key)
         SELECT person_id, generation, key FROM made
         UNION ALL
         SELECT p.person_id, p.generation, p.key
           FROM person_key p JOIN wanted USING (person_id)
          WHERE p.key IS NOT NULL AND p.person_id NOT IN (SELECT person_id FROM made)",
    )
    .bind(persons)
    .bind(fresh)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(person, generation, key)| {
            let key = <[u8; 32]>::try_from(key.as_slice()).ok()?;
            Some((person, SealingKey { generation, key }))
        })
        .collect())
}

/// What a person's key looked like before an erasure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    /// No row: nothing of this person was ever sealed.
    Never,
    Live,
    Erased,
}

pub async fn key_state(conn: &mut PgConnection, person: &str) -> sqlx::Result<KeyState> {
    let row: Option<bool> =
        sqlx::query_scalar("SELECT key IS NOT NULL FROM person_key WHERE person_id = $1")
            .bind(person)
            .fetch_optional(conn)
            .await?;
    Ok(match row {
        None => KeyState::Never,
        Some(true) => KeyState::Live,
        Some(false) => KeyState::Erased,
    })
}

/// Deletes a person's key, leaving the mark that they were erased (for the
/// plain fields of events older than sealing).
pub async fn erase_key(
    conn: &mut PgConnection,
    person: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO person_key AS p (person_id, key, erased_at) VALUES ($1, NULL, $2)
         ON CONFLICT (person_id) DO UPDATE SET key = NULL, erased_at = EXCLUDED.erased_at",
    )
    .bind(person)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
