//! Builds the application: pool, migrations supervisor, routes, middleware, listener.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use tracing_actix_web::TracingLogger;

use crate::auth::moderators::routes as moderators;
use crate::auth::providers::Providers;
use crate::comments::ThreadCache;
use crate::config::Settings;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::http::errors::{json_error_bodies, method_not_allowed, not_found};
use crate::http::json::JsonLimit;
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
    pub providers: Providers,
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
        let port = listener.local_addr()?.port();
        let workers = settings.server.workers;
        if settings.metrics.enabled {
            // Installs the process's recorder before the first request can record anything.
            crate::metrics::handle();
        }
        let providers = Providers::new(&settings.auth, &settings.server.public_url)?;
        let threads = ThreadCache::default();
        let hub = crate::notify::Hub::default();
        tokio::spawn(hub.clone().listen(db.clone(), threads.clone()));
        if settings.server.demo {
            tokio::spawn(crate::widget::demo::ensure_site(
                db.clone(),
                Arc::new(settings.clone()),
            ));
        }
        let state = web::Data::new(AppState {
            db: db.clone(),
            settings: Arc::new(settings),
            sites: SiteCache::default(),
            threads,
            hub,
            providers,
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

/// Every route of the app. Each resource answers 405 for methods it doesn't have.
pub fn configure(cfg: &mut web::ServiceConfig, state: &web::Data<AppState>) {
    let limits = &state.settings.limits;
    if state.settings.server.demo {
        cfg.service(resource("/demo/", "GET, HEAD").route(get().to(crate::widget::demo_page)))
            .service(resource("/demo", "GET, HEAD").route(get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/demo/"))
                    .finish()
            })));
    }
    cfg.app_data(JsonLimit(limits.json_max_bytes))
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::validation("query", format!("malformed query string: {err}")).into()
        }))
        .app_data(
            web::PathConfig::default().error_handler(|_, _| ApiError::not_found("Resource").into()),
        )
        .service(resource("/embed.js", "GET, HEAD").route(get().to(crate::widget::embed_js)))
        .configure(|cfg| {
            if state.settings.metrics.enabled {
                // Operators only, no auth: see [metrics] in config/default.toml.
                cfg.service(
                    resource("/metrics", "GET, HEAD").route(get().to(crate::metrics::scrape)),
                );
            }
        })
        .service(
            web::scope("/health")
                .service(resource("/live", "GET, HEAD").route(get().to(health::live)))
                .service(resource("/ready", "GET, HEAD").route(get().to(health::ready))),
        )
        .service(
            web::scope("/api/v1")
                .wrap(from_fn(crate::http::cors::cors))
                .wrap(from_fn(require_database))
                .service(
                    resource("/sites/{site}", "GET, HEAD").route(get().to(sites::routes::get_site)),
                )
                .service(
                    resource("/sites/{site}/thread", "GET, HEAD")
                        .route(get().to(comments::routes::get_thread)),
                )
                .service(
                    resource("/sites/{site}/counts", "GET, HEAD")
                        .route(get().to(comments::routes::get_counts)),
                )
                .service(
                    resource("/sites/{site}/events", "GET")
                        .route(web::get().to(crate::notify::events::thread_events)),
                )
                .service(
                    resource("/sites/{site}/comments", "POST")
                        .route(web::post().to(comments::routes::post_comment)),
                )
                .service(
                    resource("/me", "GET, HEAD, DELETE")
                        .route(get().to(auth::routes::me))
                        .route(web::delete().to(auth::account::routes::erase)),
                )
                .service(
                    resource("/me/export", "GET, HEAD")
                        .route(get().to(auth::account::routes::export)),
                )
                .service(
                    resource("/me/identities/{provider}", "POST")
                        .route(web::post().to(auth::account::routes::link_identity)),
                )
                .service(
                    resource("/me/appeals", "GET, HEAD")
                        .route(get().to(crate::moderation::appeal_routes::my_appeals)),
                )
                .service(
                    resource("/sites/{site}/appeal", "POST")
                        .route(web::post().to(crate::moderation::appeal_routes::appeal_ban)),
                )
                .service(
                    resource("/comments/{id}/appeal", "POST")
                        .route(web::post().to(crate::moderation::appeal_routes::appeal_comment)),
                )
                .service(resource("/logout", "POST").route(web::post().to(auth::routes::logout)))
                .service(
                    resource("/comments/{id}", "PATCH, DELETE")
                        .route(web::patch().to(comments::routes::edit_comment))
                        .route(web::delete().to(comments::routes::delete_comment)),
                )
                .service(
                    resource("/comments/{id}/flags", "POST")
                        .route(web::post().to(comments::routes::flag_comment)),
                )
                .service(
                    resource("/comments/{id}/vote", "PUT")
                        .route(web::put().to(comments::routes::vote_comment)),
                )
                .default_service(web::to(not_found)),
        )
        .service(
            // Moderator tools are scripts and apps, not pages on a blog's origin: no CORS.
            MODERATOR_API
                .iter()
                .fold(
                    web::scope("/api/mod/v1").wrap(from_fn(require_database)),
                    |scope, r| scope.service((r.add)(resource(r.path, r.allow))),
                )
                .default_service(web::to(not_found)),
        )
        .service(
            // Browser navigations in the login popup: no CORS, HTML answers.
            web::scope("/auth")
                .wrap(from_fn(require_database))
                .app_data(
                    web::FormConfig::default()
                        .limit(4096)
                        .error_handler(|err, _| {
                            ApiError::validation("form", format!("malformed form: {err}")).into()
                        }),
                )
                .service(
                    resource("/dev/authorize", "GET, HEAD")
                        .route(get().to(auth::routes::dev_authorize)),
                )
                .service(
                    resource("/dev/callback", "POST")
                        .route(web::post().to(auth::routes::dev_callback)),
                )
                .service(
                    resource("/{provider}/login", "GET, HEAD").route(get().to(auth::routes::login)),
                )
                .service(
                    resource("/{provider}/callback", "GET, HEAD")
                        .route(get().to(auth::routes::callback)),
                ),
        );
}

/// One resource of the moderator API: its path under `/api/mod/v1`, the methods it answers
/// (also its 405's `Allow`), and how its handlers are added.
pub struct ModResource {
    pub path: &'static str,
    pub allow: &'static str,
    add: fn(actix_web::Resource) -> actix_web::Resource,
}

/// The whole moderator API. The scope is built from this table and only from it, so
/// [`moderator_routes`] is the complete list — the authorization test walks every entry.
static MODERATOR_API: &[ModResource] = &[
    ModResource {
        path: "/login",
        allow: "POST",
        add: |r| r.route(web::post().to(moderators::login)),
    },
    ModResource {
        path: "/logout",
        allow: "POST",
        add: |r| r.route(web::post().to(moderators::logout)),
    },
    ModResource {
        path: "/tokens",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderators::list_tokens))
                .route(web::post().to(moderators::create_token))
        },
    },
    ModResource {
        path: "/tokens/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(moderators::revoke_token)),
    },
    ModResource {
        path: "/sites",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderators::list_sites)),
    },
    ModResource {
        path: "/sites/{site}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(moderators::get_site))
                .route(web::patch().to(sites::settings::patch_site))
        },
    },
    ModResource {
        path: "/sites/{site}/moderators",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderators::list_team))
                .route(web::post().to(moderators::put_member))
        },
    },
    ModResource {
        path: "/sites/{site}/moderators/{id}",
        allow: "DELETE",
        add: |r| r.route(web::delete().to(moderators::remove_member)),
    },
    ModResource {
        path: "/sites/{site}/queue",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::list_queue)),
    },
    ModResource {
        path: "/sites/{site}/queue/claim",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::claim_queue)),
    },
    ModResource {
        path: "/sites/{site}/events",
        allow: "GET",
        add: |r| r.route(web::get().to(crate::notify::events::queue_events)),
    },
    ModResource {
        path: "/sites/{site}/comments",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::search_comments)),
    },
    ModResource {
        path: "/sites/{site}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::bulk_act)),
    },
    ModResource {
        path: "/sites/{site}/audit",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::audit_log)),
    },
    ModResource {
        path: "/sites/{site}/bans",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderation::list_bans))
                .route(web::post().to(moderation::create_ban))
        },
    },
    ModResource {
        path: "/sites/{site}/bans/{id}",
        allow: "GET, HEAD, DELETE",
        add: |r| {
            r.route(get().to(moderation::get_ban))
                .route(web::delete().to(moderation::delete_ban))
        },
    },
    ModResource {
        path: "/sites/{site}/rules",
        allow: "GET, HEAD, POST",
        add: |r| {
            r.route(get().to(moderation::list_rules))
                .route(web::post().to(moderation::create_rule))
        },
    },
    // Before `/rules/{id}`, which would otherwise take `dry-run` for an id.
    ModResource {
        path: "/sites/{site}/rules/dry-run",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::dry_run::dry_run)),
    },
    ModResource {
        path: "/sites/{site}/rules/{id}",
        allow: "GET, HEAD, PATCH, DELETE",
        add: |r| {
            r.route(get().to(moderation::get_rule))
                .route(web::patch().to(moderation::patch_rule))
                .route(web::delete().to(moderation::delete_rule))
        },
    },
    ModResource {
        path: "/sites/{site}/appeals",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(crate::moderation::appeal_routes::list_appeals)),
    },
    ModResource {
        path: "/appeals/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(crate::moderation::appeal_routes::decide_appeal)),
    },
    ModResource {
        path: "/sites/{site}/users/{id}",
        allow: "GET, HEAD, PATCH",
        add: |r| {
            r.route(get().to(moderation::get_user))
                .route(web::patch().to(moderation::patch_user))
        },
    },
    ModResource {
        path: "/comments/{id}",
        allow: "PATCH",
        add: |r| r.route(web::patch().to(moderation::edit_comment)),
    },
    ModResource {
        path: "/comments/{id}/actions",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::act)),
    },
    ModResource {
        path: "/comments/{id}/release",
        allow: "POST",
        add: |r| r.route(web::post().to(moderation::release_claim)),
    },
    ModResource {
        path: "/comments/{id}/history",
        allow: "GET, HEAD",
        add: |r| r.route(get().to(moderation::comment_history)),
    },
];

/// Every resource of the moderator API, as registered.
pub fn moderator_resources() -> &'static [ModResource] {
    MODERATOR_API
}

/// Every (method, path) of the moderator API (HEAD, which each GET also answers, left out).
pub fn moderator_routes() -> Vec<(&'static str, &'static str)> {
    MODERATOR_API
        .iter()
        .flat_map(|r| {
            r.allow
                .split(", ")
                .filter(|m| *m != "HEAD")
                .map(move |m| (m, r.path))
        })
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
