//! Throttling

use super::*;

#[tokio::test]
async fn a_strangers_failures_from_one_address_do_not_stop_the_owner_at_another() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;

    // A stranger guesses from X...
    for _ in 1..=5 {
        let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.7")).await;
        assert_error(r, 401, "unauthenticated").await;
    }
    // ...and is stopped there, even with the right password (no oracle past the limit).
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.7")).await;
    let retry = assert_throttled(r).await;
    assert!(retry > 800, "the window just started: {retry}");
    // Email matching is case-insensitive for the counter too.
    let r = login_from(&app, "ANN@example.com", PASSWORD, Some("198.51.100.7")).await;
    assert_throttled(r).await;
    // The owner at Y, with no failures of their own, logs in.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(r.status(), 200);
    // The stranger's count stands: the owner's success forgives only Y's failures.
    let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.7")).await;
    assert_throttled(r).await;
    // Another account from X is not affected.
    add_moderator(&app, "bob@example.com", &blog, Role::Moderator).await;
    let r = login_from(&app, "bob@example.com", PASSWORD, Some("198.51.100.7")).await;
    assert_eq!(r.status(), 200);

    // Unknown emails are counted the same way, so a 429 doesn't reveal an account either.
    for _ in 0..5 {
        let r = login_from(&app, "ghost@example.com", "guess", Some("203.0.113.1")).await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = login_from(&app, "ghost@example.com", "guess", Some("203.0.113.1")).await;
    assert_throttled(r).await;
}

#[tokio::test]
async fn an_ipv6_neighbour_in_the_same_64_counts_as_the_same_address() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    // Five hosts of one /64 (one attacker rotating interface ids) share one counter.
    for i in 1..=5 {
        let ip = format!("2001:db8:1:2::{i:x}");
        let r = login_from(&app, "ann@example.com", "guess", Some(&ip)).await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = login_from(
        &app,
        "ann@example.com",
        PASSWORD,
        Some("2001:db8:1:2:ffff:ffff:ffff:9"),
    )
    .await;
    assert_throttled(r).await;
    // The next /64 over is somebody else.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("2001:db8:1:3::1")).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn spraying_many_emails_from_one_address_is_throttled() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    let per_ip = app.settings.auth.login_max_failures_per_ip;
    assert!(per_ip > app.settings.auth.login_max_failures_per_email_ip);

    // One password tried on many accounts: each email sees a single failure.
    for i in 1..=per_ip {
        let r = login_from(
            &app,
            &format!("user{i}@example.com"),
            "Summer2026!",
            Some("192.0.2.9"),
        )
        .await;
        assert_error(r, 401, "unauthenticated").await;
    }
    let r = login_from(&app, "fresh@example.com", "Summer2026!", Some("192.0.2.9")).await;
    assert_throttled(r).await;
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.9")).await;
    assert_throttled(r).await;
    // The same account from elsewhere logs in fine.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.10")).await;
    assert_eq!(r.status(), 200);
    // The tables keep digests, never an email or an address.
    let stored: Vec<(Vec<u8>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT email_hash, ip_hash FROM login_failures")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), per_ip as usize);
    for (email, ip) in stored {
        assert_eq!(email.len(), 32);
        assert_eq!(ip.map(|h| h.len()), Some(32));
    }
    let known: Vec<(Vec<u8>, Vec<u8>)> =
        sqlx::query_as("SELECT email_hash, ip_hash FROM login_known_addresses")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(known.len(), 1);
    assert_eq!((known[0].0.len(), known[0].1.len()), (32, 32));
}

#[tokio::test]
async fn distributed_guessing_backs_off_but_never_locks_out_the_owner_where_they_log_in() {
    let app = spawn_app_with(|s| {
        s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
        s.auth.login_email_backoff_after = 10;
        s.auth.login_email_backoff_max_s = 60;
    })
    .await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    // The owner's usual place.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(r.status(), 200);

    // A botnet: 13 addresses, one guess each, all under their own per-address limit. Past the
    // tenth, each guess waits out the backoff (here: time moves on between guesses).
    for i in 1..=13 {
        if i > 10 {
            let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.99")).await;
            assert_throttled(r).await;
            sqlx::query("UPDATE login_failures SET at = at - interval '60 seconds'")
                .execute(&app.db)
                .await
                .unwrap();
        }
        let r = login_from(
            &app,
            "ann@example.com",
            "guess",
            Some(&format!("198.51.100.{i}")),
        )
        .await;
        assert_error(r, 401, "unauthenticated").await;
    }
    // Past the email's ceiling a fresh address backs off: 2^(13-10) s after the latest failure.
    let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.99")).await;
    let retry = assert_throttled(r).await;
    assert!((7..=8).contains(&retry), "Retry-After {retry}");
    // Refused attempts are not counted, so hammering doesn't push the backoff further.
    for _ in 0..5 {
        let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.98")).await;
        assert_throttled(r).await;
    }
    assert_eq!(failures(&app).await, 13);
    // The owner where they logged in before gets in at once, even past the ceiling.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("203.0.113.5")).await;
    assert_eq!(r.status(), 200);
    // From a new place the owner waits out the backoff like everyone: no hard lock.
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.77")).await;
    assert_throttled(r).await;
    sqlx::query("UPDATE login_failures SET at = at - interval '9 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("192.0.2.77")).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn throttling_is_a_window_that_refused_attempts_do_not_extend() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    for _ in 0..5 {
        login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
    }
    // An attacker hammering on doesn't push the end of the lock-out further away.
    for _ in 0..10 {
        let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
        assert_throttled(r).await;
    }
    assert_eq!(failures(&app).await, 5);

    // Once the failures are older than the window, the owner gets in.
    sqlx::query("UPDATE login_failures SET at = at - interval '901 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.2")).await;
    assert_eq!(r.status(), 200);

    // Part of the window gone: Retry-After counts down to when the oldest counted one expires.
    sqlx::query("DELETE FROM login_failures")
        .execute(&app.db)
        .await
        .unwrap();
    for _ in 0..5 {
        login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
    }
    sqlx::query("UPDATE login_failures SET at = at - interval '600 seconds'")
        .execute(&app.db)
        .await
        .unwrap();
    let r = login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")).await;
    let retry = assert_throttled(r).await;
    assert!((290..=301).contains(&retry), "Retry-After {retry}");
}

#[tokio::test]
async fn concurrent_guesses_cannot_slip_past_the_limit() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;
    // Each attempt is recorded before its password is checked, so however the burst from one
    // address interleaves, no more than five guesses get as far as argon2.
    let burst = (0..12).map(|_| login_from(&app, "ann@example.com", "guess", Some("198.51.100.1")));
    let statuses: Vec<u16> = futures_util::future::join_all(burst)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|&&s| s == 401).count();
    let refused = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(checked + refused, 12, "{statuses:?}");
    assert!(checked <= 5, "{checked} guesses were checked: {statuses:?}");
    assert_eq!(failures(&app).await, checked as i64);
}

#[tokio::test]
async fn a_success_forgives_its_own_ip_only() {
    let app = proxied_app().await;
    let blog = site(&app, "blog").await;
    add_moderator(&app, "ann@example.com", &blog, Role::Owner).await;

    // The owner mistypes twice, then gets it right: those failures are forgiven.
    for _ in 0..2 {
        login_from(&app, "ann@example.com", "typo", Some("198.51.100.1")).await;
    }
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(failures(&app).await, 0);

    // A guesser elsewhere fails four times; the owner's login doesn't reset the guesser's count.
    for _ in 0..4 {
        login_from(&app, "ann@example.com", "guess", Some("203.0.113.66")).await;
    }
    let r = login_from(&app, "ann@example.com", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(failures(&app).await, 4);
    let r = login_from(&app, "ann@example.com", "guess", Some("203.0.113.66")).await;
    assert_error(r, 401, "unauthenticated").await;
    let r = login_from(&app, "ann@example.com", "guess", Some("203.0.113.66")).await;
    assert_throttled(r).await;
}
