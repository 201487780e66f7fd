use super::*;

#[tokio::test]
async fn a_token_of_one_site_acts_on_no_spelling_of_another_sites_slug_or_comments() {
    let app = app().await;
    let a = "bloga";
    let b = "blogb";
    create_site(&app, a, "https://bloga.example").await;
    create_site(&app, b, "https://blogb.example").await;
    // The same reader on both blogs: blog A's page holds `token_a`.
    let token_a = reader_login(&app, a, "https://bloga.example", "Reader").await;
    let token_b = reader_login(&app, b, "https://blogb.example", "Reader").await;
    let own_b = post_comment(
        &app,
        b,
        Some(&token_b),
        json!({ "uri": "/p/", "body": "Mine, on blog B" }),
    )
    .await;
    let other_b = post_comment(
        &app,
        b,
        None,
        json!({ "uri": "/p/", "body": "A guest on blog B",
                "guest": { "name": "Guest", "email": "guest@example.com" } }),
    )
    .await;
    let rejected_b = post_comment(
        &app,
        b,
        Some(&token_b),
        json!({ "uri": "/p/", "body": "Rejected, on blog B" }),
    )
    .await;
    sqlx::query("UPDATE comments SET status = 'rejected' WHERE id = $1::uuid")
        .bind(&rejected_b)
        .execute(&app.db)
        .await
        .unwrap();
    let before = snapshot(&app).await;

    let mut walked = 0;
    let mut failures = Vec::new();
    for (method, route) in colloquy::app::registered_routes(&app.settings) {
        let Some(rest) = route.strip_prefix("/api/v1") else {
            continue;
        };
        let (name, plain, other) = if rest.starts_with("/sites/{site}") {
            ("site", b.to_owned(), a.to_owned())
        } else if rest.starts_with("/comments/{id}") {
            let id = match (method, rest) {
                ("PATCH" | "DELETE", "/comments/{id}") => &own_b,
                (_, "/comments/{id}/appeal") => &rejected_b,
                _ => &other_b,
            };
            ("id", id.clone(), own_b.clone())
        } else {
            assert!(
                !rest.contains("{site}") && !rest.contains("{id}"),
                "{method} {route}: names a site or comment the walk doesn't know"
            );
            continue;
        };
        let mut spelled: Vec<String> = spellings(&plain).into_iter().map(|(_, s)| s).collect();
        spelled.extend(with_separators(&plain, &other));
        for value in spelled {
            let path = format!(
                "{}{}",
                route.replace(&format!("{{{name}}}"), &value),
                query_for(&route)
            );
            let mut req = app
                .client
                .request(
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    app.url(&path),
                )
                .bearer_auth(&token_a);
            let body = match (method, rest) {
                ("GET", _) => None,
                ("POST", "/sites/{site}/comments") => {
                    Some(json!({ "uri": "/p/", "body": "Posted with blog A's token" }))
                }
                ("PATCH", "/comments/{id}") => Some(json!({ "body": "Edited with A's token" })),
                ("POST", "/comments/{id}/flags") => Some(json!({ "reason": "spam" })),
                ("PUT", "/comments/{id}/vote") => Some(json!({ "value": -1 })),
                (_, r) if r.ends_with("/appeal") => Some(json!({ "message": "Let me" })),
                _ => Some(json!({})),
            };
            if let Some(b) = body {
                req = req.json(&b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let refused = matches!(status, 401 | 403 | 404);
            // A read that takes no session answers as it answers anyone: the token gained
            // nothing.
            let as_anyone = method == "GET" && status == 200 && {
                let with_token = first_body(r).await;
                let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
                anonymous.status() == 200 && first_body(anonymous).await == with_token
            };
            if !refused && !as_anyone {
                failures.push(format!("{method} {path} with A's token: {status}"));
            }
            walked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "blog A's token reached blog B:\n{}",
        failures.join("\n")
    );
    assert!(walked >= 100, "walked only {walked} requests");
    assert_eq!(
        snapshot(&app).await,
        before,
        "blog A's token changed something"
    );

    // The same routes do answer blog B's own token: the refusals above were the site binding.
    let r = app
        .client
        .post(app.url(&format!("/api/v1/sites/{}/comments", spellings(b)[3].1)))
        .bearer_auth(&token_b)
        .json(&json!({ "uri": "/p/", "body": "Posted with blog B's token" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = app
        .client
        .put(app.url(&format!(
            "/api/v1/comments/{}/vote",
            spellings(&other_b)[4].1
        )))
        .bearer_auth(&token_b)
        .json(&json!({ "value": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
