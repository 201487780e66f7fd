use utoipa::OpenApi;

use crate::api::moderator::{
    actions, audit, bans, history, invitations, password as account, queue, rules, session, sites,
    team, tokens, users,
};

#[derive(OpenApi)]
#[openapi(paths(
    session::login,
    session::logout,
    account::change_password,
    invitations::accept,
    tokens::list_tokens,
    tokens::create_token,
    tokens::revoke_token,
    sites::list_sites,
    sites::get_site,
    sites::patch_site,
    team::list_team,
    invitations::invite,
    team::change_role,
    team::remove_member,
    invitations::list_invitations,
    invitations::revoke_invitation,
    queue::list_queue,
    queue::claim_queue,
    queue::search_comments,
    actions::bulk_act,
    audit::audit_log,
    audit::my_audit,
    bans::list_bans,
    bans::create_ban,
    bans::get_ban,
    bans::delete_ban,
    rules::list_rules,
    rules::create_rule,
    rules::dry_run,
    rules::get_rule,
    rules::patch_rule,
    rules::delete_rule,
    users::get_user,
    users::patch_user,
    actions::edit_comment,
    actions::act,
    queue::release_claim,
    history::comment_history,
))]
pub struct ApiDoc;
