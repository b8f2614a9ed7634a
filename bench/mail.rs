//! Measure 10: 1,000 private invites made in one `create-many` call, mailed to
//! a local SMTP sink: the time from the request to the last message accepted,
//! and how many SMTP connections carried them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::bulk::INVITES_PER_CALL;
use super::report::{millis, Row};
use super::workload::Api;

/// How long the bench waits for the last message.
const PATIENCE: Duration = Duration::from_secs(120);

/// An SMTP server on loopback that accepts every message and counts them and
/// the connections they came on; it keeps nothing.
pub struct Sink {
    pub url: String,
    accepted: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    pub async fn start() -> anyhow::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("smtp://{}", listener.local_addr()?);
        let accepted = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let (count, opened) = (accepted.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                opened.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(session(stream, count.clone()));
            }
        });
        Ok(Sink {
            url,
            accepted,
            connections,
            task,
        })
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

async fn session(stream: tokio::net::TcpStream, accepted: Arc<AtomicUsize>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
            b"250 sink\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
            }
            accepted.fetch_add(1, Ordering::Relaxed);
            b"250 queued\r\n"
        } else if command.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"250 OK\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// Waits (within `PATIENCE`) until no email is waiting to be sent.
pub async fn wait_for_empty_queue(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reactor_delivery WHERE reactor = 'email' AND status = 'pending'",
        )
        .fetch_one(pool)
        .await?;
        if waiting == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < PATIENCE,
            "{waiting} emails still waiting after {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub struct Figures {
    pub answered: Duration,
    pub all_accepted: Duration,
    pub messages: usize,
    pub connections: usize,
}

/// One call of `INVITES_PER_CALL` private invites; waits until the sink has
/// accepted a message for each.
pub async fn measure(api: &Api, admin: &str, sink: &Sink) -> anyhow::Result<Figures> {
    let before = sink.accepted();
    let connections_before = sink.connections();
    let invites: Vec<Value> = (0..INVITES_PER_CALL)
        .map(|i| json!({ "email": format!("mailed.{i}@bench.example"), "role": "user" }))
        .collect();
    let started = Instant::now();
    let answer = api
        .create_many(admin, json!({ "invites": invites }))
        .await?;
    let answered = started.elapsed();
    anyhow::ensure!(
        answer["created"] == INVITES_PER_CALL,
        "create-many made {} of {INVITES_PER_CALL} invites",
        answer["created"]
    );
    while sink.accepted() - before < INVITES_PER_CALL {
        anyhow::ensure!(
            started.elapsed() < PATIENCE,
            "{} of {INVITES_PER_CALL} messages arrived in {PATIENCE:?}",
            sink.accepted() - before
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(Figures {
        answered,
        all_accepted: started.elapsed(),
        messages: sink.accepted() - before,
        connections: sink.connections() - connections_before,
    })
}

pub fn row(figures: &Figures) -> Row {
    Row {
        measure: format!("10. {INVITES_PER_CALL} private invites mailed to a local SMTP sink"),
        clients: "1".into(),
        throughput: format!(
            "{:.0} mail/s",
            figures.messages as f64 / figures.all_accepted.as_secs_f64()
        ),
        p50: String::new(),
        p99: String::new(),
        notes: format!(
            "all accepted {} after the request (answered in {}); {} SMTP connections",
            millis(figures.all_accepted),
            millis(figures.answered),
            figures.connections
        ),
        ..Row::default()
    }
}
