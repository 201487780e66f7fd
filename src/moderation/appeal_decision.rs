//! A moderator's decision on an appeal, written once: in one transaction, `uphold` records the
//! decision on the comment's (or ban's) record and `overturn` approves the comment through the
//! state machine or lifts the ban; the appeal's new status and its audit rows commit with it,
//! then the changed thread leaves this node's cache.

use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::Reason;
use super::appeals::{self, AppealView, Decision, Status};
use super::bans;
use super::transitions::{self, ModAction, Move};
use crate::audit::{self, ActionRecord, Actor, BanChange, Change};
use crate::auth::moderators::SiteScope;
use crate::domain::CommentStatus;
use crate::error::{ApiError, ApiResult};
use crate::thread_cache::ThreadCache;

/// Decides the open appeal `id` of the site; answers the decided appeal. 404 for an appeal
/// the site doesn't have, 409 `appeal_decided` for one already decided.
pub async fn decide(
    pool: &PgPool,
    threads: &ThreadCache,
    scope: &SiteScope,
    moderator_id: Uuid,
    id: Uuid,
    (decision, note): (Decision, Option<&str>),
) -> ApiResult<AppealView> {
    let status = decision.status();
    let actor = Actor::Moderator(moderator_id);

    let mut tx = pool.begin().await?;
    let appeal = appeals::lock(&mut tx, scope, id)
        .await?
        .ok_or_else(appeals::not_found)?;
    if appeal.status != Status::Open.as_str() {
        return Err(ApiError::conflict(
            "appeal_decided",
            format!("This appeal was already {}.", appeal.status),
        )
        .with_details(json!({ "status": appeal.status })));
    }
    let mut changed_thread = None;
    match (appeal.comment_id, appeal.ban_id) {
        (Some(comment_id), _) => {
            let reasons = [Reason {
                rule: "appeal".to_owned(),
                kind: format!("appeal_{}", status.as_str()),
                matched: Some(appeal.id.to_string()),
                message: match decision {
                    Decision::Uphold => "Appeal upheld: the decision stands.".to_owned(),
                    Decision::Overturn => "Appeal accepted: the comment is published.".to_owned(),
                },
            }];
            match decision {
                Decision::Overturn => {
                    let changed = transitions::transition(
                        &mut tx,
                        &transitions::Request {
                            site_id: scope.site_id(),
                            comment_id,
                            m: Move::Moderator(ModAction::Approve),
                            actor,
                            reasons: &reasons,
                            note,
                            if_match: None,
                        },
                    )
                    .await?;
                    changed_thread = Some(changed.thread_id);
                }
                Decision::Uphold => {
                    // No status change, but the decision is on the comment's record all the same.
                    let current = appeals::lock_comment_status(&mut tx, scope, comment_id)
                        .await?
                        .ok_or_else(crate::error::unknown_comment)?;
                    let current = CommentStatus::parse(&current)
                        .map_err(|e| ApiError::internal(anyhow::anyhow!("stored status: {e}")))?;
                    audit::record(
                        &mut tx,
                        &Change {
                            site_id: scope.site_id(),
                            comment_id,
                            actor,
                            from: Some(current),
                            to: current,
                            reasons: &reasons,
                            note,
                        },
                    )
                    .await?;
                }
            }
        }
        (None, ban_id) => {
            // A ban deleted meanwhile (ban_id null) has nothing left to lift or to audit.
            if let Some(ban_id) = ban_id {
                if decision == Decision::Overturn {
                    let before = bans::lock(&mut tx, scope, ban_id).await?;
                    // A ban that already ended has nothing left to lift.
                    if let (Some(before), Some(after)) =
                        (before, bans::expire(&mut tx, scope, ban_id).await?)
                    {
                        audit::record_action(
                            &mut tx,
                            &ActionRecord {
                                site_id: Some(scope.site_id()),
                                actor,
                                action: "ban.lifted",
                                target_kind: "ban",
                                target_id: Some(ban_id),
                                before: Some(bans::audit_json(&before)),
                                after: Some(bans::audit_json(&after)),
                                note,
                            },
                        )
                        .await?;
                    }
                }
                audit::record_ban(
                    &mut tx,
                    &BanChange {
                        site_id: scope.site_id(),
                        ban_id,
                        appeal_id: Some(appeal.id),
                        action: match decision {
                            Decision::Uphold => "appeal_upheld",
                            Decision::Overturn => "appeal_overturned",
                        },
                        actor,
                        note,
                    },
                )
                .await?;
            }
        }
    }
    appeals::decide(&mut tx, scope, id, status, moderator_id, note).await?;
    // The decision itself, in the site's one audit listing (the status change or the ban's lift
    // it made has its own entry).
    audit::record_action(
        &mut tx,
        &ActionRecord {
            site_id: Some(scope.site_id()),
            actor,
            action: match decision {
                Decision::Uphold => "appeal.upheld",
                Decision::Overturn => "appeal.overturned",
            },
            target_kind: "appeal",
            target_id: Some(appeal.id),
            before: Some(json!({ "status": appeal.status })),
            after: Some(json!({
                "status": status.as_str(),
                "kind": appeal.kind,
                "comment_id": appeal.comment_id,
                "ban_id": appeal.ban_id,
            })),
            note,
        },
    )
    .await?;
    tx.commit().await?;
    if let Some(thread_id) = changed_thread {
        // The trigger tells every node; this one needn't wait for its own notification.
        threads.invalidate(thread_id);
    }
    tracing::info!(
        moderator_id = %moderator_id,
        appeal.id = %id,
        appeal.kind = %appeal.kind,
        appeal.status = status.as_str(),
        site.slug = scope.slug(),
        "appeal decided"
    );
    appeals::view(pool, scope, id)
        .await?
        .ok_or_else(appeals::not_found)
}
