use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::comments::store;
use crate::comments::view::CommentView;
use crate::db::Db;
use crate::domain::CommentStatus;
use crate::thread_cache::ThreadCache;

pub const CHANNEL: &str = "colloquy_threads";
/// Moderation queue events (`<site id> <event> <json>`), from triggers on comments and claims.
pub const QUEUE_CHANNEL: &str = "colloquy_queue";

/// A live event for readers of one thread, already serialized once for every stream.
#[derive(Clone, Debug)]
pub struct LiveEvent {
    pub thread_id: Uuid,
    /// The comment's site and thread uri, when it still exists (not for a hard delete).
    pub place: Option<(Uuid, Arc<str>)>,
    /// `comment` (newly approved or edited) or `deleted` (gone from public view).
    pub name: &'static str,
    pub data: Arc<str>,
}

/// A moderation queue event for one site's moderators, already serialized by the trigger.
#[derive(Clone, Debug)]
pub struct QueueEvent {
    pub site_id: Uuid,
    /// `queued`, `resolved`, `claimed` or `released`.
    pub name: Arc<str>,
    pub data: Arc<str>,
}

#[derive(Clone)]
pub struct Hub {
    events: broadcast::Sender<LiveEvent>,
    queue: broadcast::Sender<QueueEvent>,
}

impl Default for Hub {
    fn default() -> Self {
        // A slow stream that falls this far behind skips events (and the widget catches up on
        // its next load) rather than holding memory for it.
        let (events, _) = broadcast::channel(1024);
        let (queue, _) = broadcast::channel(1024);
        Self { events, queue }
    }
}

impl Hub {
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.events.subscribe()
    }

    /// Moderation queue events of every site (streams keep their own site's).
    pub fn subscribe_queue(&self) -> broadcast::Receiver<QueueEvent> {
        self.queue.subscribe()
    }

    /// Listens for the life of the process, reconnecting after a drop; keeps the thread cache
    /// on only while connected.
    pub async fn listen(self, db: Db, cache: ThreadCache) {
        loop {
            if !db.is_migrated() {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            if let Err(e) = self.listen_once(&db, &cache).await {
                tracing::warn!(error = %e, "change listener lost; thread cache off until it reconnects");
            }
            cache.set_enabled(false);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn listen_once(&self, db: &Db, cache: &ThreadCache) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(&db.pool).await?;
        // One connection per node for both channels.
        listener.listen_all([CHANNEL, QUEUE_CHANNEL]).await?;
        cache.set_enabled(true);
        // `None` means the connection dropped: return, so the caller turns the cache off.
        while let Some(n) = listener.try_recv().await? {
            let payload = n.payload();
            if n.channel() == QUEUE_CHANNEL {
                self.publish_queue(payload);
                continue;
            }
            let (thread, comment) = payload.split_once(':').unwrap_or((payload, ""));
            let Ok(thread_id) = Uuid::parse_str(thread) else {
                cache.set_enabled(true);
                continue;
            };
            cache.invalidate(thread_id);
            if let Ok(comment_id) = Uuid::parse_str(comment)
                && self.events.receiver_count() > 0
            {
                self.publish(db, thread_id, comment_id).await;
            }
        }
        Ok(())
    }

    /// Hands a queue event to every moderator stream; nothing is read, the trigger wrote it all.
    fn publish_queue(&self, payload: &str) {
        if self.queue.receiver_count() == 0 {
            return;
        }
        let mut parts = payload.splitn(3, ' ');
        let (Some(site), Some(name), Some(data)) = (parts.next(), parts.next(), parts.next())
        else {
            tracing::warn!("malformed queue notification");
            return;
        };
        let Ok(site_id) = Uuid::parse_str(site) else {
            tracing::warn!("malformed queue notification");
            return;
        };
        let _ = self.queue.send(QueueEvent {
            site_id,
            name: name.into(),
            data: data.into(),
        });
    }

    /// Reads the changed comment once and hands the event to every stream.
    async fn publish(&self, db: &Db, thread_id: Uuid, comment_id: Uuid) {
        let event = match store::public_comment(&db.pool, comment_id).await {
            Ok(Some(c)) if c.comment.status == CommentStatus::Approved => {
                serde_json::to_string(&CommentView::new(&c.comment, None, c.replies as usize))
                    .ok()
                    .map(|data| LiveEvent {
                        thread_id,
                        place: Some((c.site_id, c.thread_uri.into())),
                        name: "comment",
                        data: data.into(),
                    })
            }
            // Never published (a new pending comment): nothing to tell readers, not even its id.
            Ok(Some(c)) if !c.ever_public => None,
            // Deleted, held, rejected or gone: readers drop it if they show it.
            Ok(c) => Some(LiveEvent {
                thread_id,
                place: c.map(|c| (c.site_id, c.thread_uri.into())),
                name: "deleted",
                data: serde_json::json!({ "id": comment_id }).to_string().into(),
            }),
            Err(e) => {
                tracing::warn!(error = %e, "could not read a changed comment for live updates");
                None
            }
        };
        if let Some(event) = event {
            let _ = self.events.send(event);
        }
    }
}
