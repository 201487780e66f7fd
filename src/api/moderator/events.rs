//! Server-Sent Events: `GET /api/mod/v1/sites/{site}/events` for a site's moderation queue. It
//! works across nodes because the hub is fed by Postgres NOTIFY, whichever node the change came
//! through; the caller's role is re-checked before every event, so a revoked caller's stream ends.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use tokio::sync::broadcast::error::RecvError;

use crate::auth::moderators::Moderator;
use crate::error::{ApiResult, ErrorBody};
use crate::http::streams::{StreamSlot, bounded, keepalive, retry_hint};
use crate::notify::hub::QueueEvent;
use crate::state::AppState;

/// Live updates of a site's moderation queue (Server-Sent Events).
///
/// A `text/event-stream` that stays open, whichever node a change came through. It starts with
/// `retry: 3000` (reconnect delay, ms) and sends a `: keepalive` comment line every 20 s
/// (`streams.keepalive_s`) while nothing happens. Like readers' streams it ends after at most `streams.max_lifetime_s` with a
/// `retry:` hint, and counts against the same per-IP and per-node caps (429, 503). The caller's role on the site is checked when the stream opens and again
/// before every event and keepalive: once the session is logged out or expired, the token
/// revoked, or the moderator removed from the site, the stream ends. Events
/// (`data` is JSON; times are RFC 3339 UTC):
///
/// - `queued`: a comment entered the pending or spam queue (posted so, or moved there):
///   `{"id", "thread_id", "status"}`.
/// - `resolved`: a comment left the pending or spam queue (approved, rejected, deleted, or
///   moved to the other queue): `{"id", "from", "status"}` (old and new status).
/// - `claimed`: a moderator leased a queue item: `{"id", "claimed_by": {"id", "email"},
///   "claimed_until"}`.
/// - `released`: a lease ended (released, or the item was decided): `{"id", "moderator_id"}`.
#[utoipa::path(
    get,
    path = "/api/mod/v1/sites/{site}/events",
    tag = "moderation",
    params(("site" = String, Path, description = "The site's slug.")),
    security(("moderator" = [])),
    responses(
        (status = 200, description = "The event stream: `queued`, `resolved`, `claimed` and `released` events with JSON data.",
            content_type = "text/event-stream", body = String,
            example = json!("retry: 3000\n\nevent: queued\ndata: {\"id\":\"0190...\",\"thread_id\":\"0190...\",\"status\":\"pending\"}\n\n")),
        (status = 404, description = "Unknown site, or one the caller holds no role on (`not_found`).", body = ErrorBody)
    )
)]
pub async fn queue_events(
    slot: StreamSlot,
    state: web::Data<AppState>,
    moderator: Moderator,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let scope = moderator.scope(&path)?;
    let site_id = scope.site_id();
    let rx = state.hub.subscribe_queue();
    let keepalive = keepalive(&state);
    let hint = retry_hint(&state);
    let (moderator_id, credential) = (moderator.id, moderator.credential);
    let pool = state.db.pool.clone();
    // Before each event and keepalive: does the caller still hold this site? A database error
    // keeps the stream (nothing flows while it is down anyway).
    let allowed = move || {
        let pool = pool.clone();
        async move {
            crate::auth::moderators::store::still_holds(&pool, credential, moderator_id, site_id)
                .await
                .unwrap_or(true)
        }
    };
    let stream = futures_util::stream::unfold((rx, true), move |(mut rx, first)| {
        let allowed = allowed.clone();
        let hint = hint.clone();
        async move {
            if first {
                return Some((Ok::<_, actix_web::Error>(hint.clone()), (rx, false)));
            }
            loop {
                let event: QueueEvent = match tokio::time::timeout(keepalive, rx.recv()).await {
                    Err(_) => {
                        if !allowed().await {
                            return None;
                        }
                        return Some((Ok(Bytes::from_static(b": keepalive\n\n")), (rx, false)));
                    }
                    Ok(Err(RecvError::Lagged(_))) => continue,
                    Ok(Err(RecvError::Closed)) => return None,
                    Ok(Ok(e)) => e,
                };
                if event.site_id == site_id {
                    if !allowed().await {
                        return None;
                    }
                    let frame = format!("event: {}\ndata: {}\n\n", event.name, event.data);
                    return Some((Ok(Bytes::from(frame)), (rx, false)));
                }
            }
        }
    });
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(bounded(stream, slot, &state.settings.streams)))
}
