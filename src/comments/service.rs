//! What happens when a comment is posted (reading a thread is `thread`).

use actix_web::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::store::{self, CommentRow, NewComment};
use super::view::{CommentView, PostedComment};
use crate::auth::sessions::SessionUser;
use crate::domain::client::ClientInfo;
use crate::domain::{
    CommentBody, CommentStatus, DisplayName, Email, GuestKey, IdempotencyKey, ThreadTitle,
    ThreadUri, WebUrl,
};
use crate::error::{ApiError, ApiResult};
use crate::markdown as render;
use crate::moderation::pipeline::{self, Env, Submission, Verdict};
use crate::sites::Site;
use crate::thread_cache::ThreadCache;

/// Who is posting.
pub enum Author {
    /// A guest is known by email and key together: the same email with another key, or none,
    /// is another guest. Without a key every comment is a one-off guest's.
    Guest {
        name: DisplayName,
        email: Email,
        website: Option<WebUrl>,
        key: Option<GuestKey>,
    },
    /// A logged-in commenter: name, avatar and profile come from their provider.
    User(SessionUser),
}

impl Author {
    /// Stable key of this author for idempotency: never the raw email.
    fn key(&self, site: &Site) -> String {
        match self {
            Author::Guest {
                email,
                key: Some(key),
                ..
            } => format!("guest:{}", sha256_b64(&guest_subject(site, email, key))),
            // Retries of a keyless guest (an API client) still replay; its comments don't
            // share an author.
            Author::Guest {
                email, key: None, ..
            } => format!(
                "guest-once:{}",
                sha256_b64(&format!("{}:{}", site.id, email.identity_key()))
            ),
            Author::User(u) => format!("user:{}", u.user_id),
        }
    }
}

/// The guest identity of an email and key on a site: only the key's SHA-256 is stored.
/// (Identities from before guest keys, `{site}:{email}`, were renamed `legacy:…` by a
/// migration: nobody can claim them by typing the email.)
fn guest_subject(site: &Site, email: &Email, key: &GuestKey) -> String {
    format!(
        "{}:{}:{}",
        site.id,
        email.identity_key(),
        sha256_b64(key.as_str())
    )
}

/// A keyless guest's identity: new with every comment, so it can be nobody else's.
fn one_off_guest_subject(site: &Site, email: &Email) -> String {
    format!(
        "{}:{}:once:{}",
        site.id,
        email.identity_key(),
        Uuid::new_v4().simple()
    )
}

pub fn sha256_b64(s: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(s.as_bytes()))
}

pub struct SubmitInput {
    pub uri: ThreadUri,
    pub title: Option<ThreadTitle>,
    pub url: Option<WebUrl>,
    pub parent_id: Option<Uuid>,
    pub body: CommentBody,
    pub author: Author,
}

/// The outcome of a submit: the response to send, and whether it replays an earlier one.
pub struct Submitted {
    pub status: StatusCode,
    pub body: Value,
    pub replayed: bool,
}

/// Posts a comment, going down the layers once: one read of everything the database knows
/// (the key's stored answer, the thread, a returning guest, the pipeline's facts), render
/// (once), the moderation pipeline (outside any transaction: it may call a spam service), then
/// one transaction that creates the thread and guest user if needed, stores the comment and
/// its audit row, and remembers the idempotent response; then the thread cache is invalidated.
/// A refused comment leaves nothing behind.
pub async fn submit(
    env: &Env<'_>,
    cache: &ThreadCache,
    site: &Site,
    input: SubmitInput,
    client: &ClientInfo,
    idempotency: Option<(IdempotencyKey, String)>,
) -> ApiResult<Submitted> {
    let author_key = input.author.key(site);
    let keyed = idempotency.as_ref().map(|(key, hash)| Keyed {
        author: &author_key,
        key: key.as_str(),
        hash,
    });
    let mut facts = AuthorFacts::of(&input.author);
    let html = render::render(input.body.as_str());
    let mut submission = Submission {
        site,
        user_id: facts.known_user,
        guest: matches!(input.author, Author::Guest { .. }),
        email: facts.email,
        ip: client.ip,
        user_agent: client.user_agent.as_deref(),
        author_name: facts.name,
        author_url: facts.profile_url,
        // Filled in from the context below.
        thread_id: None,
        thread_locked: false,
        permalink: input.url.as_ref().map(WebUrl::as_str),
        markdown: input.body.as_str(),
        html: &html,
        editing: None,
    };
    let guest = returning_guest_subject(site, &input.author);
    let context = store::submit_context(
        env.pool,
        input.uri.as_str(),
        keyed
            .as_ref()
            .map(|k| store::ContextKey {
                author: k.author,
                key: k.key,
            })
            .as_ref(),
        guest.as_deref(),
        &pipeline::facts_query(env, &submission),
    )
    .await?;
    let fresh = match context {
        store::SubmitContext::Replay(stored) => {
            return replay(stored, keyed.map_or("", |k| k.hash));
        }
        store::SubmitContext::Fresh(fresh) => fresh,
    };
    check_page_url(site, &input)?;
    facts.known_user = fresh.user_id;
    submission.user_id = fresh.user_id;
    submission.thread_id = fresh.thread.as_ref().map(|t| t.id);
    submission.thread_locked = fresh.thread.as_ref().is_some_and(|t| t.locked);
    let verdict = pipeline::decide(env, &submission, &fresh.facts).await;
    pipeline::count_outcome(&site.slug, &verdict);
    let verdict = verdict?;
    let stored = store_submitted(
        env,
        site,
        &input,
        &facts,
        fresh.thread.as_ref(),
        client,
        &html,
        &verdict,
        keyed.as_ref(),
    )
    .await?;
    let (thread_id, submitted) = match stored {
        Stored::Created { thread_id, body } => (
            thread_id,
            Submitted {
                status: StatusCode::CREATED,
                body,
                replayed: false,
            },
        ),
        Stored::Twin(stored) => return replay(stored, keyed.map_or("", |k| k.hash)),
    };
    // The relay tells every node; this node needn't wait for its own announcement.
    cache.invalidate(thread_id);
    Ok(submitted)
}

/// The identity a keyed guest may have commented under before (a keyless guest is new every
/// time; a logged-in reader is known by their session).
fn returning_guest_subject(site: &Site, author: &Author) -> Option<String> {
    match author {
        Author::Guest {
            email,
            key: Some(key),
            ..
        } => Some(guest_subject(site, email, key)),
        _ => None,
    }
}

/// An idempotent request: who sent it, its key and the hash of what it asked.
struct Keyed<'a> {
    author: &'a str,
    key: &'a str,
    hash: &'a str,
}

/// A page url must belong to the site, so a thread can't be pointed at someone else's page.
fn check_page_url(site: &Site, input: &SubmitInput) -> ApiResult<()> {
    if let Some(url) = &input.url
        && !site.origins.is_empty()
        && !site.allows_origin(&url.origin())
    {
        return Err(ApiError::validation(
            "url",
            "must be a page of this site (one of its registered origins)",
        ));
    }
    Ok(())
}

/// What the comment records about its author, and the user behind them if already known.
struct AuthorFacts<'a> {
    known_user: Option<Uuid>,
    provider: &'a str,
    name: &'a str,
    profile_url: Option<&'a str>,
    avatar_url: Option<&'a str>,
    email: Option<&'a str>,
}

impl<'a> AuthorFacts<'a> {
    /// What the request says; a returning guest's user is found with the submit's context.
    fn of(author: &'a Author) -> Self {
        match author {
            Author::Guest {
                name,
                email,
                website,
                ..
            } => Self {
                known_user: None,
                provider: "guest",
                name: name.as_str(),
                profile_url: website.as_ref().map(WebUrl::as_str),
                avatar_url: None,
                email: Some(email.as_str()),
            },
            Author::User(u) => Self {
                known_user: Some(u.user_id),
                provider: u.provider.as_str(),
                name: u.name.as_str(),
                profile_url: u.profile_url.as_deref(),
                avatar_url: u.avatar_url.as_deref(),
                email: u.email.as_deref(),
            },
        }
    }
}

/// What storing a submitted comment did.
enum Stored {
    Created {
        thread_id: Uuid,
        body: Value,
    },
    /// A concurrent twin with the same Idempotency-Key committed first; this is its response.
    Twin(store::StoredResponse),
}

/// The one write transaction of a submit: thread, reply placement, guest user, the comment,
/// its audit row and the idempotent response commit together or not at all.
#[allow(clippy::too_many_arguments)]
async fn store_submitted(
    env: &Env<'_>,
    site: &Site,
    input: &SubmitInput,
    facts: &AuthorFacts<'_>,
    known_thread: Option<&store::KnownThread>,
    client: &ClientInfo,
    html: &str,
    verdict: &Verdict,
    keyed: Option<&Keyed<'_>>,
) -> ApiResult<Stored> {
    let pool = env.pool;
    let mut tx = crate::db::notes::begin(pool).await?;
    let thread_id = match known_thread {
        // The pipeline saw it unlocked a moment ago (a lock that lands in between is as if it
        // came just after this comment) and there is nothing to fill in: no statement needed.
        Some(t) if !t.fills_in(input.title.is_some(), input.url.is_some()) => t.id,
        _ => {
            let thread = store::upsert_thread(
                &mut tx,
                site.id,
                input.uri.as_str(),
                input.title.as_ref().map(ThreadTitle::as_str),
                input.url.as_ref().map(WebUrl::as_str),
            )
            .await?;
            if thread.locked {
                return Err(ApiError::forbidden(
                    "thread_locked",
                    "This thread is locked; it takes no new comments.",
                ));
            }
            thread.id
        }
    };
    let id = Uuid::now_v7();
    let (parent_id, root_id, depth) = place(&mut tx, site, thread_id, id, input.parent_id).await?;
    let user_id = match facts.known_user {
        Some(id) => id,
        None => author_user(&mut tx, site, &input.author).await?,
    };
    let row = store::insert_comment(
        &mut tx,
        &NewComment {
            id,
            site_id: site.id,
            thread_id,
            parent_id,
            root_id,
            depth,
            user_id,
            author_provider: facts.provider,
            author_name: facts.name,
            author_url: facts.profile_url,
            author_avatar_url: facts.avatar_url,
            author_email: facts.email,
            author_ip: client.ip,
            author_user_agent: client.user_agent.as_deref(),
            body_markdown: input.body.as_str(),
            body_html: html,
            status: verdict.status,
            reasons: &verdict.reasons,
            shadow: verdict.shadow,
        },
    )
    .await?;
    let body = posted_body(&row, user_id, verdict)?;
    if let Some(k) = keyed
        && !store::save_idempotent(&mut tx, site.id, k.author, k.key, k.hash, 201, &body).await?
    {
        // A concurrent twin committed first: drop ours, answer theirs.
        tx.rollback().await?;
        let stored = store::find_idempotent(pool, site.id, k.author, k.key)
            .await?
            .ok_or_else(|| {
                ApiError::conflict(
                    "conflict",
                    "A request with this Idempotency-Key is in flight.",
                )
            })?;
        return Ok(Stored::Twin(stored));
    }
    crate::db::notes::commit(tx, env.relay).await?;
    tracing::info!(comment.id = %row.id, comment.status = verdict.status.as_str(), "comment stored");
    Ok(Stored::Created { thread_id, body })
}

/// Where a new comment goes: `(parent_id, root_id, depth)`. A reply must answer a published
/// comment of the same thread, within the site's nesting depth.
async fn place(
    conn: &mut sqlx::PgConnection,
    site: &Site,
    thread_id: Uuid,
    id: Uuid,
    parent_id: Option<Uuid>,
) -> ApiResult<(Option<Uuid>, Uuid, i32)> {
    let Some(pid) = parent_id else {
        return Ok((None, id, 1));
    };
    let max_depth = site.max_depth;
    let parent = store::find_parent(conn, site.id, pid)
        .await?
        .filter(|p| p.thread_id == thread_id)
        .ok_or_else(|| ApiError::validation("parent_id", "is not a comment of this thread"))?;
    if parent.status != CommentStatus::Approved {
        return Err(ApiError::validation(
            "parent_id",
            "that comment can't be replied to (not published)",
        ));
    }
    if parent.depth >= max_depth {
        return Err(ApiError::validation(
            "parent_id",
            format!("replies nest at most {max_depth} levels deep on this site; reply higher up"),
        ));
    }
    Ok((Some(pid), parent.root_id, parent.depth + 1))
}

/// The user row of an author not known before: a guest's, created on their first comment.
async fn author_user(
    conn: &mut sqlx::PgConnection,
    site: &Site,
    author: &Author,
) -> ApiResult<Uuid> {
    match author {
        Author::Guest {
            name,
            email,
            website,
            key,
        } => {
            let website = website.as_ref().map(WebUrl::as_str);
            let subject = match key {
                Some(key) => guest_subject(site, email, key),
                None => one_off_guest_subject(site, email),
            };
            Ok(store::guest_user(conn, &subject, name.as_str(), email.as_str(), website).await?)
        }
        Author::User(u) => Ok(u.user_id),
    }
}

/// The answer to a post. A shadow-banned author is told what a published comment's author is
/// told.
fn posted_body(row: &CommentRow, user_id: Uuid, verdict: &Verdict) -> ApiResult<Value> {
    let (shown_status, shown_reasons) = if verdict.shadow {
        (CommentStatus::Approved, vec![])
    } else {
        (verdict.status, verdict.reasons.clone())
    };
    serde_json::to_value(PostedComment {
        comment: CommentView::new(row, Some(user_id), 0),
        status: shown_status,
        reasons: &shown_reasons,
    })
    .map_err(ApiError::internal)
}

fn replay(stored: store::StoredResponse, hash: &str) -> ApiResult<Submitted> {
    if stored.request_hash != hash {
        return Err(ApiError::conflict(
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request.",
        ));
    }
    Ok(Submitted {
        status: StatusCode::from_u16(stored.response_status as u16).unwrap_or(StatusCode::CREATED),
        body: stored.response_body,
        replayed: true,
    })
}
