//! Builds the application: pool, migrations supervisor, routes, middleware, listener.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use tracing_actix_web::TracingLogger;

use crate::auth::providers::Providers;
use crate::config::Settings;
use crate::db::Db;
use crate::http::errors::json_error_bodies;
use crate::http::telemetry::RequestSpan;
use crate::sites::SiteCache;
use crate::state::AppState;
use crate::thread_cache::ThreadCache;

/// The route table's lists, for tests and tools that walk every route.
pub use crate::api::routes::{moderator_resources, moderator_routes, registered_routes};

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
        db.relay.start();
        let threads =
            ThreadCache::new(std::time::Duration::from_millis(settings.cache.page_ttl_ms));
        let hub = crate::notify::Hub::default();
        tokio::spawn(hub.clone().listen(db.clone(), threads.clone()));
        tokio::spawn(crate::janitor::run(db.clone()));
        if settings.server.demo {
            tokio::spawn(crate::widget::demo::ensure_site(
                db.clone(),
                Arc::new(settings.clone()),
            ));
        }
        crate::api::routes::check_public_routes(&settings);
        let open_files = crate::notify::limiter::raise_open_files_limit();
        let stream_cap = crate::notify::limiter::node_cap(settings.streams.per_node, open_files);
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
        let streams = crate::notify::limiter::StreamLimiter::new(
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
                .configure(|cfg| crate::api::routes::configure(cfg, &state))
                .default_service(web::to(crate::http::errors::not_found))
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
