use std::collections::HashSet;

use colloquy::app::Application;
use serde_json::{Value, json};

use crate::helpers::{SiteOpts, TestApp, http_client, spawn_app, spawn_app_with, wait_ready};

fn ids(page: &Value) -> Vec<String> {
    page["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn set_score(app: &TestApp, id: &str, score: i32) {
    sqlx::query("UPDATE comments SET score = $2 WHERE id = $1::uuid")
        .bind(id)
        .bind(score)
        .execute(&app.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn site_config_is_public_and_unknown_sites_are_404() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let (status, body) = app.get_json("/api/v1/sites/blog").await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "The blog blog");
    assert_eq!(body["guests"], true);
    assert_eq!(body["providers"], json!([]));
    assert_eq!(body["max_depth"], 5);
    assert_eq!(body["edit_window_s"], 900);
    assert!(
        body.get("origins").is_none(),
        "origins are not needed by the widget"
    );
    let (status, body) = app.get_json("/api/v1/sites/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn an_unknown_uri_is_an_empty_thread_not_a_404() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let page = app.thread("blog", "uri=/never-commented/").await;
    assert_eq!(
        page,
        json!({
            "thread": { "id": null, "uri": "/never-commented/", "title": null, "url": null, "locked": false, "comment_count": 0 },
            "comments": [],
            "next_cursor": null
        })
    );
}

#[tokio::test]
async fn threads_list_approved_comments_with_replies_after_their_parents() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let a = app.comment("blog", "/t/", "first").await;
    let b = app.comment("blog", "/t/", "second").await;
    let (_, a1) = app.reply("blog", "/t/", &a, "reply to first").await;
    let a1 = a1["comment"]["id"].as_str().unwrap().to_owned();
    let (_, a1x) = app.reply("blog", "/t/", &a1, "reply to reply").await;
    let a1x = a1x["comment"]["id"].as_str().unwrap().to_owned();
    let hidden = app.comment("blog", "/t/", "held").await;
    app.set_status(&hidden, "pending").await;
    let spam = app.comment("blog", "/t/", "spam").await;
    app.set_status(&spam, "spam").await;
    app.comment("blog", "/other/", "elsewhere").await;

    let page = app.thread("blog", "uri=/t/").await;
    assert_eq!(
        ids(&page),
        vec![a.clone(), a1.clone(), a1x.clone(), b.clone()]
    );
    assert_eq!(page["thread"]["comment_count"], 4);
    let comments = page["comments"].as_array().unwrap();
    assert_eq!(comments[0]["replies_count"], 1);
    assert_eq!(comments[1]["parent_id"], a.as_str());
    assert_eq!(comments[2]["depth"], 3);
    assert_eq!(comments[3]["replies_count"], 0);
    for c in comments {
        assert!(
            c.get("status").is_none(),
            "status is shown only to the author: {c}"
        );
        for key in [
            "id",
            "thread_id",
            "parent_id",
            "author",
            "html",
            "created_at",
            "edited_at",
            "score",
            "replies_count",
        ] {
            assert!(c.get(key).is_some(), "{key} missing in {c}");
        }
        let created = c["created_at"].as_str().unwrap();
        assert!(created.ends_with('Z'), "RFC 3339 UTC: {created}");
    }
    let text = page.to_string();
    assert!(!text.contains("example.com"), "emails never in public JSON");
    assert!(!text.contains("127.0.0.1"), "IPs never in public JSON");
}

#[tokio::test]
async fn replies_under_a_hidden_comment_are_hidden_too() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let a = app.comment("blog", "/t/", "root").await;
    let (_, mid) = app.reply("blog", "/t/", &a, "mid").await;
    let mid = mid["comment"]["id"].as_str().unwrap().to_owned();
    app.reply("blog", "/t/", &mid, "leaf").await;
    app.set_status(&mid, "rejected").await;
    let page = app.thread("blog", "uri=/t/").await;
    assert_eq!(ids(&page), vec![a]);
    assert_eq!(page["comments"][0]["replies_count"], 0);
}

#[tokio::test]
async fn sorts_order_top_level_comments() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let a = app.comment("blog", "/s/", "a").await;
    let b = app.comment("blog", "/s/", "b").await;
    let c = app.comment("blog", "/s/", "c").await;
    let (_, reply) = app.reply("blog", "/s/", &a, "reply").await;
    let reply = reply["comment"]["id"].as_str().unwrap().to_owned();
    set_score(&app, &b, 5).await;
    set_score(&app, &c, 5).await;
    set_score(&app, &a, -1).await;

    let oldest = app.thread("blog", "uri=/s/&sort=oldest").await;
    assert_eq!(
        ids(&oldest),
        vec![a.clone(), reply.clone(), b.clone(), c.clone()]
    );
    let newest = app.thread("blog", "uri=/s/&sort=newest").await;
    assert_eq!(
        ids(&newest),
        vec![c.clone(), b.clone(), a.clone(), reply.clone()]
    );
    // Ties on score keep time order.
    let top = app.thread("blog", "uri=/s/&sort=top").await;
    assert_eq!(
        ids(&top),
        vec![b.clone(), c.clone(), a.clone(), reply.clone()]
    );
}

async fn walk(app: &TestApp, sort: &str, limit: u32) -> Vec<Vec<String>> {
    let mut pages = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let mut q = format!("uri=/p/&sort={sort}&limit={limit}");
        if let Some(c) = &cursor {
            q.push_str(&format!("&cursor={c}"));
        }
        let page = app.thread("blog", &q).await;
        pages.push(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages.len() < 50, "pagination does not end");
    }
    pages
}

#[tokio::test]
async fn keyset_pages_cover_every_comment_once_in_every_sort() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let mut roots = vec![];
    for i in 0..7 {
        roots.push(app.comment("blog", "/p/", &format!("root {i}")).await);
    }
    // Ties in score across page boundaries are the tricky case for sort=top.
    for (i, id) in roots.iter().enumerate() {
        set_score(&app, id, (i % 3) as i32).await;
    }
    let (_, r) = app.reply("blog", "/p/", &roots[0], "reply").await;
    let reply = r["comment"]["id"].as_str().unwrap().to_owned();

    for sort in ["oldest", "newest", "top"] {
        let pages = walk(&app, sort, 3).await;
        assert_eq!(pages.len(), 3, "{sort}: 7 roots in pages of 3");
        let all: Vec<String> = pages.concat();
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!(all.len(), 8, "{sort}: {all:?}");
        assert_eq!(unique.len(), 8, "{sort}: duplicates in {all:?}");
        // The reply travels with its root, right after it.
        let at = all.iter().position(|x| x == &roots[0]).unwrap();
        assert_eq!(all[at + 1], reply, "{sort}");
    }
}

#[tokio::test]
async fn a_new_comment_does_not_shift_later_pages() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    for i in 0..4 {
        app.comment("blog", "/p/", &format!("c{i}")).await;
    }
    let first = app.thread("blog", "uri=/p/&limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    app.comment("blog", "/p/", "late arrival").await;
    let second = app
        .thread("blog", &format!("uri=/p/&limit=2&cursor={cursor}"))
        .await;
    let seen: HashSet<String> = ids(&first).into_iter().collect();
    assert!(ids(&second).iter().all(|id| !seen.contains(id)));
    assert_eq!(ids(&second).len(), 2);
}

#[tokio::test]
async fn counts_report_approved_comments_per_uri() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.comment("blog", "/a/", "1").await;
    app.comment("blog", "/a/", "2").await;
    let held = app.comment("blog", "/a/", "3").await;
    app.set_status(&held, "pending").await;
    app.comment("blog", "/b/", "1").await;
    let (status, body) = app
        .get_json("/api/v1/sites/blog/counts?uri=/a/&uri=/b/&uri=/none/")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "/a/": 2, "/b/": 1, "/none/": 0 }));

    // Encoded uris come back as the blog sent them.
    let (status, body) = app.get_json("/api/v1/sites/blog/counts?uri=%2Fa%2F").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "/a/": 2 }));
}

#[tokio::test]
async fn counts_are_per_site() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.create_site(SiteOpts {
        slug: "other",
        ..Default::default()
    })
    .await;
    app.comment("blog", "/a/", "1").await;
    let (_, body) = app.get_json("/api/v1/sites/other/counts?uri=/a/").await;
    assert_eq!(body, json!({ "/a/": 0 }));
}

#[tokio::test]
async fn a_post_shows_in_the_next_read_even_after_the_page_was_cached() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let a = app.comment("blog", "/c/", "first").await;
    assert_eq!(ids(&app.thread("blog", "uri=/c/").await), vec![a.clone()]);
    assert_eq!(ids(&app.thread("blog", "uri=/c/").await), vec![a.clone()]);
    let b = app.comment("blog", "/c/", "second").await;
    assert_eq!(ids(&app.thread("blog", "uri=/c/").await), vec![a, b]);
}

#[tokio::test]
async fn a_change_made_outside_the_app_reaches_cached_pages_through_notify() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let a = app.comment("blog", "/c/", "first").await;
    let b = app.comment("blog", "/c/", "second").await;
    assert_eq!(ids(&app.thread("blog", "uri=/c/").await).len(), 2);
    // As a moderator tool or a manual fix would: straight in the database.
    app.set_status(&b, "spam").await;
    let mut seen = vec![];
    for _ in 0..100 {
        seen = ids(&app.thread("blog", "uri=/c/").await);
        if seen == vec![a.clone()] {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(seen, vec![a]);
}

#[tokio::test]
async fn unchanged_threads_revalidate_with_their_etag() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.comment("blog", "/e/", "first").await;
    let r = app.get("/api/v1/sites/blog/thread?uri=/e/").await;
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/api/v1/sites/blog/thread?uri=/e/"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    app.comment("blog", "/e/", "second").await;
    let changed = app
        .client
        .get(app.url("/api/v1/sites/blog/thread?uri=/e/"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
}

/// Asks for counts until they equal `want` (a notification from Postgres may take a moment),
/// for at most 2 s; returns what was last seen.
async fn counts_until(base: &str, query: &str, want: &Value) -> Value {
    let client = reqwest::Client::new();
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = client
            .get(format!("{base}/api/v1/sites/blog/counts?{query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if &seen == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    seen
}

#[tokio::test]
async fn cached_counts_follow_posts_hand_made_changes_and_new_threads() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let a = app.comment("blog", "/k/", "one").await;
    let q = "uri=/k/&uri=/new/";
    let (_, body) = app
        .get_json(&format!("/api/v1/sites/blog/counts?{q}"))
        .await;
    assert_eq!(body, json!({ "/k/": 1, "/new/": 0 }));
    // Asked again, from the cache: the same answer.
    let (_, body) = app
        .get_json(&format!("/api/v1/sites/blog/counts?{q}"))
        .await;
    assert_eq!(body, json!({ "/k/": 1, "/new/": 0 }));

    // A post through this node shows in its very next answer, on a known and on a new page.
    app.comment("blog", "/k/", "two").await;
    app.comment("blog", "/new/", "first here").await;
    let (_, body) = app
        .get_json(&format!("/api/v1/sites/blog/counts?{q}"))
        .await;
    assert_eq!(body, json!({ "/k/": 2, "/new/": 1 }));

    // A change made straight in the database reaches the cached counts through NOTIFY.
    app.set_status(&a, "spam").await;
    let want = json!({ "/k/": 1, "/new/": 1 });
    assert_eq!(counts_until(&app.address, q, &want).await, want);
}

#[tokio::test]
async fn a_post_through_one_node_reaches_the_cached_counts_and_pages_of_another() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    let node2 = Application::build(app.settings.clone()).await.unwrap();
    let base2 = format!("http://127.0.0.1:{}", node2.port());
    tokio::spawn(node2.run());
    wait_ready(&http_client(), &base2).await;
    app.comment("blog", "/m/", "one").await;
    let want = json!({ "/m/": 1 });
    assert_eq!(counts_until(&base2, "uri=/m/", &want).await, want);
    let page = |base: String| async move {
        let v: Value = reqwest::get(format!("{base}/api/v1/sites/blog/thread?uri=/m/"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["comments"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(page(base2.clone()).await, 1, "node 2 caches the page");

    // Posted through node 1: node 2 hears of it through the relayed announcement.
    app.comment("blog", "/m/", "two").await;
    let want = json!({ "/m/": 2 });
    assert_eq!(counts_until(&base2, "uri=/m/", &want).await, want);
    let mut n = 0;
    for _ in 0..100 {
        n = page(base2.clone()).await;
        if n == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(n, 2);
}

#[tokio::test]
async fn concurrent_readers_of_a_hot_page_never_get_it_older_than_their_request() {
    let app = spawn_app().await;
    app.create_site(SiteOpts::default()).await;
    app.comment("blog", "/hot/", "first").await;
    let base = app.address.clone();
    // Readers hammer the page the whole time, so rebuilds of it overlap with every post.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut background = vec![];
    for _ in 0..4 {
        let (base, stop) = (base.clone(), stop.clone());
        background.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = client
                    .get(format!("{base}/api/v1/sites/blog/thread?uri=/hot/"))
                    .send()
                    .await;
            }
        }));
    }
    for n in 0..15 {
        let id = app.comment("blog", "/hot/", &format!("reply {n}")).await;
        // Every read that starts after the post was answered includes it.
        let reads = (0..8).map(|_| {
            let base = base.clone();
            async move {
                let v: Value = reqwest::get(format!("{base}/api/v1/sites/blog/thread?uri=/hot/"))
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                ids(&v)
            }
        });
        for seen in futures_util::future::join_all(reads).await {
            assert!(
                seen.contains(&id),
                "a read after post {n} missed it: {seen:?}"
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for b in background {
        b.await.unwrap();
    }
}

/// The stated staleness bound for the one change no node hears of: a writer killed between its
/// commit and relaying the commit's announcement. Simulated exactly: a transaction that defers
/// its announcement (as the submit path does) and commits without anyone relaying it. Cached
/// pages and counts keep the old answer at most `cache.page_ttl_ms`.
#[tokio::test]
async fn a_change_whose_announcement_was_lost_reaches_cached_pages_within_the_page_ttl() {
    let ttl = std::time::Duration::from_millis(3000);
    let app = spawn_app_with(|s| s.cache.page_ttl_ms = 3000).await;
    app.create_site(SiteOpts::default()).await;
    let id = app.comment("blog", "/lost/", "one").await;
    let shown = || async {
        let (_, page) = app.get_json("/api/v1/sites/blog/thread?uri=/lost/").await;
        let (_, counts) = app.get_json("/api/v1/sites/blog/counts?uri=/lost/").await;
        (
            page["comments"].as_array().map_or(usize::MAX, Vec::len),
            counts["/lost/"].clone(),
        )
    };
    assert_eq!(shown().await, (1, json!(1)));

    let mut tx = app.db.begin().await.unwrap();
    sqlx::query("SET LOCAL colloquy.defer_notify = on")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE comments SET status = 'spam' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let committed = std::time::Instant::now();

    // The announcement is gone: the cached answers are still the old ones (checked only while
    // surely inside the TTL, so a slow machine can't fail this half).
    let seen = shown().await;
    if committed.elapsed() < ttl / 2 {
        assert_eq!(seen, (1, json!(1)), "nothing announced the change");
    }
    // And within the TTL (plus slack for a loaded machine) they follow the database.
    let mut seen = seen;
    while seen != (0, json!(0)) && committed.elapsed() < ttl + std::time::Duration::from_secs(15) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        seen = shown().await;
    }
    assert_eq!(seen, (0, json!(0)));
}
