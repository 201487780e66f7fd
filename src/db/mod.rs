//! The connection pool, database creation, migrations, and readiness.
//!
//! The pool is lazy: the server starts while Postgres is down, answers 503, and a supervisor
//! task keeps trying to create the database and migrate it until it succeeds.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection};

use crate::config::{DatabaseSettings, database_name};

pub mod notes;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The pool plus whether the schema is known to be migrated.
#[derive(Clone)]
pub struct Db {
    pub pool: PgPool,
    /// Sends the announcements of transactions that deferred them (`notes::begin`).
    pub relay: notes::Relay,
    migrated: Arc<AtomicBool>,
}

impl Db {
    /// Builds a lazy pool: no connection is made until the first query.
    pub fn lazy(settings: &DatabaseSettings) -> anyhow::Result<Self> {
        let opts = connect_options(&settings.url)?;
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections)
            .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms))
            // Drop idle connections so a restarted Postgres isn't held to dead sockets for long.
            .idle_timeout(Duration::from_secs(60))
            .test_before_acquire(false)
            .connect_lazy_with(opts);
        Ok(Self {
            relay: notes::Relay::new(pool.clone()),
            pool,
            migrated: Arc::new(AtomicBool::new(false)),
        })
    }

    pub fn is_migrated(&self) -> bool {
        self.migrated.load(Ordering::Acquire)
    }

    /// Creates the database if asked, then applies migrations. Safe to run on many nodes at
    /// once: creation tolerates a concurrent creator and the migrator takes an advisory lock.
    pub async fn prepare(&self, settings: &DatabaseSettings) -> anyhow::Result<()> {
        if settings.create_if_missing {
            ensure_database(&settings.url).await?;
        }
        MIGRATOR.run(&self.pool).await?;
        self.migrated.store(true, Ordering::Release);
        Ok(())
    }

    /// Retries `prepare` with backoff until it succeeds; returns when the schema is ready.
    pub async fn prepare_until_ready(&self, settings: &DatabaseSettings) {
        let mut delay = Duration::from_millis(200);
        loop {
            match self.prepare(settings).await {
                Ok(()) => {
                    tracing::info!("database ready, migrations applied");
                    return;
                }
                Err(e) => {
                    tracing::warn!(error = %redact_error(&e), retry_in_ms = delay.as_millis() as u64, "database not ready");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// Readiness: migrated and answering a query now.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
    }
}

fn connect_options(url: &str) -> anyhow::Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)?
        .application_name("colloquy")
        // Statement logging would put comment bodies and emails in the log.
        .disable_statement_logging())
}

/// `CREATE DATABASE` for the database named in `url` when it does not exist yet.
pub async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let name =
        database_name(url).ok_or_else(|| anyhow::anyhow!("database.url names no database"))?;
    let target = connect_options(url)?;
    // Try the target first: the common case (it exists) needs no maintenance connection.
    match PgConnection::connect_with(&target).await {
        Ok(conn) => {
            let _ = conn.close().await;
            return Ok(());
        }
        Err(e) if is_missing_database(&e) => {}
        Err(e) => return Err(e.into()),
    }
    let mut admin = PgConnection::connect_with(&target.clone().database("postgres")).await?;
    let sql = format!("CREATE DATABASE {}", quote_ident(&name));
    match sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut admin)
        .await
    {
        Ok(_) => tracing::info!("created database"),
        // Another node (or test) created it between our check and now.
        Err(e) if is_sqlstate(&e, "42P04") || is_sqlstate(&e, "23505") => {}
        Err(e) => return Err(e.into()),
    }
    let _ = admin.close().await;
    Ok(())
}

/// Drops a database, closing its connections first (tests use this to clean up).
pub async fn drop_database(admin_url: &str, name: &str) -> anyhow::Result<()> {
    let opts = connect_options(admin_url)?.database("postgres");
    let mut admin = PgConnection::connect_with(&opts).await?;
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name));
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut admin)
        .await?;
    let _ = admin.close().await;
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn is_missing_database(e: &sqlx::Error) -> bool {
    is_sqlstate(e, "3D000")
}

/// One row of a site's table by its id, or None: `sql` binds the row's id as `$1` and the site's
/// id as `$2`, so a row of another site is simply not found.
pub async fn one_of_site<'c, T>(
    conn: impl sqlx::PgExecutor<'c>,
    sql: &'static str,
    id: uuid::Uuid,
    site_id: uuid::Uuid,
) -> Result<Option<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    sqlx::query_as(sql)
        .bind(id)
        .bind(site_id)
        .fetch_optional(conn)
        .await
}

/// The reads every store of "rows of a site" makes, as SQL built once from the store's
/// `SELECT <columns> FROM <table>` by [`site_rows!`]. The table has `id`, `site_id` and
/// `created_at` columns; a row of another site is simply not found, and pages are keyset pages
/// on `(created_at, id)`, oldest first, never OFFSET.
pub struct SiteRows {
    pub by_id_sql: &'static str,
    pub lock_sql: &'static str,
    pub page_sql: &'static str,
}

/// [`SiteRows`] for one `SELECT <columns> FROM <table>` (a literal, or `concat!` of literals:
/// the SQL stays `&'static str`, with every value bound).
macro_rules! site_rows {
    ($select:expr) => {
        $crate::db::SiteRows {
            by_id_sql: concat!($select, " WHERE id = $1 AND site_id = $2"),
            lock_sql: concat!($select, " WHERE id = $1 AND site_id = $2 FOR UPDATE"),
            page_sql: concat!(
                $select,
                " WHERE site_id = $1
                    AND (created_at, id) > (COALESCE($2::timestamptz, '-infinity'),
                                            COALESCE($3::uuid, '00000000-0000-0000-0000-000000000000'))
                  ORDER BY created_at, id
                  LIMIT $4"
            ),
        }
    };
}
pub(crate) use site_rows;

impl SiteRows {
    /// One row of the site by its id, or None.
    pub async fn by_id<'c, T>(
        &self,
        conn: impl sqlx::PgExecutor<'c>,
        id: uuid::Uuid,
        site_id: uuid::Uuid,
    ) -> Result<Option<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        one_of_site(conn, self.by_id_sql, id, site_id).await
    }

    /// One row of the site, locked in the caller's transaction (its state before a change).
    pub async fn lock<T>(
        &self,
        conn: &mut PgConnection,
        id: uuid::Uuid,
        site_id: uuid::Uuid,
    ) -> Result<Option<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        one_of_site(conn, self.lock_sql, id, site_id).await
    }

    /// Up to `limit` rows of the site after the keyset `after`, oldest first.
    pub async fn page<'c, T>(
        &self,
        conn: impl sqlx::PgExecutor<'c>,
        site_id: uuid::Uuid,
        after: Option<(time::OffsetDateTime, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<T>, sqlx::Error>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        let (at, id) = after.unzip();
        sqlx::query_as(self.page_sql)
            .bind(site_id)
            .bind(at)
            .bind(id)
            .bind(limit)
            .fetch_all(conn)
            .await
    }
}

pub fn is_sqlstate(e: &sqlx::Error, code: &str) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some(code))
}

/// The name of the constraint a database error violated, if any.
pub fn violated_constraint(e: &sqlx::Error) -> Option<&str> {
    match e {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// True when the error means "the database can't be reached right now" rather than "this
/// query is wrong": such errors answer 503 and the client retries.
pub fn is_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => true,
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            // 08: connection exception; 57P: operator intervention (shutdown, restart);
            // 3D000: database missing (dropped or not yet created); 53: insufficient resources.
            c.starts_with("08") || c.starts_with("57P") || c == "3D000" || c.starts_with("53")
        }),
        _ => false,
    }
}

/// An error message with any URL password masked, for logs.
pub fn redact_error(e: &anyhow::Error) -> String {
    let text = format!("{e:#}");
    // sqlx errors don't echo URLs, but a config mistake might; mask `user:pass@`.
    match (text.find("://"), text.find('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://<redacted>{}", &text[..s], &text[at..]),
        _ => text,
    }
}

/// A connected pool for the CLI's one-shot commands (they should fail fast, not wait for Postgres).
pub async fn connect_now(settings: &DatabaseSettings) -> anyhow::Result<PgPool> {
    if settings.create_if_missing {
        ensure_database(&settings.url).await?;
    }
    let opts = connect_options(&settings.url)?;
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms.max(5000)))
        .connect_with(opts)
        .await?;
    Ok(pool)
}

/// Migrations this build holds that the database has not applied (`colloquy migrate --check`),
/// as `version description`. Creates nothing: a missing database has every migration pending.
pub async fn pending_migrations(settings: &DatabaseSettings) -> anyhow::Result<Vec<String>> {
    use sqlx::migrate::Migrate;
    let all = || {
        MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
            .map(|m| format!("{} {}", m.version, m.description))
            .collect()
    };
    let opts = connect_options(&settings.url)?;
    let mut conn = match sqlx::ConnectOptions::connect(&opts).await {
        Ok(conn) => conn,
        // 3D000: invalid_catalog_name, the database does not exist yet.
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => return Ok(all()),
        Err(e) => return Err(e.into()),
    };
    let applied: std::collections::HashSet<i64> =
        match conn.list_applied_migrations(&MIGRATOR.table_name).await {
            Ok(applied) => applied.into_iter().map(|m| m.version).collect(),
            // 42P01: undefined_table, no migration ever ran here.
            Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(e)))
                if e.code().as_deref() == Some("42P01") =>
            {
                return Ok(all());
            }
            Err(e) => return Err(e.into()),
        };
    Ok(MIGRATOR
        .iter()
        .filter(|m| m.migration_type.is_up_migration() && !applied.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect())
}
