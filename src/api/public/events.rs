//! Server-Sent Events: `GET /api/v1/sites/{site}/events?uri=` for one thread's readers (the
//! moderation queue's stream is `api/moderator/events.rs`). It works across nodes because the
//! hub is fed by Postgres NOTIFY, whichever node the change came through.

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::comments::store;
use crate::domain::ThreadUri;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::RouteSite;
use crate::http::streams::{StreamSlot, bounded, keepalive, retry_hint};
use crate::notify::hub::LiveEvent;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct EventsParams {
    uri: Option<String>,
}

/// Live updates of one thread (Server-Sent Events).
///
/// A `text/event-stream` that stays open. It starts with `retry: 3000` (`streams.reconnect_ms`: how soon to reconnect
/// after a drop, in ms) and sends a `: keepalive` comment line every 20 s (`streams.keepalive_s`) while nothing happens.
/// It ends after at most `streams.max_lifetime_s` (default 30 minutes) with a `retry:` hint,
/// and the browser reconnects. One client IP (IPv6: one /64) holds at most `streams.per_ip`
/// streams at once (then 429), and a node `streams.per_node` (then 503). Events:
///
/// - `comment`: a comment of this thread was published or edited while published. `data` is
///   the comment as the thread shows it to anonymous readers (a `CommentView`, without
///   `status`).
/// - `deleted`: a comment left public view (deleted, held back for review, rejected...).
///   `data` is `{"id": "<comment id>"}`: drop it if it is shown.
///
/// A thread that doesn't exist yet is watched too: its first published comment arrives as a
/// `comment` event. Pending comments are never announced.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{site}/events",
    tag = "comments",
    params(
        ("site" = String, Path, description = "The site's slug."),
        ("uri" = String, Query, description = "The page's path on the site, as for `/thread`.", example = "/2013/02/26/kerry-lavrov/")
    ),
    responses(
        (status = 200, description = "The event stream: `event: comment` (data: a comment object) and `event: deleted` (data: `{\"id\": ...}`).",
            content_type = "text/event-stream", body = String,
            example = json!("retry: 3000\n\nevent: comment\ndata: {\"id\":\"0190...\",\"html\":\"<p>Hi</p>\",...}\n\nevent: deleted\ndata: {\"id\":\"0190...\"}\n\n")),
        (status = 400, description = "`validation_failed`: a missing or malformed `uri`.", body = ErrorBody)
    )
)]
pub async fn thread_events(
    slot: StreamSlot,
    state: web::Data<AppState>,
    RouteSite(site): RouteSite,
    params: web::Query<EventsParams>,
) -> ApiResult<HttpResponse> {
    let uri = ThreadUri::parse(
        params.uri.as_deref().unwrap_or(""),
        state.settings.limits.uri_max_chars,
    )
    .map_err(|e| ApiError::validation("uri", e))?;
    let rx = state.hub.subscribe();
    let keepalive = keepalive(&state);
    let hint = retry_hint(&state);
    let thread_id = store::find_thread(&state.db.pool, site.id, uri.as_str())
        .await?
        .map(|t| t.id);
    let site_id = site.id;
    let uri: std::sync::Arc<str> = uri.as_str().into();

    // The thread may not exist yet: its first comment creates it. Events name their comment's
    // site and uri, so the stream recognizes that comment, and learns the thread's id, without
    // a query: a reader of a page nobody commented on costs nothing per event.
    let stream = futures_util::stream::unfold(
        (rx, thread_id, true),
        move |(mut rx, mut thread_id, first)| {
            let uri = uri.clone();
            let hint = hint.clone();
            async move {
                if first {
                    // Tells the client how soon to reconnect after a drop.
                    return Some((
                        Ok::<_, actix_web::Error>(hint.clone()),
                        (rx, thread_id, false),
                    ));
                }
                loop {
                    let next = tokio::time::timeout(keepalive, rx.recv()).await;
                    let event: LiveEvent = match next {
                        Err(_) => {
                            return Some((
                                Ok(Bytes::from_static(b": keepalive\n\n")),
                                (rx, thread_id, false),
                            ));
                        }
                        Ok(Err(RecvError::Lagged(_))) => continue,
                        Ok(Err(RecvError::Closed)) => return None,
                        Ok(Ok(e)) => e,
                    };
                    if thread_id.is_none()
                        && let Some((site, place_uri)) = &event.place
                        && *site == site_id
                        && **place_uri == *uri
                    {
                        thread_id = Some(event.thread_id);
                    }
                    if thread_id == Some(event.thread_id) {
                        let frame = format!("event: {}\ndata: {}\n\n", event.name, event.data);
                        return Some((Ok(Bytes::from(frame)), (rx, thread_id, false)));
                    }
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/event-stream"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(bounded(stream, slot, &state.settings.streams)))
}
