//! The OpenAPI 3.1 document of every route (`/api/openapi.json`) and the viewer that shows it
//! (`/api/docs`, Swagger UI served from the binary: no CDN, works offline and under a strict CSP).
//!
//! The document is assembled from the `#[utoipa::path]` annotations on the handlers, one part
//! per area, then trimmed to the routes this server actually registers (metrics and the demo
//! are optional): `tests/api/openapi.rs` holds it against the route tables in `app.rs`. The
//! answers every route of a kind shares (framework, middleware) are added last, from one list
//! (`responses`).

mod moderation;
mod ops;
mod public;
mod responses;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::config::Settings;

/// Security scheme of a reader's session (`Authorization: Bearer <token>` from the login popup).
pub const COMMENTER: &str = "commenter";
/// Security scheme of the account page's session (an HttpOnly cookie on this origin).
pub const ACCOUNT: &str = "account";
/// Security scheme of a moderator's session or named API token.
pub const MODERATOR: &str = "moderator";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Colloquy",
        description = "Self-hosted comments for blogs: the widget's public API, the login popup \
                       flow, and the moderator API. Every error answers the `ErrorBody` shape. \
                       A method a path doesn't list answers 405 `method_not_allowed` with \
                       `Allow`.",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::ErrorBody)),
    tags(
        (name = "comments", description = "What the widget reads and writes for readers."),
        (name = "account", description = "A reader's account page on this server's own origin (`/account/`): every comment on every blog, linked logins, export, erase. Its session is a cookie set on this origin, never a blog's token."),
        (name = "login", description = "The popup sign-in flow (browser navigations, HTML answers)."),
        (name = "moderation", description = "Queue, actions, search, audit, bans, rules, users."),
        (name = "appeals", description = "Authors contest rejections and bans; moderators decide."),
        (name = "team", description = "Moderator login, tokens, sites and team management."),
        (name = "ops", description = "Health, metrics, the widget script and these docs.")
    )
)]
struct Base;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        let mut commenter = Http::new(HttpAuthScheme::Bearer);
        commenter.description =
            Some("A reader's session token, handed to the widget by the login popup.".into());
        components.add_security_scheme(COMMENTER, SecurityScheme::Http(commenter));
        let mut moderator = Http::new(HttpAuthScheme::Bearer);
        moderator.description = Some(
            "A moderator session (POST /api/mod/v1/login) or a named API token (/tokens).".into(),
        );
        components.add_security_scheme(MODERATOR, SecurityScheme::Http(moderator));
        // The cookie's name is `__Host-colloquy-account` where public_url is https.
        let account = ApiKey::Cookie(ApiKeyValue::with_description(
            "colloquy-account",
            "The account page's session: HttpOnly, SameSite=Strict, set by an account login \
             (`/account/login/{provider}`) on this origin and never handed to a page. Every \
             `/account/api` request also needs the `X-Colloquy-Account` header, and Origin \
             (when sent) must be this server's.",
        ));
        components.add_security_scheme(ACCOUNT, SecurityScheme::ApiKey(account));
    }
}

/// The document this server serves: every part merged, minus the routes its settings leave out.
pub fn document(settings: &Settings) -> utoipa::openapi::OpenApi {
    let mut doc = Base::openapi();
    doc.merge(public::ApiDoc::openapi());
    doc.merge(moderation::ApiDoc::openapi());
    doc.merge(ops::ApiDoc::openapi());
    if !settings.metrics.enabled {
        doc.paths.paths.remove("/metrics");
    }
    if !settings.server.demo {
        doc.paths.paths.remove("/demo/");
        doc.paths.paths.remove("/demo");
    }
    if !settings.auth.dev_provider {
        doc.paths.paths.remove("/auth/dev/authorize");
        doc.paths.paths.remove("/auth/dev/callback");
    } else if let Some(op) = doc
        .paths
        .paths
        .get_mut("/auth/{provider}/callback")
        .and_then(|item| item.get.as_mut())
    {
        // The dev login's own callback (a form, POST only) is a resource of its own, registered
        // before the template: a GET naming `dev` reaches it, not the OAuth callback.
        op.responses.responses.insert(
            "405".to_owned(),
            responses::error(
                "`method_not_allowed` (with `Allow: POST`): `dev` as `provider` while the dev \
                 login is on, whose callback is the form `POST /auth/dev/callback`.",
            )
            .into(),
        );
    }
    responses::add_to(&mut doc);
    doc
}
