//! Change announcements a write transaction defers until after its commit (`db::notes`).

use std::time::Duration;

use colloquy::db::notes;
use sqlx::postgres::PgListener;

use crate::helpers::{SiteOpts, spawn_app};

/// The next notification on `colloquy_threads`, if one comes within `wait`.
async fn next(listener: &mut PgListener, wait: Duration) -> Option<String> {
    tokio::time::timeout(wait, listener.recv())
        .await
        .ok()
        .map(|n| n.unwrap().payload().to_owned())
}

#[tokio::test]
async fn a_deferring_transaction_announces_only_through_the_relay_after_commit() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let id = app.comment("blog", "/n/", "first").await;
    let mut listener = PgListener::connect_with(&app.db).await.unwrap();
    listener.listen("colloquy_threads").await.unwrap();
    // The post's own announcement is relayed after its answer: let it pass first.
    while next(&mut listener, Duration::from_millis(300))
        .await
        .is_some()
    {}

    // Deferred and committed without the relay: the trigger told nobody.
    let mut tx = notes::begin(&app.db).await.unwrap();
    sqlx::query("UPDATE comments SET score = score + 1 WHERE id = $1::uuid")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(next(&mut listener, Duration::from_millis(300)).await, None);

    // Deferred and committed through `notes::commit`: announced once, after the commit.
    let relay = notes::Relay::new(app.db.clone());
    let mut tx = notes::begin(&app.db).await.unwrap();
    sqlx::query("UPDATE comments SET score = score + 1 WHERE id = $1::uuid")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    notes::commit(tx, &relay).await.unwrap();
    let payload = next(&mut listener, Duration::from_secs(5)).await;
    assert!(
        payload
            .as_deref()
            .is_some_and(|p| p.ends_with(&format!(":{id}"))),
        "{payload:?}"
    );
    // A plain transaction (any other writer) is announced by the trigger, as always.
    sqlx::query("UPDATE comments SET score = score + 1 WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.db)
        .await
        .unwrap();
    let payload = next(&mut listener, Duration::from_secs(5)).await;
    assert!(payload.is_some_and(|p| p.ends_with(&format!(":{id}"))));
}
