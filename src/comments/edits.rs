//! What an author can do to their own comment after posting it, within the site's edit window:
//! edit it (the pipeline decides anew, the old text is kept) or delete it.

use serde_json::{Value, json};

use super::store;
use super::target::{Target, unknown_comment};
use super::view::{CommentView, PostedComment};
use crate::audit::Actor;
use crate::auth::sessions::SessionUser;
use crate::domain::client::ClientInfo;
use crate::domain::{CommentBody, CommentStatus};
use crate::error::{ApiError, ApiResult};
use crate::markdown as render;
use crate::moderation::Reason;
use crate::moderation::pipeline::{self, Env, Submission};
use crate::moderation::transitions::{self, Move, Request};
use crate::thread_cache::ThreadCache;

/// The `rule` of the reason reader flags add (see `reactions`).
pub const FLAGS_RULE: &str = "flags";

/// Edits a comment's text: the pipeline runs on the new text (outside any transaction: it may
/// call a spam service) and may refuse it, in which case nothing changes. Otherwise one
/// transaction keeps the old text as a revision, stores the new one with the new reasons, and
/// moves the status through the state machine when the verdict differs.
///
/// An edit can't shake off readers' flags: a comment flagged back to the queue stays there,
/// its flag reason kept, until a moderator decides.
pub async fn edit(
    env: &Env<'_>,
    cache: &ThreadCache,
    t: &Target,
    user: &SessionUser,
    body: &CommentBody,
    client: &ClientInfo,
) -> ApiResult<Value> {
    t.check_author(user.user_id)?;
    let shadowed = t.shadowed();
    if !matches!(t.status, CommentStatus::Pending | CommentStatus::Approved) && !shadowed {
        return Err(not_editable(t.status));
    }
    let mut conn = env.pool.acquire().await?;
    if body.as_str() == t.row.body_markdown {
        // Nothing to edit: answer the comment as it is.
        let row = store::comment_row(&mut conn, t.row.id).await?;
        return respond(&mut conn, t, user, &row, t.status, &t.reasons(), shadowed).await;
    }
    // Before the pipeline runs: every edit re-runs moderation and keeps a revision.
    check_edit_limits(&mut conn, env, t, user).await?;
    drop(conn);

    let html = render::render(body.as_str());
    let verdict = pipeline::evaluate(
        env,
        &Submission {
            site: &t.site,
            user_id: Some(user.user_id),
            // An edit is no new guest comment.
            guest: false,
            email: t.row.author_email.as_deref(),
            ip: client.ip,
            user_agent: client.user_agent.as_deref(),
            author_name: &t.row.author_name,
            author_url: t.row.author_url.as_deref(),
            thread_id: Some(t.row.thread_id),
            thread_locked: t.row.thread_locked,
            permalink: t.row.thread_url.as_deref(),
            markdown: body.as_str(),
            html: &html,
            editing: Some(t.row.id),
        },
    )
    .await?;

    let (to, reasons, shadow) = if shadowed {
        // Stays what it is; its author keeps seeing it as published.
        (t.status, t.reasons(), true)
    } else {
        let flags: Vec<Reason> = if t.status == CommentStatus::Pending {
            t.reasons()
                .into_iter()
                .filter(|r| r.rule == FLAGS_RULE)
                .collect()
        } else {
            vec![]
        };
        let to = if !flags.is_empty() && verdict.status == CommentStatus::Approved {
            CommentStatus::Pending
        } else {
            verdict.status
        };
        let mut reasons = verdict.reasons.clone();
        reasons.extend(flags);
        (to, reasons, verdict.shadow)
    };

    let mut tx = env.pool.begin().await?;
    let locked = store::lock_comment(&mut tx, t.site.id, t.row.id)
        .await?
        .ok_or_else(unknown_comment)?;
    if locked.status != t.row.status || locked.body_markdown != t.row.body_markdown {
        return Err(ApiError::conflict(
            "conflict",
            "This comment changed while you were editing it; reload it and try again.",
        ));
    }
    // Again under the comment's lock: concurrent edits of one comment count one after another.
    check_edit_limits(&mut tx, env, t, user).await?;
    store::insert_revision(
        &mut tx,
        t.site.id,
        t.row.id,
        "author",
        user.user_id,
        &locked.body_markdown,
    )
    .await?;
    store::update_body(
        &mut tx,
        t.site.id,
        t.row.id,
        body.as_str(),
        &html,
        (!shadowed).then_some(reasons.as_slice()),
        shadow,
    )
    .await?;
    if to != t.status {
        transitions::transition(
            &mut tx,
            &Request {
                site_id: t.site.id,
                comment_id: t.row.id,
                m: Move::Reevaluated(to),
                actor: Actor::Author(user.user_id),
                reasons: &reasons,
                note: None,
                if_match: None,
            },
        )
        .await?;
    }
    let row = store::comment_row(&mut tx, t.row.id).await?;
    let answer = respond(&mut tx, t, user, &row, to, &reasons, shadow).await?;
    tx.commit().await?;
    // The trigger tells every node; this node needn't wait for its own notification.
    cache.invalidate(t.row.thread_id);
    tracing::info!(comment.id = %t.row.id, comment.status = to.as_str(), "comment edited");
    Ok(answer)
}

/// `limits.edits_per_minute_comment` and `limits.edits_per_minute_user`: 429 with Retry-After.
async fn check_edit_limits(
    conn: &mut sqlx::PgConnection,
    env: &Env<'_>,
    t: &Target,
    user: &SessionUser,
) -> ApiResult<()> {
    let l = &env.settings.limits;
    let (per_comment, per_user) = (l.edits_per_minute_comment, l.edits_per_minute_user);
    if per_comment == 0 && per_user == 0 {
        return Ok(());
    }
    let n = store::recent_edits(
        conn,
        t.site.id,
        t.row.id,
        user.user_id,
        (i64::from(per_comment), i64::from(per_user)),
    )
    .await?;
    let wait = |frees: Option<f64>| frees.unwrap_or(60.0).ceil().max(1.0) as u64;
    if per_comment > 0 && n.comment >= i64::from(per_comment) {
        let wait = wait(n.comment_frees_in_s);
        return Err(ApiError::rate_limited(
            format!(
                "You've edited this comment {per_comment} times in the last minute; wait {wait} s."
            ),
            wait,
        ));
    }
    if per_user > 0 && n.user >= i64::from(per_user) {
        let wait = wait(n.user_frees_in_s);
        return Err(ApiError::rate_limited(
            format!("You've made {per_user} edits in the last minute; wait {wait} s."),
            wait,
        ));
    }
    Ok(())
}

/// `{comment, status, reasons}`, as a POST answers; a shadow-banned author is told what a
/// published comment's author is told.
async fn respond(
    conn: &mut sqlx::PgConnection,
    t: &Target,
    user: &SessionUser,
    row: &store::CommentRow,
    status: CommentStatus,
    reasons: &[Reason],
    shadow: bool,
) -> ApiResult<Value> {
    let replies = store::reply_count(conn, t.row.root_id, t.row.id).await?;
    let (status, reasons) = if shadow {
        (CommentStatus::Approved, &[][..])
    } else {
        (status, reasons)
    };
    serde_json::to_value(PostedComment {
        comment: CommentView::new(
            row,
            Some(user.user_id),
            usize::try_from(replies).unwrap_or(0),
        ),
        status,
        reasons,
    })
    .map_err(ApiError::internal)
}

fn not_editable(status: CommentStatus) -> ApiError {
    ApiError::conflict(
        "conflict",
        format!(
            "This comment is {} and can't be edited anymore.",
            status.as_str()
        ),
    )
    .with_details(json!({ "status": status.as_str() }))
}

/// The author removes their comment: it leaves the thread, or stays as an empty placeholder
/// while published replies hang below it. The text is kept for moderators (who can restore it).
pub async fn delete(
    pool: &sqlx::PgPool,
    cache: &ThreadCache,
    t: &Target,
    user: &SessionUser,
) -> ApiResult<()> {
    t.check_author(user.user_id)?;
    let mut tx = pool.begin().await?;
    transitions::transition(
        &mut tx,
        &Request {
            site_id: t.site.id,
            comment_id: t.row.id,
            m: Move::AuthorDelete,
            actor: Actor::Author(user.user_id),
            reasons: &[],
            note: None,
            if_match: None,
        },
    )
    .await?;
    tx.commit().await?;
    cache.invalidate(t.row.thread_id);
    tracing::info!(comment.id = %t.row.id, "comment deleted by its author");
    Ok(())
}
