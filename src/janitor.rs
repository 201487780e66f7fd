//! Deletes what has expired: sessions, login attempts, idempotency keys, invitations, known
//! login addresses. Nothing reads those rows once expired (every lookup checks the time), but
//! without a sweep they pile up for ever — a busy blog writes an idempotency key per comment and
//! a session per login.

use std::time::Duration;

use sqlx::PgPool;

use crate::db::Db;

/// How often each node sweeps. Sweeps are idempotent, so nodes needn't coordinate.
const INTERVAL: Duration = Duration::from_secs(600);
/// Rows per statement, so a first sweep of a large backlog never holds long locks.
const BATCH: i64 = 5_000;

/// One batched delete per table, as (table, SQL). A row is expired when every lookup would
/// ignore it already; idempotency keys protect retries for 24 hours.
macro_rules! sweep_sql {
    ($table:literal, $expired:literal) => {
        (
            $table,
            concat!(
                "DELETE FROM ",
                $table,
                " WHERE ctid = ANY (ARRAY(SELECT ctid FROM ",
                $table,
                " WHERE ",
                $expired,
                " LIMIT $1))"
            ),
        )
    };
}

const SWEEPS: &[(&str, &str)] = &[
    sweep_sql!("sessions", "expires_at < now()"),
    sweep_sql!("moderator_sessions", "expires_at < now()"),
    sweep_sql!("login_states", "expires_at < now()"),
    sweep_sql!(
        "idempotency_keys",
        "created_at < now() - interval '24 hours'"
    ),
    // An invitation can't be accepted once expired; a month later it is no use to its owners
    // either (the audit log keeps what happened to it).
    sweep_sql!(
        "moderator_invitations",
        "expires_at < now() - interval '30 days'"
    ),
    // auth.login_known_address_days is at most 365, so older rows exempt nobody.
    sweep_sql!(
        "login_known_addresses",
        "last_success_at < now() - interval '366 days'"
    ),
    sweep_sql!(
        "erased_identity_bans",
        "ban_id IN (SELECT id FROM bans WHERE until < now())"
    ),
];

/// Rows deleted per table by one sweep.
pub type Swept = Vec<(&'static str, u64)>;

/// One sweep of every table, in batches.
pub async fn sweep(pool: &PgPool) -> Result<Swept, sqlx::Error> {
    let mut swept = Vec::with_capacity(SWEEPS.len());
    for (table, sql) in SWEEPS {
        let mut total = 0;
        loop {
            let n = sqlx::query(*sql)
                .bind(BATCH)
                .execute(pool)
                .await?
                .rows_affected();
            total += n;
            if n < BATCH as u64 {
                break;
            }
        }
        swept.push((*table, total));
    }
    Ok(swept)
}

/// Sweeps every [`INTERVAL`] once the schema is migrated, for the life of the process.
pub async fn run(db: Db) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if !db.is_migrated() {
            continue;
        }
        match sweep(&db.pool).await {
            Ok(swept) => {
                let total: u64 = swept.iter().map(|(_, n)| n).sum();
                if total > 0 {
                    tracing::info!(?swept, "expired rows swept");
                }
            }
            Err(e) => tracing::warn!(error = %e, "sweeping expired rows failed; next time"),
        }
    }
}
