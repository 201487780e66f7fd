//! Change announcements relayed after commit, for the hot write paths.
//!
//! Why: a transaction that calls `pg_notify` takes Postgres's notify lock when it commits and
//! holds it through the commit's WAL flush, so notifying commits run one at a time (no group
//! commit): a submit's throughput was bounded by one fsync after another. A transaction opened
//! with [`begin`] asks the triggers to defer (migration `deferred_notify`): they append their
//! announcements to a transaction-local setting instead. [`commit`] reads them, commits, and
//! hands them to the node's [`Relay`], which sends whatever has gathered as one statement from
//! one connection. Every other writer (other code paths, psql, an import) is announced by the
//! triggers as before.
//!
//! What it costs: other nodes hear of a change one relay round trip later than before (the
//! node that wrote it invalidates its own caches before it answers). If the node dies between
//! its commit and the relay, the announcement is lost: caches elsewhere then serve the old page
//! until their backstop expiry (`thread_cache::TTL`), and live streams miss that comment.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres, Transaction};
use tokio::sync::mpsc;

/// Opens a transaction whose trigger announcements wait for [`commit`].
pub async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    // One round trip: the simple-query protocol runs both statements.
    pool.begin_with("BEGIN; SET LOCAL colloquy.defer_notify = on")
        .await
}

/// Commits a transaction from [`begin`], then relays what its triggers announced.
pub async fn commit(
    mut tx: Transaction<'static, Postgres>,
    relay: &Relay,
) -> Result<(), sqlx::Error> {
    let notes = take(&mut tx).await?;
    tx.commit().await?;
    relay.send(notes);
    Ok(())
}

/// The announcements the transaction's triggers deferred so far.
async fn take(conn: &mut PgConnection) -> Result<Vec<Note>, sqlx::Error> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT current_setting('colloquy.deferred_notes', true)")
            .fetch_one(conn)
            .await?;
    Ok(parse(text.as_deref().unwrap_or("")))
}

/// One announcement: a channel and its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub channel: String,
    pub payload: String,
}

/// `channel<TAB>payload` lines, as `colloquy_announce` writes them. Payloads are uuids and
/// JSON text, which never hold a raw tab or newline.
fn parse(text: &str) -> Vec<Note> {
    text.lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(channel, payload)| Note {
            channel: channel.to_owned(),
            payload: payload.to_owned(),
        })
        .collect()
}

/// The node's sender of deferred announcements. Until [`Relay::start`] runs (the CLI, some
/// tests) each batch is sent on its own from a spawned task.
#[derive(Clone)]
pub struct Relay {
    pool: PgPool,
    queue: Arc<OnceLock<mpsc::UnboundedSender<Vec<Note>>>>,
}

impl Relay {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            queue: Arc::default(),
        }
    }

    /// Starts the node's relay task; a second call does nothing.
    pub fn start(&self) {
        let (tx, rx) = mpsc::unbounded_channel();
        if self.queue.set(tx).is_ok() {
            tokio::spawn(run(self.pool.clone(), rx));
        }
    }

    fn send(&self, notes: Vec<Note>) {
        if notes.is_empty() {
            return;
        }
        match self.queue.get() {
            Some(queue) => {
                if let Err(mpsc::error::SendError(notes)) = queue.send(notes) {
                    // The task is gone (the runtime is shutting down): send this one directly.
                    tokio::spawn(send_now(self.pool.clone(), notes));
                }
            }
            None => {
                tokio::spawn(send_now(self.pool.clone(), notes));
            }
        }
    }
}

/// Sends batches as they come: whatever gathered while the previous one was on the wire goes
/// out together, so under load one statement carries many commits' announcements.
async fn run(pool: PgPool, mut rx: mpsc::UnboundedReceiver<Vec<Note>>) {
    let mut batch = Vec::new();
    while let Some(first) = rx.recv().await {
        batch.extend(first);
        while let Ok(more) = rx.try_recv() {
            batch.extend(more);
        }
        let mut delay = Duration::from_millis(50);
        // A dropped connection or a restarting server: retry a few times, then give up on
        // this batch (the caches' backstop expiry bounds what a lost announcement costs).
        for attempt in 1..=5 {
            match notify(&pool, &batch).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, notes = batch.len(), "relaying change announcements failed");
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
            }
        }
        batch.clear();
    }
}

async fn send_now(pool: PgPool, notes: Vec<Note>) {
    if let Err(e) = notify(&pool, &notes).await {
        tracing::warn!(error = %e, notes = notes.len(), "relaying change announcements failed");
    }
}

/// One statement, one short transaction. Its commit needn't wait for the disk: a notification
/// is not durable state, and a crash loses it either way.
async fn notify(pool: &PgPool, notes: &[Note]) -> Result<(), sqlx::Error> {
    let (channels, payloads): (Vec<&str>, Vec<&str>) = notes
        .iter()
        .map(|n| (n.channel.as_str(), n.payload.as_str()))
        .unzip();
    let mut tx = pool
        .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
        .await?;
    sqlx::query("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS n(c, p)")
        .bind(&channels)
        .bind(&payloads)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_trigger_appends() {
        let notes = parse("colloquy_threads\ta:b\ncolloquy_queue\ts queued {\"id\": 1}\n");
        assert_eq!(
            notes,
            vec![
                Note {
                    channel: "colloquy_threads".into(),
                    payload: "a:b".into()
                },
                Note {
                    channel: "colloquy_queue".into(),
                    payload: "s queued {\"id\": 1}".into()
                },
            ]
        );
        assert!(parse("").is_empty());
    }
}
