//! Reading a thread: a page of visible comments arranged into their reply trees (cached for
//! anonymous first pages), and comment counts of several pages.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Cursor;
use super::store::{self, CommentRow};
use super::view::{CommentView, ThreadPage, ThreadView};
use crate::domain::{CommentStatus, SortOrder, ThreadUri};
use crate::error::{ApiError, ApiResult};
use crate::sites::Site;
use crate::thread_cache::{Page, PageKey, ThreadCache};

pub struct ThreadQuery {
    pub uri: ThreadUri,
    pub sort: SortOrder,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    pub viewer: Option<Uuid>,
}

/// A page of a thread: `limit` top-level comments with their whole visible reply trees, so a
/// conversation is never split across pages. Replies are always oldest first. Anonymous reads
/// are served from the node's thread cache when it holds a current page.
pub async fn read_thread(
    pool: &sqlx::PgPool,
    cache: &ThreadCache,
    site: &Site,
    q: &ThreadQuery,
) -> ApiResult<Page> {
    // Only first pages are cached: a cursor is client-chosen, so caching by cursor would let
    // anyone fill memory with copies of a big page under made-up cursors.
    let key = (q.viewer.is_none() && q.cursor.is_none()).then(|| PageKey {
        site_id: site.id,
        uri: q.uri.as_str().to_owned(),
        sort: q.sort,
        limit: q.limit,
        cursor: q.cursor.as_ref().map(Cursor::encode),
    });
    if let Some(page) = key.as_ref().and_then(|k| cache.get(k)) {
        return Ok(page);
    }
    let _flight = match &key {
        Some(k) => {
            let flight = cache.flight(k).await;
            if let Some(page) = cache.get(k) {
                return Ok(page);
            }
            flight
        }
        None => None,
    };
    let Some(thread) = store::find_thread(pool, site.id, q.uri.as_str()).await? else {
        let page = ThreadPage {
            thread: ThreadView::new(q.uri.as_str(), None, 0),
            comments: vec![],
            next_cursor: None,
        };
        return to_page(&page);
    };
    let ticket = key.as_ref().and_then(|_| cache.ticket(thread.id));
    let (roots, count) = tokio::try_join!(
        store::roots_page(
            pool,
            thread.id,
            q.viewer,
            q.sort,
            q.cursor.as_ref(),
            i64::from(q.limit)
        ),
        store::approved_count(pool, thread.id),
    )?;
    let (roots, next_cursor) = split_page(roots, q);
    let root_ids: Vec<Uuid> = roots.iter().map(|r| r.id).collect();
    let replies = if root_ids.is_empty() {
        vec![]
    } else {
        store::replies(pool, &root_ids, q.viewer).await?
    };
    let ordered = arrange(roots, replies);
    let comments = views(pool, &ordered, q.viewer).await?;
    let page = to_page(&ThreadPage {
        thread: ThreadView::new(q.uri.as_str(), Some(&thread), count),
        comments,
        next_cursor,
    })?;
    if let (Some(key), Some(ticket)) = (key, ticket) {
        cache.put(key, ticket, page.clone());
    }
    Ok(page)
}

/// The page's roots (the extra row fetched to learn whether more exist dropped), and the
/// cursor of the next page if there is one.
fn split_page(mut roots: Vec<CommentRow>, q: &ThreadQuery) -> (Vec<CommentRow>, Option<String>) {
    if roots.len() <= q.limit as usize {
        return (roots, None);
    }
    roots.truncate(q.limit as usize);
    let next = roots.last().map(|last| {
        Cursor {
            sort: q.sort,
            created_at: last.created_at,
            id: last.id,
            score: last.score,
        }
        .encode()
    });
    (roots, next)
}

/// The arranged comments as the viewer sees them, each with its count of visible replies; the
/// author also sees how their appeals ended (never cached: a viewer's page isn't).
async fn views<'a>(
    pool: &sqlx::PgPool,
    ordered: &'a [CommentRow],
    viewer: Option<Uuid>,
) -> ApiResult<Vec<CommentView<'a>>> {
    let mut children: HashMap<Uuid, usize> = HashMap::new();
    for c in ordered {
        if let Some(p) = c.parent_id {
            *children.entry(p).or_default() += 1;
        }
    }
    let mut comments: Vec<CommentView> = ordered
        .iter()
        .map(|c| CommentView::new(c, viewer, children.get(&c.id).copied().unwrap_or(0)))
        .collect();
    let Some(viewer) = viewer else {
        return Ok(comments);
    };
    let own: Vec<Uuid> = ordered
        .iter()
        .filter(|c| c.user_id == viewer)
        .map(|c| c.id)
        .collect();
    if !own.is_empty() {
        let mut outcomes: HashMap<Uuid, _> =
            crate::moderation::appeals::outcomes(pool, viewer, &own)
                .await?
                .into_iter()
                .map(|o| (o.comment_id, o))
                .collect();
        for c in &mut comments {
            c.appeal = outcomes.remove(&c.id);
        }
    }
    Ok(comments)
}

fn to_page(page: &ThreadPage<'_>) -> ApiResult<Page> {
    let body = serde_json::to_vec(page).map_err(ApiError::internal)?;
    let digest = Sha256::digest(&body);
    let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]));
    Ok(Page {
        body: body.into(),
        etag,
    })
}

/// Roots in page order, each followed by its visible replies; a reply whose parent is hidden
/// (someone else's pending comment) is hidden too, so no orphan appears. A deleted comment is
/// kept, as a placeholder, only while a visible comment hangs below it.
fn arrange(roots: Vec<CommentRow>, replies: Vec<CommentRow>) -> Vec<CommentRow> {
    let mut by_root: HashMap<Uuid, Vec<CommentRow>> = HashMap::new();
    for r in replies {
        by_root.entry(r.root_id).or_default().push(r);
    }
    let mut out = Vec::with_capacity(roots.len());
    for root in roots {
        let mut reachable: HashSet<Uuid> = HashSet::from([root.id]);
        let mut tree = vec![root];
        for reply in by_root.remove(&tree[0].id).unwrap_or_default() {
            if reply.parent_id.is_some_and(|p| reachable.contains(&p)) {
                reachable.insert(reply.id);
                tree.push(reply);
            }
        }
        // Children come after their parent, so walking backwards settles every child first.
        let mut keep = vec![false; tree.len()];
        let mut has_kept_child: HashSet<Uuid> = HashSet::new();
        for (i, c) in tree.iter().enumerate().rev() {
            keep[i] = c.status != CommentStatus::Deleted || has_kept_child.contains(&c.id);
            if keep[i]
                && let Some(p) = c.parent_id
            {
                has_kept_child.insert(p);
            }
        }
        out.extend(
            tree.into_iter()
                .zip(keep)
                .filter_map(|(c, k)| k.then_some(c)),
        );
    }
    out
}

/// Approved comment counts for up to `limits.counts_max_uris` pages; unknown pages count 0.
/// Counts come from the node's cache when every asked page is there (a page view's widget
/// asks again and again while nothing changes), else from one query whose answer is kept.
pub async fn counts(
    pool: &sqlx::PgPool,
    cache: &ThreadCache,
    site: &Site,
    uris: &[ThreadUri],
) -> ApiResult<Value> {
    // In the order of `uris`, from the cache or else from the database.
    let cached: Option<Vec<i64>> = uris
        .iter()
        .map(|u| cache.count(site.id, u.as_str()))
        .collect();
    let counts = match cached {
        Some(counts) => counts,
        None => {
            let ticket = cache.count_ticket();
            let keys: Vec<String> = uris.iter().map(|u| u.as_str().to_owned()).collect();
            let read: HashMap<String, (uuid::Uuid, i64)> = store::counts(pool, site.id, &keys)
                .await?
                .into_iter()
                .map(|(uri, thread_id, n)| (uri, (thread_id, n)))
                .collect();
            let found: Vec<(Option<uuid::Uuid>, i64)> = keys
                .iter()
                .map(|k| read.get(k).map_or((None, 0), |&(t, n)| (Some(t), n)))
                .collect();
            if let Some(ticket) = ticket {
                cache.put_counts(
                    site.id,
                    ticket,
                    keys.into_iter()
                        .zip(&found)
                        .map(|(uri, &(thread, n))| (uri, thread, n)),
                );
            }
            found.into_iter().map(|(_, n)| n).collect()
        }
    };
    let map: serde_json::Map<String, Value> = uris
        .iter()
        .zip(counts)
        .map(|(u, n)| (u.as_str().to_owned(), Value::from(n)))
        .collect();
    Ok(Value::Object(map))
}
