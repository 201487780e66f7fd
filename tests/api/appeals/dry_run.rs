use super::*;

#[tokio::test]
async fn a_dry_run_lists_the_verdicts_proposed_rules_would_change_and_why() {
    let ctx = setup().await;
    let app = &ctx.app;
    let r = post(
        app,
        "/sites/blog/rules",
        &ctx.token,
        json!({ "kind": "word", "pattern": "casino", "action": "hold" }),
    )
    .await;
    assert_eq!(r.status(), 201);

    let (hello, s1) = guest(app, "Hello there, nice post", "a@example.com").await;
    let (viagra, s2) = guest(app, "Buy viagra now", "b@example.com").await;
    let (links, s3) = guest(
        app,
        "See https://a.example and https://b.example",
        "c@example.com",
    )
    .await;
    let (casino, s4) = guest(app, "Visit our casino", "d@example.com").await;
    let (one_link, s5) = guest(app, "Only https://x.example", "e@example.com").await;
    assert_eq!(
        [s1, s2, s3, s4, s5],
        ["approved", "approved", "approved", "pending", "approved"]
    );

    let before = snapshot(app).await;

    // A word rule and a link limit instead of the current `casino` rule.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [
                { "kind": "word", "pattern": "viagra", "action": "spam" },
                { "kind": "max_links", "pattern": "1", "action": "hold" },
            ] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answer["sampled"], 5, "{answer}");
    assert_eq!(answer["unchanged"], 2, "{answer}");
    let changed = changed_by_id(&answer);
    assert_eq!(changed.len(), 3, "{answer}");
    assert!(!changed.contains_key(&hello) && !changed.contains_key(&one_link));

    let v = &changed[&viagra];
    assert_eq!(v["current_status"], "approved");
    assert_eq!(v["current_verdict"], "approved");
    assert_eq!(v["would_be"], "spam");
    assert_eq!(v["reasons"][0]["rule"], "rules[0]");
    assert_eq!(v["reasons"][0]["kind"], "word");
    assert_eq!(v["reasons"][0]["matched"], "viagra");

    let l = &changed[&links];
    assert_eq!(l["current_status"], "approved");
    assert_eq!(l["would_be"], "pending");
    assert_eq!(l["reasons"][0]["rule"], "rules[1]");
    assert_eq!(l["reasons"][0]["kind"], "max_links");
    assert_eq!(l["reasons"][0]["matched"], "2 links");

    // Held by the current rule, which the proposal drops.
    let c = &changed[&casino];
    assert_eq!(c["current_status"], "pending");
    assert_eq!(c["current_verdict"], "pending");
    assert_eq!(c["would_be"], "approved");
    assert_eq!(c["reasons"], json!([]));

    // Newest first, newest `sample` only.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "word", "pattern": "viagra", "action": "spam" }], "sample": 2 }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answer["sampled"], 2);
    assert_eq!(
        changed_by_id(&answer).keys().collect::<Vec<_>>(),
        [&casino],
        "{answer}"
    );

    // A reject rule: the comment would have been refused at submit time.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "regex", "pattern": "hello\\s+there", "action": "reject" }] }),
        )
        .await,
        200,
    )
    .await;
    let changed = changed_by_id(&answer);
    assert_eq!(changed.len(), 2, "{answer}");
    assert_eq!(changed[&hello]["would_be"], "rejected");
    assert_eq!(changed[&hello]["reasons"][0]["rule"], "rules[0]");
    assert_eq!(changed[&casino]["would_be"], "approved");

    // The same rules as now: nothing changes.
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "word", "pattern": "casino", "action": "hold" }] }),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(answer["changed"], json!([]));
    assert_eq!(answer["unchanged"], 5);

    // Nothing the dry-runs did shows in any table.
    assert_eq!(snapshot(app).await, before);

    // A trusted author skips the rules: never changed.
    let viagra_author: Uuid =
        sqlx::query_scalar("SELECT user_id FROM comments WHERE id = $1::uuid")
            .bind(&viagra)
            .fetch_one(&app.db)
            .await
            .unwrap();
    let r = crate::helpers::moderator::call(
        app,
        Method::PATCH,
        &format!("/sites/blog/users/{viagra_author}"),
        &ctx.token,
        Some(json!({ "trusted": true })),
    )
    .await;
    assert_eq!(r.status(), 200);
    let before = snapshot(app).await; // the trust change above is the only write
    let answer = json_of(
        dry_run(
            &ctx,
            json!({ "rules": [{ "kind": "word", "pattern": "viagra", "action": "spam" }] }),
        )
        .await,
        200,
    )
    .await;
    assert!(!changed_by_id(&answer).contains_key(&viagra), "{answer}");

    assert_eq!(snapshot(app).await, before);
}

#[tokio::test]
async fn a_dry_run_names_each_bad_rule_field_and_writes_nothing() {
    let ctx = setup().await;
    let app = &ctx.app;
    guest(app, "Something to replay", "a@example.com").await;
    let before = snapshot(app).await;

    let body = assert_error(
        dry_run(
            &ctx,
            json!({ "rules": [
                { "kind": "word", "pattern": "fine", "action": "hold" },
                { "kind": "regex", "pattern": "(", "action": "hold" },
                { "kind": "colour", "pattern": "x", "action": "explode" },
                { "kind": "max_links", "pattern": "many", "action": "spam" },
            ], "sample": 0 }),
        )
        .await,
        400,
        "validation_failed",
    )
    .await;
    let details = body["error"]["details"].as_object().unwrap();
    let mut fields: Vec<&str> = details.keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "rules[1].pattern",
            "rules[2].action",
            "rules[2].kind",
            "rules[3].pattern",
            "sample"
        ],
        "{body}"
    );

    let body = assert_error(
        dry_run(&ctx, json!({ "rules": [], "sample": 5001 })).await,
        400,
        "validation_failed",
    )
    .await;
    assert!(body["error"]["details"]["sample"].is_string(), "{body}");

    // Malformed bodies: 400s, never 500s.
    for bad in [
        json!({}),
        json!({ "rules": "word" }),
        json!({ "rules": [], "sample": "many" }),
        json!({ "rules": [], "sample": 1.5 }),
        json!({ "rules": [{ "kind": "word", "pattern": "x" }] }),
        json!({ "rules": [], "extra": true }),
    ] {
        let r = dry_run(&ctx, bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    // An empty proposal is a question too: what if the site had no rules?
    let answer = json_of(dry_run(&ctx, json!({ "rules": [] })).await, 200).await;
    assert_eq!(answer["sampled"], 1);

    assert_eq!(snapshot(app).await, before);
}
