//! Rules

use super::*;

#[tokio::test]
async fn rules_are_validated_created_changed_and_deleted() {
    let ctx = setup(Policy::Post).await;
    let app = &ctx.app;
    let r = post(
        app,
        "/sites/blog/rules",
        &ctx.token,
        json!({ "kind": "word", "pattern": "casino", "action": "hold", "note": "gambling spam" }),
    )
    .await;
    let rule = json_of(r, 201).await;
    assert_eq!(rule["enabled"], true);
    assert_eq!(rule["note"], "gambling spam");
    let rule_id = rule["id"].as_str().unwrap().to_owned();

    // It holds matching comments.
    let (status, json) = app
        .post_guest("blog", "/p/", "Visit my casino", "ann@example.com")
        .await;
    assert_eq!(status, 201);
    assert_eq!(json["status"], "pending");
    assert_eq!(json["reasons"][0]["rule"], rule_id);

    let bad: [(Value, &[&str]); 5] = [
        (
            json!({ "kind": "colour", "pattern": "x", "action": "hold" }),
            &["kind"],
        ),
        (
            json!({ "kind": "regex", "pattern": "(unclosed", "action": "spam" }),
            &["pattern"],
        ),
        (
            json!({ "kind": "max_links", "pattern": "lots", "action": "explode" }),
            &["pattern", "action"],
        ),
        (
            json!({ "kind": "ip", "pattern": "not-an-ip", "action": "reject" }),
            &["pattern"],
        ),
        (
            json!({ "kind": "word", "pattern": "x", "action": "hold", "note": "n".repeat(501) }),
            &["note"],
        ),
    ];
    for (body, fields) in bad {
        let r = post(app, "/sites/blog/rules", &ctx.token, body.clone()).await;
        let e = assert_error(r, 400, "validation_failed").await;
        for f in fields {
            assert!(e["error"]["details"][f].is_string(), "{body}: {e}");
        }
    }
    for body in [
        json!({ "kind": "word", "action": "hold" }),
        json!({ "kind": "word", "pattern": "x", "action": "hold", "when": "now" }),
    ] {
        let r = post(app, "/sites/blog/rules", &ctx.token, body).await;
        assert_error(r, 400, "validation_failed").await;
    }

    let path = format!("/sites/blog/rules/{rule_id}");
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "enabled": false, "action": "spam" })),
    )
    .await;
    let changed = json_of(r, 200).await;
    assert_eq!(changed["enabled"], false);
    assert_eq!(changed["action"], "spam");
    assert_eq!(changed["pattern"], "casino");
    assert_eq!(changed["note"], "gambling spam");
    let (_, json) = app
        .post_guest("blog", "/p/", "Another casino visit", "bob@example.com")
        .await;
    assert_eq!(json["status"], "approved", "a disabled rule does nothing");
    // A change is checked as a whole: a word rule turned regex must be a valid regex.
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "kind": "regex", "pattern": "[" })),
    )
    .await;
    let e = assert_error(r, 400, "validation_failed").await;
    assert!(e["error"]["details"]["pattern"].is_string());
    let r = call(
        app,
        Method::PATCH,
        &path,
        &ctx.token,
        Some(json!({ "note": "" })),
    )
    .await;
    assert_eq!(json_of(r, 200).await["note"], Value::Null);

    let second = json_of(
        post(
            app,
            "/sites/blog/rules",
            &ctx.token,
            json!({ "kind": "max_links", "pattern": "1", "action": "hold" }),
        )
        .await,
        201,
    )
    .await;
    let list = json_of(get(app, "/sites/blog/rules", &ctx.token).await, 200).await;
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [rule_id.as_str(), second["id"].as_str().unwrap()]);
    assert_eq!(
        json_of(get(app, &path, &ctx.token).await, 200).await["id"],
        rule_id
    );

    assert_eq!(delete(app, &path, &ctx.token).await.status(), 204);
    assert_error(get(app, &path, &ctx.token).await, 404, "not_found").await;
    assert_error(delete(app, &path, &ctx.token).await, 404, "not_found").await;
    let r = call(app, Method::PUT, &path, &ctx.token, Some(json!({}))).await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD, PATCH, DELETE");
}
