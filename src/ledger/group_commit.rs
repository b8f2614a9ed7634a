//! Group commit: appends that need no transaction of their own (an empty
//! guard: no quota, receipt or password to write beside the events), made at
//! the same moment by different commands, share one INSERT and so one commit
//! and one WAL flush. Each command was decided on its own aggregate's state
//! before it got here; if the shared statement meets a taken sequence, every
//! append of the group is tried again on its own, so only the command that
//! lost its race sees the conflict and the others are written.

use std::sync::OnceLock;

use cqrs_es::persist::SerializedEvent;
use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use super::store::{insert_events, AppendError};
use super::Position;

/// Events one shared statement carries at most: a group of this size is one
/// round trip of a few hundred kilobytes at worst.
const MAX_EVENTS_PER_COMMIT: usize = 512;

/// Appends waiting for the writer before a new one waits for room: the
/// backpressure of a burst, far above what the connection limits let in.
const QUEUE_DEPTH: usize = 4096;

/// One command's events, waiting for the writer, and where to tell it their
/// positions.
struct Waiting {
    events: Vec<SerializedEvent>,
    reply: oneshot::Sender<Result<Vec<Position>, AppendError>>,
}

/// The writer of unguarded appends: one task that takes whatever is waiting
/// when its previous statement is done, so a group is as large as the load
/// makes it and a lone command goes alone without waiting for company.
pub(super) struct GroupCommit {
    pool: PgPool,
    queue: OnceLock<mpsc::Sender<Waiting>>,
}

impl GroupCommit {
    pub(super) fn new(pool: &PgPool) -> Self {
        Self {
            pool: pool.clone(),
            queue: OnceLock::new(),
        }
    }

    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends `events` (all or none), possibly in one statement with other
    /// commands' events; returns their positions in the order given.
    pub(super) async fn append(
        &self,
        events: &[SerializedEvent],
    ) -> Result<Vec<Position>, AppendError> {
        let (reply, answer) = oneshot::channel();
        let waiting = Waiting {
            events: events.to_vec(),
            reply,
        };
        // Started on first use, inside the runtime that uses it.
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
            tokio::spawn(write_groups(self.pool.clone(), receiver));
            sender
        });
        if queue.send(waiting).await.is_err() {
            return Err(AppendError::Writer("the writer has stopped".into()));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(AppendError::Writer("the writer has stopped".into())))
    }
}

/// The writer's loop: one group per statement, until every sender is gone.
async fn write_groups(pool: PgPool, mut queue: mpsc::Receiver<Waiting>) {
    while let Some(first) = queue.recv().await {
        let mut events = first.events.len();
        let mut group = vec![first];
        while events < MAX_EVENTS_PER_COMMIT {
            let Ok(next) = queue.try_recv() else { break };
            events += next.events.len();
            group.push(next);
        }
        commit(&pool, group).await;
    }
}

/// Writes a group in one statement; on a conflict, each of its appends on its
/// own (each then gets its own outcome). Any other failure is every one's.
async fn commit(pool: &PgPool, group: Vec<Waiting>) {
    if group.len() > 1 {
        let all: Vec<&SerializedEvent> = group.iter().flat_map(|w| &w.events).collect();
        match insert_alone(pool, &all).await {
            Ok(positions) => {
                let mut positions = positions.into_iter();
                for waiting in group {
                    let own = positions.by_ref().take(waiting.events.len()).collect();
                    let _ = waiting.reply.send(Ok(own));
                }
                return;
            }
            Err(AppendError::Conflict) => {}
            Err(other) => {
                let message = other.to_string();
                for waiting in group {
                    let _ = waiting
                        .reply
                        .send(Err(AppendError::Writer(message.clone())));
                }
                return;
            }
        }
    }
    for waiting in group {
        let outcome = insert_alone(pool, &waiting.events).await;
        let _ = waiting.reply.send(outcome);
    }
}

async fn insert_alone<E: std::borrow::Borrow<SerializedEvent>>(
    pool: &PgPool,
    events: &[E],
) -> Result<Vec<Position>, AppendError> {
    insert_events(&mut *pool.acquire().await?, events).await
}
