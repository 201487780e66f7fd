use utoipa::OpenApi;

use crate::api::moderator::{
    accounts as team, audit, invitations, moderation, password as account,
    site_settings as settings,
};
use crate::moderation::dry_run;

#[derive(OpenApi)]
#[openapi(paths(
    team::login,
    team::logout,
    account::change_password,
    invitations::accept,
    team::list_tokens,
    team::create_token,
    team::revoke_token,
    team::list_sites,
    team::get_site,
    settings::patch_site,
    team::list_team,
    invitations::invite,
    team::change_role,
    team::remove_member,
    invitations::list_invitations,
    invitations::revoke_invitation,
    moderation::list_queue,
    moderation::claim_queue,
    moderation::search_comments,
    moderation::bulk_act,
    audit::audit_log,
    audit::my_audit,
    moderation::list_bans,
    moderation::create_ban,
    moderation::get_ban,
    moderation::delete_ban,
    moderation::list_rules,
    moderation::create_rule,
    dry_run::dry_run,
    moderation::get_rule,
    moderation::patch_rule,
    moderation::delete_rule,
    moderation::get_user,
    moderation::patch_user,
    moderation::edit_comment,
    moderation::act,
    moderation::release_claim,
    moderation::comment_history,
))]
pub struct ApiDoc;
