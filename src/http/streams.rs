//! A stream handler's slot (taken before the handler runs, or 429/503) and the lifetime bound
//! every stream runs under; the counters themselves are in `limiter`.

use std::future::{Ready, ready};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{FromRequest, HttpRequest};
use futures_util::{Stream, StreamExt};

use crate::config::StreamSettings;
use crate::domain::client::ClientInfo;
use crate::error::ApiError;
use crate::notify::limiter::Refused;
pub use crate::notify::limiter::StreamSlot;
use crate::state::AppState;

/// A stream handler's slot: taken before the handler runs, or the request is answered 429
/// (`rate_limited`: this client holds its share) or 503 (`unavailable`: the node is full), each
/// with `Retry-After`.
impl FromRequest for StreamSlot {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<Data<AppState>>() else {
            return ready(Err(ApiError::internal(anyhow::anyhow!(
                "no application state"
            ))));
        };
        let client = ClientInfo::of(req, &state.settings.server.trusted_proxies);
        let retry_after = state.settings.streams.retry_after_s;
        ready(
            state
                .streams
                .try_acquire(client.ip)
                .map_err(|refused| refusal(refused, retry_after)),
        )
    }
}

fn refusal(refused: Refused, retry_after_s: u64) -> ApiError {
    match refused {
        Refused::Client => ApiError::rate_limited(
            "Too many live-update streams are open from your network; close some and try again.",
            retry_after_s,
        ),
        Refused::Node => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "This server holds as many live-update streams as it can; try again shortly.",
        )
        .with_retry_after(retry_after_s),
    }
}

/// Bounds an event stream: it holds `slot` while it runs and ends after its lifetime
/// (`max_lifetime` minus up to 10 % jitter) with a `retry:` hint, after which the browser's
/// EventSource reconnects.
pub fn bounded<S>(
    events: S,
    slot: StreamSlot,
    settings: &StreamSettings,
) -> impl Stream<Item = Result<Bytes, actix_web::Error>> + 'static
where
    S: Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
{
    let lifetime = jittered(Duration::from_secs(settings.max_lifetime_s));
    let deadline = tokio::time::Instant::now() + lifetime;
    let farewell = Bytes::from(format!(
        ": this stream's time is up; reconnect\nretry: {}\n\n",
        settings.reconnect_ms
    ));
    futures_util::stream::unfold(
        (Box::pin(events), Some(slot), farewell),
        move |(mut events, slot, farewell)| async move {
            // The slot is dropped with this state once the stream ends or is dropped.
            let slot = slot?;
            tokio::select! {
                next = events.next() => next.map(|item| (item, (events, Some(slot), farewell))),
                () = tokio::time::sleep_until(deadline) => {
                    drop(slot);
                    Some((Ok(farewell.clone()), (events, None, farewell)))
                }
            }
        },
    )
}

/// `max` minus a random 0–10 %, so streams opened together don't all end together.
fn jittered(max: Duration) -> Duration {
    let tenth = max.as_millis() as u64 / 10;
    if tenth == 0 {
        return max;
    }
    max.saturating_sub(Duration::from_millis(rand::random_range(0..=tenth)))
}

/// How often an idle stream sends a comment line (`streams.keepalive_s`): it keeps proxies from
/// closing the stream, and writing it is how a client that went away is noticed (and its
/// stream's slot freed).
/// The first bytes of every stream: how soon to reconnect after a drop
/// (`streams.reconnect_ms`, the same hint a stream sends when its lifetime ends).
pub fn retry_hint(state: &AppState) -> Bytes {
    Bytes::from(format!(
        "retry: {}\n\n",
        state.settings.streams.reconnect_ms
    ))
}

pub fn keepalive(state: &AppState) -> Duration {
    Duration::from_secs(state.settings.streams.keepalive_s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_jittered_down_never_up() {
        let max = Duration::from_secs(1800);
        for _ in 0..100 {
            let l = jittered(max);
            assert!(l <= max && l >= max - max / 10, "{l:?}");
        }
        assert_eq!(jittered(Duration::ZERO), Duration::ZERO);
    }
}
