//! The account page's JSON API (`/account/api/...`): who is logged in, their comments on every
//! blog, linked logins (link, unlink), export and erase. Only an account session (the cookie
//! set on Colloquy's own origin, see [`super::cookie`]) reaches these; a blog's Bearer token is
//! never looked at, and every request passes the CSRF guard of the `/account/api` scope.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::cookie::{self, AccountSession};
use crate::auth::account::store::{
    self, AccountComment, CommentRow, FlagRow, IdentityRow, MyIdentity, SessionRow, UserRow,
    VoteRow,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{Paging, private};
use crate::state::AppState;

/// The logins this server offers on the account page.
#[derive(Serialize, ToSchema)]
pub struct ProvidersBody {
    /// Every configured provider, and `dev` where enabled.
    #[schema(example = json!(["google", "wordpress"]))]
    providers: Vec<String>,
}

/// The logins the account page offers.
#[utoipa::path(
    get,
    path = "/account/api/providers",
    operation_id = "account_providers",
    tag = "account",
    params(("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")),
    responses(
        (status = 200, description = "The providers.", body = ProvidersBody)
    )
)]
pub async fn providers(state: web::Data<AppState>) -> HttpResponse {
    private(HttpResponse::Ok()).json(ProvidersBody {
        providers: state.providers.configured(),
    })
}

/// The reader behind the account session.
#[derive(Serialize, ToSchema)]
pub struct AccountMe {
    id: uuid::Uuid,
    #[schema(example = "Ada")]
    name: String,
    avatar_url: Option<String>,
    profile_url: Option<String>,
    /// The login this account session came through.
    #[schema(example = "google")]
    provider: String,
    /// Every login that opens this account (at least one).
    identities: Vec<MyIdentity>,
}

/// The signed-in reader and their linked logins.
#[utoipa::path(
    get,
    path = "/account/api/me",
    operation_id = "account_me",
    tag = "account",
    params(("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")),
    security(("account" = [])),
    responses(
        (status = 200, description = "The account.", body = AccountMe)
    )
)]
pub async fn me(
    state: web::Data<AppState>,
    AccountSession(user): AccountSession,
) -> ApiResult<HttpResponse> {
    let identities = store::identities(&state.db.pool, user.user_id).await?;
    Ok(private(HttpResponse::Ok()).json(AccountMe {
        id: user.user_id,
        name: user.name,
        avatar_url: user.avatar_url,
        profile_url: user.profile_url,
        provider: user.provider,
        identities,
    }))
}

/// A page of the reader's comments.
#[derive(Serialize, ToSchema)]
pub struct CommentsPage {
    items: Vec<AccountComment>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// The reader's comments on every blog, newest first.
///
/// Each with its blog (slug and name), the page it is on and a link to it, and its status as
/// its author sees it: a comment held because of a shadow ban shows `approved`, as it does to
/// them in the widget.
#[utoipa::path(
    get,
    path = "/account/api/comments",
    operation_id = "account_comments",
    tag = "account",
    params(
        ("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF)."),
        ("limit" = Option<u32>, Query, description = "Page size (default 50, at most 200)."),
        ("cursor" = Option<String>, Query, description = "`next_cursor` of the previous page.")
    ),
    security(("account" = [])),
    responses(
        (status = 200, description = "A page of comments.", body = CommentsPage),
        (status = 400, description = "`validation_failed`: bad `limit` or `cursor`.", body = ErrorBody)
    )
)]
pub async fn comments(
    state: web::Data<AppState>,
    AccountSession(user): AccountSession,
    paging: Paging,
) -> ApiResult<HttpResponse> {
    let read = |before, n| store::comments_of(&state.db.pool, user.user_id, before, n);
    let (items, next_cursor) = paging.by_time(read, |c| (c.created_at, c.id)).await?;
    Ok(private(HttpResponse::Ok()).json(CommentsPage { items, next_cursor }))
}

#[derive(Serialize, ToSchema)]
pub struct LinkStart {
    /// Where the account page navigates next: the provider's consent page (or the dev form).
    url: String,
}

/// Start linking another login to the account.
///
/// Answers `{url}`; the account page navigates there (same window). The attempt behind it is
/// stored on the server as an *account link* for this user and bound to this browser by a
/// `SameSite=Lax` HttpOnly cookie set with this answer: it completes only at
/// `/auth/{provider}/callback` in this browser, which links the identity and redirects (303) to
/// `/account/#linked=<provider>` (or `#error=identity_in_use` when that login belongs to another
/// commenter with comments or a ban; one without history moves here and its old sessions end).
/// A link URL sent to someone else links nothing.
#[utoipa::path(
    post,
    path = "/account/api/links/{provider}",
    operation_id = "account_start_link",
    tag = "account",
    params(
        ("provider" = String, Path, description = "A configured provider, or `dev` where enabled."),
        ("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")
    ),
    security(("account" = [])),
    responses(
        (status = 200, description = "Navigate to `url`.", body = LinkStart,
         headers(("Set-Cookie" = String, description = "The login binding (HttpOnly, SameSite=Lax, 10 minutes)."))),
        (status = 404, description = "A provider this server doesn't offer.", body = ErrorBody),
        (status = 503, description = "The provider can't be reached, or the database is down.", body = ErrorBody)
    )
)]
pub async fn start_link(
    state: web::Data<AppState>,
    AccountSession(user): AccountSession,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let provider = path.into_inner();
    if !state.providers.is_available(&provider) {
        return Err(ApiError::not_found("Provider"));
    }
    let (url, set_cookie) = match super::login::start(&state, &provider, Some(user.user_id)).await?
    {
        Ok(started) => started,
        Err(code) => {
            return Err(ApiError::unavailable(anyhow::anyhow!(
                "linking could not start: {code}"
            )));
        }
    };
    Ok(private(HttpResponse::Ok())
        .insert_header((header::SET_COOKIE, set_cookie))
        .json(LinkStart { url }))
}

/// Unlink a login from the account.
///
/// That login no longer opens this account, and the sessions opened through its provider end
/// (on every blog, and this page's own if it came that way). The last login is never unlinked
/// (409 `last_identity`): erase the account instead.
#[utoipa::path(
    delete,
    path = "/account/api/identities/{id}",
    operation_id = "account_unlink",
    tag = "account",
    params(
        ("id" = String, Path, description = "The identity's id, from `GET /account/api/me`."),
        ("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")
    ),
    security(("account" = [])),
    responses(
        (status = 204, description = "Unlinked."),
        (status = 404, description = "No such login on this account.", body = ErrorBody),
        (status = 409, description = "`last_identity`: the account's only login.", body = ErrorBody)
    )
)]
pub async fn unlink(
    state: web::Data<AppState>,
    AccountSession(user): AccountSession,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let Ok(id) = uuid::Uuid::parse_str(&path) else {
        return Err(ApiError::not_found("Identity"));
    };
    match crate::auth::login::unlink(&state.db.pool, user.user_id, id).await? {
        None => return Err(ApiError::unauthenticated("This account no longer exists.")),
        Some(store::Unlink::Done) => {}
        Some(store::Unlink::NotFound) => return Err(ApiError::not_found("Identity")),
        Some(store::Unlink::Last) => {
            return Err(ApiError::conflict(
                "last_identity",
                "This is the only login of this account; erase the account instead.",
            ));
        }
    }
    tracing::info!(user.id = %user.user_id, "identity unlinked");
    Ok(HttpResponse::NoContent().finish())
}

/// Everything stored about a reader (`GET /account/api/export`).
#[derive(Serialize, ToSchema)]
pub struct ExportBody {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    exported_at: time::OffsetDateTime,
    user: UserRow,
    identities: Vec<IdentityRow>,
    sessions: Vec<SessionRow>,
    comments: Vec<CommentRow>,
    flags: Vec<FlagRow>,
    votes: Vec<VoteRow>,
    /// The reader's appeals and their outcomes.
    #[schema(value_type = Vec<Object>)]
    appeals: Vec<Value>,
}

/// Download everything stored about the signed-in reader, as JSON.
///
/// The account, every linked identity with the profile the provider sent, sessions (never
/// their tokens), comments with the email/IP/user agent recorded with them (each comment's
/// status as its author sees it: held by a shadow ban shows `approved`), flags, votes and
/// appeals. Served as an attachment, never cached.
#[utoipa::path(
    get,
    path = "/account/api/export",
    operation_id = "account_export",
    tag = "account",
    params(("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")),
    security(("account" = [])),
    responses(
        (status = 200, description = "The export.", body = ExportBody,
         headers(("Content-Disposition" = String, description = "`attachment; filename=\"colloquy-export.json\"`")))
    )
)]
pub async fn export(
    state: web::Data<AppState>,
    AccountSession(session): AccountSession,
) -> ApiResult<HttpResponse> {
    let Some(x) = store::export(&state.db.pool, session.user_id).await? else {
        return Err(ApiError::unauthenticated("Log in first."));
    };
    let body = ExportBody {
        exported_at: time::OffsetDateTime::now_utc(),
        user: x.user,
        identities: x.identities,
        sessions: x.sessions,
        comments: x.comments,
        flags: x.flags,
        votes: x.votes,
        appeals: x.appeals.unwrap_or_default(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"colloquy-export.json\"",
        ))
        .json(body))
}

#[derive(Deserialize)]
pub struct EraseParams {
    comments: Option<String>,
    confirm: Option<String>,
}

/// Erase the signed-in reader's account.
///
/// Needs `confirm=erase` (the page asks first). One transaction: identities, sessions, flags, pending links and the profile go. With
/// `comments=keep` (default) the comments stay up as "deleted user" without email, IP or user
/// agent; with `comments=remove` each is deleted through the moderation state machine (audited
/// as the author's) and its text blanked. Erasing doesn't lift a ban: while one stands, a
/// SHA-256 of each `provider:subject` is kept with it, and a new account with (or linking) that
/// login inherits the ban.
#[utoipa::path(
    delete,
    path = "/account/api/me",
    operation_id = "erase_account",
    tag = "account",
    params(
        ("comments" = Option<String>, Query, description = "`keep` (default) or `remove`."),
        ("confirm" = String, Query, description = "Must be `erase`."),
        ("X-Colloquy-Account" = String, Header, description = "Any value; required on every account request (CSRF).")
    ),
    security(("account" = [])),
    responses(
        (status = 204, description = "Erased; every session (blog and account) has ended and the cookie is cleared."),
        (status = 400, description = "`validation_failed`: `comments` is neither keep nor remove, or `confirm` isn't `erase`.", body = ErrorBody)
    )
)]
pub async fn erase(
    state: web::Data<AppState>,
    AccountSession(session): AccountSession,
    params: web::Query<EraseParams>,
) -> ApiResult<HttpResponse> {
    let remove = match params.comments.as_deref() {
        None | Some("keep") => false,
        Some("remove") => true,
        Some(_) => return Err(ApiError::validation("comments", "must be keep or remove")),
    };
    if params.confirm.as_deref() != Some("erase") {
        return Err(ApiError::validation(
            "confirm",
            "must be `erase`: erasing an account can't be undone",
        ));
    }
    let user_id = session.user_id;
    if !crate::comments::erase::account(&state.db.pool, &state.threads, user_id, remove).await? {
        return Err(ApiError::unauthenticated("Log in first."));
    }
    tracing::info!(user.id = %user_id, remove, "commenter account erased");
    Ok(HttpResponse::NoContent()
        .insert_header((
            header::SET_COOKIE,
            cookie::clear_session_cookie(&state.settings),
        ))
        .finish())
}
