//! The route table: every route of the app, by group (path prefix) and audience, with what
//! wraps each group (CORS and the route scope for the public API, the CSRF guard for the account
//! API, the database gate for all of them). Registered only from here, so
//! [`registered_routes`] is the complete list (the OpenAPI test and the authorization tests
//! walk it).

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{ResponseError, web};

use super::resource::{ApiResource, get, resource};
use super::{account, moderator, public};
use crate::config::Settings;
use crate::error::ApiError;
use crate::http::errors::not_found;
use crate::http::json::JsonLimit;
use crate::http::route::{self, RouteKind};
use crate::state::AppState;

/// Every route of the app. Each resource answers 405 for methods it doesn't have.
pub fn configure(cfg: &mut web::ServiceConfig, state: &web::Data<AppState>) {
    let settings = &state.settings;
    let limits = &settings.limits;
    cfg.app_data(JsonLimit(limits.json_max_bytes))
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::validation("query", format!("malformed query string: {err}")).into()
        }))
        .app_data(
            web::PathConfig::default().error_handler(|_, _| ApiError::not_found("Resource").into()),
        );
    for group in groups(settings) {
        match group.prefix {
            "" => {
                for r in group.resources {
                    cfg.service((r.add)(resource(r.path, r.allow)));
                }
            }
            "/api/v1" => {
                cfg.service(group.public_scope().wrap(from_fn(require_database)));
            }
            "/api/mod/v1" => {
                // Moderator tools are scripts and apps, not pages on a blog's origin: no CORS.
                cfg.service(
                    group
                        .scope()
                        .wrap(from_fn(require_database))
                        .default_service(web::to(not_found)),
                );
            }
            "/account/api" => {
                // First-party only: no CORS (a cross-origin request can't even send the
                // required header), and the guard refuses anything another page could send.
                cfg.service(
                    group
                        .scope()
                        .wrap(from_fn(account::cookie::guard))
                        .wrap(from_fn(require_database))
                        .default_service(web::to(not_found)),
                );
            }
            "/auth" => {
                // Browser navigations in the login popup: no CORS, HTML answers.
                cfg.service(
                    group.scope().wrap(from_fn(require_database)).app_data(
                        web::FormConfig::default()
                            .limit(4096)
                            .error_handler(|err, _| {
                                ApiError::validation("form", format!("malformed form: {err}"))
                                    .into()
                            }),
                    ),
                );
            }
            _ => {
                cfg.service(group.scope());
            }
        }
    }
}

/// Resources registered under one path prefix.
struct Group {
    prefix: &'static str,
    resources: Vec<&'static ApiResource>,
}

impl Group {
    fn scope(&self) -> actix_web::Scope {
        self.resources
            .iter()
            .fold(web::scope(self.prefix), |scope, r| {
                scope.service((r.add)(resource(r.path, r.allow)))
            })
    }

    /// The public API: every resource first resolves the site (or comment) its own matched
    /// route names, once (see `http::route`), then CORS decides on that site. Wrapping each
    /// resource, not the scope, is what makes the decoded parameters of the matched route
    /// available; a route added to `PUBLIC_API` gets the same treatment without asking.
    fn public_scope(&self) -> actix_web::Scope {
        let scope = self
            .resources
            .iter()
            .fold(web::scope(self.prefix), |scope, r| {
                let kind = RouteKind::of(r.path);
                scope.service(
                    (r.add)(resource(r.path, r.allow))
                        .wrap(from_fn(crate::http::cors::cors))
                        .wrap(from_fn(move |req, next| route::resolve(kind, req, next))),
                )
            });
        // Paths no resource matched: the JSON 404, with CORS as for a route about no one site
        // (registered last, this catch-all scope sees only what nothing else matched).
        scope.service(
            web::scope("")
                .wrap(from_fn(crate::http::cors::cors))
                .wrap(from_fn(|req, next| {
                    route::resolve(RouteKind::NoSite, req, next)
                }))
                .default_service(web::to(not_found)),
        )
    }
}

/// A public route naming a site or comment the route resolver doesn't know stops the start
/// here, with its name (see `RouteKind::of`), not later in each worker.
pub fn check_public_routes(settings: &Settings) {
    for group in groups(settings).iter().filter(|g| g.prefix == "/api/v1") {
        for r in &group.resources {
            RouteKind::of(r.path);
        }
    }
}

/// The groups this server registers, in order; optional tables only where switched on.
fn groups(settings: &Settings) -> Vec<Group> {
    let mut root: Vec<&'static ApiResource> = ROOT.iter().collect();
    if settings.metrics.enabled {
        // Operators only, no auth: see [metrics] in config/default.toml.
        root.extend(METRICS);
    }
    if settings.server.demo {
        root.extend(DEMO);
    }
    let mut login: Vec<&'static ApiResource> = Vec::new();
    if settings.auth.dev_provider {
        // Before `/{provider}/callback`, which would otherwise take `dev` for a provider.
        login.extend(public::DEV_LOGIN);
    }
    login.extend(public::LOGIN);
    vec![
        Group {
            prefix: "",
            resources: root,
        },
        Group {
            prefix: "/health",
            resources: HEALTH.iter().collect(),
        },
        Group {
            prefix: "/api/v1",
            resources: public::PUBLIC_API.iter().collect(),
        },
        Group {
            prefix: "/api/mod/v1",
            resources: moderator::MODERATOR_API.iter().collect(),
        },
        Group {
            prefix: "/auth",
            resources: login,
        },
        Group {
            prefix: "/account/api",
            resources: account::ACCOUNT_API.iter().collect(),
        },
    ]
}

/// Every (method, full path) this server registers with these settings (HEAD, which each GET
/// also answers, left out).
pub fn registered_routes(settings: &Settings) -> Vec<(&'static str, String)> {
    groups(settings)
        .iter()
        .flat_map(|g| {
            g.resources.iter().flat_map(move |r| {
                r.methods()
                    .map(move |m| (m, format!("{}{}", g.prefix, r.path)))
            })
        })
        .collect()
}

static ROOT: &[ApiResource] = &[
    ApiResource {
        path: "/embed.js",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::widget::embed_js)),
    },
    ApiResource {
        path: "/api/openapi.json",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::ops::docs::document)),
    },
    ApiResource {
        path: "/api/docs",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::ops::docs::page)),
    },
    ApiResource {
        path: "/api/docs/{asset}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::ops::docs::asset)),
    },
    // The account page, on Colloquy's own origin (see `auth::account`).
    ApiResource {
        path: "/account",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::page::redirect)),
    },
    ApiResource {
        path: "/account/",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::page::page)),
    },
    ApiResource {
        path: "/account/{asset}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::page::asset)),
    },
    ApiResource {
        path: "/account/login/{provider}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::account::login::login)),
    },
];

static METRICS: &[ApiResource] = &[ApiResource {
    path: "/metrics",
    allow: "GET, HEAD",
    add: |r| r.route(get().to(crate::api::ops::metrics::scrape)),
}];

static DEMO: &[ApiResource] = &[
    ApiResource {
        path: "/demo/",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::widget::demo_page)),
    },
    ApiResource {
        path: "/demo",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::widget::demo_redirect)),
    },
];

static HEALTH: &[ApiResource] = &[
    ApiResource {
        path: "/live",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::ops::health::live)),
    },
    ApiResource {
        path: "/ready",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::api::ops::health::ready)),
    },
];

/// Every resource of the moderator API, as registered.
pub fn moderator_resources() -> &'static [ApiResource] {
    moderator::MODERATOR_API
}

/// Every (method, path) of the moderator API (HEAD, which each GET also answers, left out).
pub fn moderator_routes() -> Vec<(&'static str, &'static str)> {
    moderator::MODERATOR_API
        .iter()
        .flat_map(|r| r.methods().map(move |m| (m, r.path)))
        .collect()
}

/// Until migrations have run, API requests answer 503 instead of failing on missing tables.
async fn require_database(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let ready = req
        .app_data::<web::Data<AppState>>()
        .is_some_and(|s| s.db.is_migrated());
    if !ready {
        let err = ApiError::unavailable(anyhow::anyhow!("database not ready"));
        return Ok(req.into_response(err.error_response()));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}
