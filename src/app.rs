//! Builds the application: pool, migrations supervisor, routes, middleware, listener.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpServer, ResponseError, web};
use tracing_actix_web::TracingLogger;

use crate::auth::moderators::invitations;
use crate::auth::moderators::routes as moderators;
use crate::auth::providers::Providers;
use crate::comments::ThreadCache;
use crate::config::Settings;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::http::errors::{json_error_bodies, method_not_allowed, not_found};
use crate::http::json::JsonLimit;
use crate::http::route::{self, RouteKind};
use crate::http::telemetry::RequestSpan;
use crate::moderation::routes as moderation;
use crate::sites::{Site, SiteCache};
use crate::{auth, comments, health, sites};

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub sites: SiteCache,
    pub threads: ThreadCache,
    pub hub: crate::notify::Hub,
    /// Slots of the node's open event streams (per client IP and per node).
    pub streams: crate::notify::streams::StreamLimiter,
    pub providers: Providers,
    /// Sites' compiled auto-moderation rules and the pool that matches them.
    pub rules: Arc<crate::moderation::rule_engine::RuleEngine>,
    /// `/api/openapi.json`, serialized once at start.
    pub openapi: web::Bytes,
}

impl AppState {
    /// The site named in a path, or 404 (a malformed slug is simply an unknown site).
    pub async fn site(&self, slug: &str) -> ApiResult<Arc<Site>> {
        if crate::domain::SiteSlug::parse(slug).is_err() {
            return Err(sites::routes::unknown_site());
        }
        self.sites
            .get(&self.db.pool, slug)
            .await?
            .ok_or_else(sites::routes::unknown_site)
    }
}

pub struct Application {
    port: u16,
    server: Server,
    db: Db,
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and starts the database supervisor; the
    /// server answers at once, with 503 until the database is ready.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        crate::auth::dev::ensure_loopback_only(settings.auth.dev_provider, &settings.server.host)?;
        if settings.auth.dev_provider {
            tracing::warn!(
                host = %settings.server.host,
                "auth.dev_provider is on: anyone who reaches this server can log in as anyone \
                 without a password (local demos and tests only; listening on loopback only)"
            );
        }
        let db = Db::lazy(&settings.database)?;
        let supervisor_db = db.clone();
        let db_settings = settings.database.clone();
        tokio::spawn(async move { supervisor_db.prepare_until_ready(&db_settings).await });

        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on {}:{}: {e}",
                    settings.server.host,
                    settings.server.port
                )
            })?;
        let local = listener.local_addr()?;
        if settings.auth.dev_provider && !local.ip().to_canonical().is_loopback() {
            // `localhost` resolved to something else: refuse all the same.
            anyhow::bail!(
                "auth.dev_provider is on, but server.host {:?} is not a loopback address; \
                 the dev login listens only on 127.0.0.1, ::1 or localhost",
                settings.server.host
            );
        }
        let port = local.port();
        let workers = settings.server.workers;
        if settings.metrics.enabled {
            // Installs the process's recorder before the first request can record anything.
            crate::metrics::handle();
        }
        let providers = Providers::new(&settings.auth, &settings.server.public_url)?;
        let threads = ThreadCache::default();
        let hub = crate::notify::Hub::default();
        tokio::spawn(hub.clone().listen(db.clone(), threads.clone()));
        tokio::spawn(crate::janitor::run(db.clone()));
        if settings.server.demo {
            tokio::spawn(crate::widget::demo::ensure_site(
                db.clone(),
                Arc::new(settings.clone()),
            ));
        }
        // A public route naming a site or comment the route resolver doesn't know stops the
        // start here, with its name (see `RouteKind::of`), not later in each worker.
        for group in groups(&settings).iter().filter(|g| g.prefix == "/api/v1") {
            for r in &group.resources {
                RouteKind::of(r.path);
            }
        }
        let open_files = crate::notify::streams::raise_open_files_limit();
        let stream_cap = crate::notify::streams::node_cap(settings.streams.per_node, open_files);
        tracing::info!(
            open_files_limit = open_files,
            streams_per_node = stream_cap,
            streams_per_ip = settings.streams.per_ip,
            "open-files soft limit raised to the hard limit; event streams capped"
        );
        if stream_cap < settings.streams.per_node as usize {
            tracing::warn!(
                configured = settings.streams.per_node,
                in_force = stream_cap,
                "streams.per_node is above three quarters of the open-files limit; lowered"
            );
        }
        let streams = crate::notify::streams::StreamLimiter::new(
            settings.streams.per_ip,
            settings.streams.per_network,
            stream_cap,
        );
        let openapi = crate::openapi::document(&settings).to_json()?;
        let state = web::Data::new(AppState {
            openapi: web::Bytes::from(openapi),
            db: db.clone(),
            sites: SiteCache::new(std::time::Duration::from_millis(settings.cache.site_ttl_ms)),
            settings: Arc::new(settings),
            threads,
            hub,
            streams,
            providers,
            rules: Arc::default(),
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .configure(|cfg| configure(cfg, &state))
                .default_service(web::to(not_found))
                .wrap(from_fn(json_error_bodies))
                .wrap(from_fn(crate::metrics::track))
                .wrap(TracingLogger::<RequestSpan>::new())
        })
        // A client that closes its side of the connection is gone: the dispatcher then drops
        // the request's handler future, so work nobody waits for stops (a rule dry-run checks
        // a flag its handler's drop sets). actix's default keeps serving half-closed
        // connections, which left an abandoned dry-run replaying for minutes.
        .h1_allow_half_closed(false)
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        let server = server.disable_signals().shutdown_timeout(10).run();
        Ok(Self { port, server, db })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Runs until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            handle.stop(true).await;
        });
        self.server.await
    }

    /// Runs until the future is dropped (tests).
    pub async fn run(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Every route of the app. Each resource answers 405 for methods it doesn't have. The routes
/// come only from the tables below, so [`registered_routes`] is the complete list (the OpenAPI
/// test and the moderator authorization test walk it).
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
                        .wrap(from_fn(auth::account::cookie::guard))
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
        login.extend(DEV_LOGIN);
    }
    login.extend(LOGIN);
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
            resources: PUBLIC_API.iter().collect(),
        },
        Group {
            prefix: "/api/mod/v1",
            resources: MODERATOR_API.iter().collect(),
        },
        Group {
            prefix: "/auth",
            resources: login,
        },
        Group {
            prefix: "/account/api",
            resources: ACCOUNT_API.iter().collect(),
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

/// One resource: its path under its group's prefix, the methods it answers (also its 405's
/// `Allow`), and how its handlers are added.
pub struct ApiResource {
    pub path: &'static str,
    pub allow: &'static str,
    add: fn(actix_web::Resource) -> actix_web::Resource,
}

impl ApiResource {
    /// The methods of this resource, HEAD left out.
    pub fn methods(&self) -> impl Iterator<Item = &'static str> {
        self.allow.split(", ").filter(|m| *m != "HEAD")
    }
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
        add: |r| r.route(get().to(crate::openapi::viewer::document)),
    },
    ApiResource {
        path: "/api/docs",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::openapi::viewer::page)),
    },
    ApiResource {
        path: "/api/docs/{asset}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::openapi::viewer::asset)),
    },
    // The account page, on Colloquy's own origin (see `auth::account`).
    ApiResource {
        path: "/account",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::page::redirect)),
    },
    ApiResource {
        path: "/account/",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::page::page)),
    },
    ApiResource {
        path: "/account/{asset}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::page::asset)),
    },
    ApiResource {
        path: "/account/login/{provider}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::login::login)),
    },
];

/// The account page's JSON API: account sessions (cookie) only, behind the CSRF guard.
static ACCOUNT_API: &[ApiResource] = &[
    ApiResource {
        path: "/providers",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::routes::providers)),
    },
    ApiResource {
        path: "/me",
        allow: "GET, HEAD, DELETE",
        add: |r| {
            r.route(get().to(auth::account::routes::me))
                .route(web::delete().to(auth::account::routes::erase))
        },
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(auth::account::login::logout)),
    },
    ApiResource {
        path: "/comments",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::routes::comments)),
    },
    ApiResource {
        path: "/export",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::account::routes::export)),
    },
    ApiResource {
        path: "/links/{provider}",
        allow: "POST",
        add: |r| r.route(web::post().to(auth::account::routes::start_link)),
    },
    ApiResource {
        path: "/identities/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(auth::account::routes::unlink)),
    },
];

static METRICS: &[ApiResource] = &[ApiResource {
    path: "/metrics",
    allow: "GET, HEAD",
    add: |r| r.route(get().to(crate::metrics::scrape)),
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
        add: |r| r.route(get().to(health::live)),
    },
    ApiResource {
        path: "/ready",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(health::ready)),
    },
];

/// What the widget calls, from the blog's origin (CORS per site).
static PUBLIC_API: &[ApiResource] = &[
    ApiResource {
        path: "/sites/{site}",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(sites::routes::get_site)),
    },
    ApiResource {
        path: "/sites/{site}/thread",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(comments::routes::get_thread)),
    },
    ApiResource {
        path: "/sites/{site}/counts",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(comments::routes::get_counts)),
    },
    ApiResource {
        path: "/sites/{site}/events",
        allow: "GET",
        add: |r| r.route(web::get().to(crate::notify::events::thread_events)),
    },
    ApiResource {
        path: "/sites/{site}/comments",
        allow: "POST",
        add: |r| r.route(web::post().to(comments::routes::post_comment)),
    },
    // A blog's session reaches this blog only: what spans blogs (every comment, export, erase,
    // linking logins) is on the account page, `ACCOUNT_API`, never here.
    ApiResource {
        path: "/me",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::routes::me)),
    },
    ApiResource {
        path: "/me/appeals",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::moderation::appeal_routes::my_appeals)),
    },
    ApiResource {
        path: "/sites/{site}/appeal",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::appeal_routes::appeal_ban)),
    },
    ApiResource {
        path: "/comments/{id}/appeal",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::appeal_routes::appeal_comment)),
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(auth::routes::logout)),
    },
    ApiResource {
        path: "/comments/{id}",
        allow: "PATCH, DELETE",
        add: |r| {
            r.route(web::patch().to(comments::routes::edit_comment))
                .route(web::delete().to(comments::routes::delete_comment))
        },
    },
    ApiResource {
        path: "/comments/{id}/flags",
        allow: "POST",
        add: |r| r.route(web::post().to(comments::routes::flag_comment)),
    },
    ApiResource {
        path: "/comments/{id}/vote",
        allow: "PUT",
        add: |r| r.route(web::put().to(comments::routes::vote_comment)),
    },
];

static DEV_LOGIN: &[ApiResource] = &[
    ApiResource {
        path: "/dev/authorize",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::routes::dev_authorize)),
    },
    ApiResource {
        path: "/dev/callback",
        allow: "POST",
        add: |r| r.route(web::post().to(auth::routes::dev_callback)),
    },
];

static LOGIN: &[ApiResource] = &[
    ApiResource {
        path: "/{provider}/login",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::routes::login)),
    },
    ApiResource {
        path: "/{provider}/callback",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(auth::routes::callback)),
    },
];

/// The whole moderator API.
static MODERATOR_API: &[ApiResource] = &[
    ApiResource {
        path: "/login",
        allow: "POST",
        add: |r| r.route(web::post().to(moderators::login)),
    },
    ApiResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(moderators::logout)),
    },
    ApiResource {
        path: "/me/password",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::auth::moderators::account::change_password)),
    },
    // Public (throttled like login): the invitee may have no account yet.
    ApiResource {
        path: "/invitations/accept",
        allow: "POST",
        add: |r| r.route(web::post().to(invitations::accept)),
    },
    ApiResource {
        path: "/tokens",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderators::list_tokens))
                .route(web::post().to(moderators::create_token))
        },
    },
    ApiResource {
        path: "/tokens/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(moderators::revoke_token)),
    },
    ApiResource {
        path: "/me/audit",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::moderation::audit_routes::my_audit)),
    },
    ApiResource {
        path: "/sites",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderators::list_sites)),
    },
    ApiResource {
        path: "/sites/{site}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(moderators::get_site))
                .route(web::patch().to(sites::settings::patch_site))
        },
    },
    ApiResource {
        path: "/sites/{site}/moderators",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderators::list_team))
                .route(web::post().to(invitations::invite))
        },
    },
    ApiResource {
        path: "/sites/{site}/moderators/{id}",
        allow: "PATCH, DELETE",
        add: |r| {
            r.route(web::patch().to(moderators::change_role))
                .route(web::delete().to(moderators::remove_member))
        },
    },
    ApiResource {
        path: "/sites/{site}/invitations",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(invitations::list_invitations)),
    },
    ApiResource {
        path: "/sites/{site}/invitations/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(invitations::revoke_invitation)),
    },
    ApiResource {
        path: "/sites/{site}/queue",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::list_queue)),
    },
    ApiResource {
        path: "/sites/{site}/queue/claim",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::claim_queue)),
    },
    ApiResource {
        path: "/sites/{site}/events",
        allow: "GET",
        add: |r| r.route(web::get().to(crate::notify::events::queue_events)),
    },
    ApiResource {
        path: "/sites/{site}/comments",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::search_comments)),
    },
    ApiResource {
        path: "/sites/{site}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::bulk_act)),
    },
    ApiResource {
        path: "/sites/{site}/audit",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::moderation::audit_routes::audit_log)),
    },
    ApiResource {
        path: "/sites/{site}/bans",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderation::list_bans))
                .route(web::post().to(moderation::create_ban))
        },
    },
    ApiResource {
        path: "/sites/{site}/bans/{id}",
        allow: "GET, HEAD, DELETE",
        add: |r| {
            r.route(get().to(moderation::get_ban))
                .route(web::delete().to(moderation::delete_ban))
        },
    },
    ApiResource {
        path: "/sites/{site}/rules",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderation::list_rules))
                .route(web::post().to(moderation::create_rule))
        },
    },
    // Before `/rules/{id}`, which would otherwise take `dry-run` for an id.
    ApiResource {
        path: "/sites/{site}/rules/dry-run",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::dry_run::dry_run)),
    },
    ApiResource {
        path: "/sites/{site}/rules/{id}",
        allow: "GET, HEAD, PATCH, DELETE",
        add: |r| {
            r.route(get().to(moderation::get_rule))
                .route(web::patch().to(moderation::patch_rule))
                .route(web::delete().to(moderation::delete_rule))
        },
    },
    ApiResource {
        path: "/sites/{site}/appeals",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::moderation::appeal_routes::list_appeals)),
    },
    ApiResource {
        path: "/appeals/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::appeal_routes::decide_appeal)),
    },
    ApiResource {
        path: "/sites/{site}/users/{id}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(moderation::get_user))
                .route(web::patch().to(moderation::patch_user))
        },
    },
    ApiResource {
        path: "/comments/{id}",
        allow: "PATCH",
        add: |r| r.route(web::patch().to(moderation::edit_comment)),
    },
    ApiResource {
        path: "/comments/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::act)),
    },
    ApiResource {
        path: "/comments/{id}/release",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::release_claim)),
    },
    ApiResource {
        path: "/comments/{id}/history",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::comment_history)),
    },
];

/// Every resource of the moderator API, as registered.
pub fn moderator_resources() -> &'static [ApiResource] {
    MODERATOR_API
}

/// Every (method, path) of the moderator API (HEAD, which each GET also answers, left out).
pub fn moderator_routes() -> Vec<(&'static str, &'static str)> {
    MODERATOR_API
        .iter()
        .flat_map(|r| r.methods().map(move |m| (m, r.path)))
        .collect()
}

/// A resource that answers 405 with `Allow` for methods it doesn't have.
fn resource(path: &str, allow: &'static str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(move || method_not_allowed(allow)))
}

/// GET, and HEAD for the same handler (actix sends no body for HEAD).
fn get() -> actix_web::Route {
    web::route().guard(actix_web::guard::Any(actix_web::guard::Get()).or(actix_web::guard::Head()))
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
