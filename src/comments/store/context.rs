//! What a submit reads before its write transaction, in one round trip
//! (`colloquy_submit_context`, migration `pipeline_facts`).

use sqlx::{FromRow, PgPool};
use uuid::Uuid;

use super::StoredResponse;
use crate::moderation::store::{Facts, FactsQuery};

/// The submit's Idempotency-Key, by the author it belongs to.
pub struct ContextKey<'a> {
    pub author: &'a str,
    pub key: &'a str,
}

/// What the database knows about a submit before it is judged.
pub enum SubmitContext {
    /// The key's stored answer: the request is a replay; nothing else was read.
    Replay(StoredResponse),
    Fresh(Box<Fresh>),
}

/// A new request's context.
pub struct Fresh {
    /// The uri's thread, if it has one.
    pub thread: Option<KnownThread>,
    /// The author's user: the session's, or a returning guest's (None for a guest's first
    /// comment).
    pub user_id: Option<Uuid>,
    pub facts: Facts,
}

pub struct KnownThread {
    pub id: Uuid,
    pub locked: bool,
    /// Its title or url is still unknown: a comment that brings one fills it in.
    pub untitled: bool,
    pub without_url: bool,
}

impl KnownThread {
    /// Whether a comment bringing a title and/or url would fill in what the thread lacks.
    pub fn fills_in(&self, title: bool, url: bool) -> bool {
        (self.untitled && title) || (self.without_url && url)
    }
}

#[derive(FromRow)]
struct Row {
    idem_hash: Option<String>,
    idem_status: Option<i16>,
    idem_body: Option<serde_json::Value>,
    thread_id: Option<Uuid>,
    thread_locked: Option<bool>,
    thread_untitled: Option<bool>,
    thread_without_url: Option<bool>,
    user_id: Option<Uuid>,
    /// Neutral values on a replay (see the function).
    #[sqlx(flatten)]
    facts: Facts,
}

/// Reads a submit's context. `q.user_id` is the session's user; a guest is looked up by
/// `guest_subject`, and the facts are those of the user found and of the uri's thread.
pub async fn submit_context(
    pool: &PgPool,
    uri: &str,
    key: Option<&ContextKey<'_>>,
    guest_subject: Option<&str>,
    q: &FactsQuery<'_>,
) -> Result<SubmitContext, sqlx::Error> {
    let row: Row = sqlx::query_as(
        "SELECT * FROM colloquy_submit_context($1, $2, $3, $4, $5, $6, $7, $8::inet, $9::inet, $10, $11, $12, $13, $14)",
    )
    .bind(q.site_id)
    .bind(uri)
    .bind(key.map(|k| k.author))
    .bind(key.map(|k| k.key))
    .bind(guest_subject)
    .bind(q.user_id)
    .bind(q.email)
    .bind(q.ip.map(ipnet::IpNet::from))
    .bind(q.ip.map(crate::domain::client::client_net))
    .bind(q.body)
    .bind(q.duplicate_window_s as f64)
    .bind(q.user_cap)
    .bind(q.ip_cap)
    .bind(q.guest_cap)
    .fetch_one(pool)
    .await?;
    if let (Some(request_hash), Some(response_status), Some(response_body)) =
        (row.idem_hash, row.idem_status, row.idem_body)
    {
        return Ok(SubmitContext::Replay(StoredResponse {
            request_hash,
            response_status,
            response_body,
        }));
    }
    Ok(SubmitContext::Fresh(Box::new(Fresh {
        thread: row.thread_id.map(|id| KnownThread {
            id,
            locked: row.thread_locked.unwrap_or(false),
            untitled: row.thread_untitled.unwrap_or(false),
            without_url: row.thread_without_url.unwrap_or(false),
        }),
        user_id: row.user_id,
        facts: row.facts,
    })))
}
