//! Test databases cloned from one migrated template.
//!
//! Running every migration for each of some 250 tests was most of a test's set-up time. Instead,
//! the first test of a run migrates one template database, and every test database is a
//! `CREATE DATABASE … TEMPLATE` copy of it (the copy brings `_sqlx_migrations` along, so the
//! app's own migration step at start finds nothing to do).
//!
//! The template's name carries a hash of `migrations/`, so a changed migration gets a new
//! template and test runs of different trees sharing one Postgres never see each other's
//! schema. Several test processes may start at once: the template is built under an advisory
//! lock, under a scratch name, and renamed only once fully migrated, so a template that exists
//! is complete. It then refuses connections, because Postgres can't copy a database that
//! someone is connected to.
//!
//! Dropping a database makes Postgres 15 wait for a checkpoint (seconds on a busy cluster), so
//! test databases are dropped in the background, several at once (their checkpoints coalesce),
//! while the next tests run; a test waits only when that many drops are already under way, and
//! the process waits for the drops before it exits. A database whose
//! test process was killed first is dropped by the next run (its name carries the pid).

use std::path::Path;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::{Connection, PgConnection};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio::sync::{OnceCell, Semaphore};
use uuid::Uuid;

use super::pg_base;

/// Serializes template builds across test processes (any fixed key unlikely to be used by the
/// app's own locks; sqlx's migrator derives its key from the database name).
const BUILD_LOCK: i64 = 0x636f_6c6c_6f71_7579;

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Drops running at once: enough for their checkpoints to coalesce, few enough to leave
/// connections for the tests (the cluster's limit is shared with every test process).
const CONCURRENT_DROPS: usize = 12;
const NAME_PREFIX: &str = "colloquy_t_";

/// A fresh test database name, carrying this process's id (see [`sweep_orphans`]).
pub fn test_db_name() -> String {
    format!(
        "{NAME_PREFIX}{}_{}",
        std::process::id(),
        Uuid::new_v4().simple()
    )
}

/// Creates database `name` as a copy of the migrated template.
pub async fn create_migrated_database(name: &str) {
    let template = TEMPLATE.get_or_init(ensure_template).await;
    let mut admin = admin().await;
    let sql = format!(
        "CREATE DATABASE {} TEMPLATE {}",
        quote(name),
        quote(template)
    );
    for attempt in 0.. {
        match sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut admin)
            .await
        {
            Ok(_) => break,
            // "source database is being accessed by other users": only while a connection to
            // the template is closing; it refuses new ones.
            Err(e) if colloquy::db::is_sqlstate(&e, "55006") && attempt < 100 => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("could not create test database {name} from {template}: {e}"),
        }
    }
    let _ = admin.close().await;
}

async fn admin() -> PgConnection {
    let url = format!("{}/postgres", pg_base());
    PgConnection::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to Postgres at {url}: {e}"))
}

/// The template for this tree's migrations, built if no test process has built it yet.
async fn ensure_template() -> String {
    let name = format!("colloquy_test_template_{}", migrations_hash());
    let mut admin = admin().await;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(BUILD_LOCK)
        .execute(&mut admin)
        .await
        .expect("template lock");
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .expect("look up the template");
    if !exists {
        build_template(&mut admin, &name).await;
    }
    sweep_orphans(&mut admin).await;
    sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(BUILD_LOCK)
        .execute(&mut admin)
        .await
        .expect("template unlock");
    let _ = admin.close().await;
    name
}

async fn build_template(admin: &mut PgConnection, name: &str) {
    // A run killed mid-build leaves its scratch database behind; start it over.
    let scratch = format!("{name}_building");
    let run = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql));
    // (It may already be marked as a template, which can't be dropped; or not exist at all.)
    let _ = run(format!(
        "ALTER DATABASE {} WITH IS_TEMPLATE false",
        quote(&scratch)
    ))
    .execute(&mut *admin)
    .await;
    run(format!(
        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
        quote(&scratch)
    ))
    .execute(&mut *admin)
    .await
    .expect("drop a stale scratch template");
    run(format!("CREATE DATABASE {}", quote(&scratch)))
        .execute(&mut *admin)
        .await
        .expect("create the scratch template");
    let mut conn = PgConnection::connect(&format!("{}/{scratch}", pg_base()))
        .await
        .expect("connect to the scratch template");
    colloquy::db::MIGRATOR
        .run(&mut conn)
        .await
        .expect("migrate the template");
    conn.close().await.expect("close the scratch template");
    run(format!(
        "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false",
        quote(&scratch)
    ))
    .execute(&mut *admin)
    .await
    .expect("mark the template");
    // Last, so a template under its real name is always complete.
    run(format!(
        "ALTER DATABASE {} RENAME TO {}",
        quote(&scratch),
        quote(name)
    ))
    .execute(&mut *admin)
    .await
    .expect("rename the template");
}

/// Queues the test database `name` to be dropped (`WITH (FORCE)`: the app's pool may still be
/// closing).
pub fn drop_later(name: String) {
    if name.is_empty() {
        return;
    }
    // Bounded, so drops keep pace with the tests (a backlog would only move the wait to the
    // end of the run, with the cluster's checkpoints ever longer meanwhile).
    while PENDING.load(Ordering::SeqCst) >= CONCURRENT_DROPS {
        std::thread::sleep(Duration::from_millis(10));
    }
    PENDING.fetch_add(1, Ordering::SeqCst);
    if dropper().send(name).is_err() {
        PENDING.fetch_sub(1, Ordering::SeqCst);
    }
}

static PENDING: AtomicUsize = AtomicUsize::new(0);
static DROPPER: OnceLock<UnboundedSender<String>> = OnceLock::new();

fn dropper() -> &'static UnboundedSender<String> {
    DROPPER.get_or_init(|| {
        let (tx, mut rx) = unbounded_channel::<String>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("dropper runtime");
            rt.block_on(async move {
                let slots = std::sync::Arc::new(Semaphore::new(CONCURRENT_DROPS));
                let url = format!("{}/postgres", pg_base());
                while let Some(name) = rx.recv().await {
                    let slot = slots.clone().acquire_owned().await.expect("open semaphore");
                    let url = url.clone();
                    tokio::spawn(async move {
                        if let Err(e) = colloquy::db::drop_database(&url, &name).await {
                            eprintln!("could not drop test database {name}: {e:#}");
                        }
                        drop(slot);
                        PENDING.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            });
        });
        // SAFETY: registers a plain function with no captured state; the C runtime calls it
        // once at exit, when the test harness is done.
        unsafe { libc::atexit(wait_for_drops) };
        tx
    })
}

/// At exit: give queued drops time to finish, so a run leaves no database behind.
extern "C" fn wait_for_drops() {
    let deadline = Instant::now() + Duration::from_secs(120);
    while PENDING.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Drops test databases whose process is gone (killed before its drops finished). Only
/// databases named by [`test_db_name`] on a local Postgres: pids mean nothing elsewhere.
async fn sweep_orphans(admin: &mut PgConnection) {
    let local = ["@127.0.0.1", "@localhost", "@[::1]"]
        .iter()
        .any(|h| pg_base().contains(h));
    if !local {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE starts_with(datname, $1)")
            .bind(NAME_PREFIX)
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let mut orphans = Vec::new();
    for name in names {
        let pid = name
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            orphans.push(name);
        }
    }
    // One at a time, on the side: this run's tests neither wait for them nor for their
    // checkpoints, and what this run doesn't finish the next one sweeps.
    tokio::spawn(async move {
        let url = format!("{}/postgres", pg_base());
        for name in orphans {
            let _ = colloquy::db::drop_database(&url, &name).await;
        }
    });
}

/// A short hash of every migration's name and text, in order.
fn migrations_hash() -> String {
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("migrations/ is readable")
        .map(|e| e.expect("migrations/ entry").path())
        .collect();
    files.sort();
    let mut hash = Sha256::new();
    for f in files {
        hash.update(f.file_name().unwrap_or_default().as_encoded_bytes());
        hash.update([0]);
        hash.update(std::fs::read(&f).expect("migration is readable"));
        hash.update([0]);
    }
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
