use super::*;

/// Point 9: bans and lifts, rules, settings, commenters' trust, moderator edits and appeal
/// decisions each leave an entry with actor, time, before and after, in the one listing that
/// also holds the comments' status changes, newest first and keyset-paged.
#[tokio::test]
async fn every_administrative_action_is_in_the_sites_audit_log_with_before_and_after() {
    let ctx = setup().await;
    let app = &ctx.app;
    let owner = ctx.owner.as_str();
    let ann = reader(app, "Ann").await;
    let (status, c) = post_as(app, &ann, "First words", None).await;
    assert_eq!(status, 201, "{c}");
    let comment = c["comment"]["id"].as_str().unwrap().to_owned();

    // Bans: created, lifted.
    let ban = json_of(
        post(
            app,
            "/sites/blog/bans",
            owner,
            json!({ "email": "Troll@Example.com", "shadow": true, "reason": "spam" }),
        )
        .await,
        201,
    )
    .await;
    let ban_id = ban["id"].as_str().unwrap().to_owned();
    assert_eq!(
        delete(app, &format!("/sites/blog/bans/{ban_id}"), owner)
            .await
            .status(),
        204
    );

    // Rules: created, changed, deleted.
    let rule = json_of(
        post(
            app,
            "/sites/blog/rules",
            owner,
            json!({ "kind": "word", "pattern": "casino", "action": "hold" }),
        )
        .await,
        201,
    )
    .await;
    let rule_id = rule["id"].as_str().unwrap().to_owned();
    let r = patch(
        app,
        &format!("/sites/blog/rules/{rule_id}"),
        owner,
        json!({ "action": "spam" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        delete(app, &format!("/sites/blog/rules/{rule_id}"), owner)
            .await
            .status(),
        204
    );

    // Settings: only the changed fields; a PATCH that changes nothing leaves no entry.
    let r = patch(
        app,
        "/sites/blog",
        owner,
        json!({ "name": "Renamed", "guests": false, "policy": "post" }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = patch(app, "/sites/blog", owner, json!({ "name": "Renamed" })).await;
    assert_eq!(r.status(), 200);

    // A commenter's trust: changed once, then set to what it already is.
    for _ in 0..2 {
        let r = patch(
            app,
            &format!("/sites/blog/users/{}", ann.id),
            owner,
            json!({ "trusted": true }),
        )
        .await;
        assert_eq!(r.status(), 200);
    }

    // A moderator's edit of a comment.
    let r = patch(
        app,
        &format!("/comments/{comment}"),
        owner,
        json!({ "body": "First words, trimmed" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    // A ban appealed and overturned: the decision and the lift it made.
    let ann_ban = ban_user(&ctx, &ann).await;
    let a = send(
        app,
        Method::POST,
        "/api/v1/sites/blog/appeal",
        Some(&ann),
        Some(json!({ "message": "I was only joking, sorry" })),
    )
    .await;
    let appeal_id = json_of(a, 201).await["id"].as_str().unwrap().to_owned();
    let r = post(
        app,
        &format!("/appeals/{appeal_id}/actions"),
        owner,
        json!({ "action": "overturn", "note": "Fair enough" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    // A ban appealed and upheld: the decision only.
    let bob = reader(app, "Bob").await;
    let (status, _) = post_as(app, &bob, "Bob was here", None).await;
    assert_eq!(status, 201);
    let bob_ban = ban_user(&ctx, &bob).await;
    let a = send(
        app,
        Method::POST,
        "/api/v1/sites/blog/appeal",
        Some(&bob),
        Some(json!({ "message": "Let me back in" })),
    )
    .await;
    let bob_appeal = json_of(a, 201).await["id"].as_str().unwrap().to_owned();
    let r = post(
        app,
        &format!("/appeals/{bob_appeal}/actions"),
        &ctx.moderator,
        json!({ "action": "uphold" }),
    )
    .await;
    assert_eq!(r.status(), 200);

    // One listing, read by a plain moderator of the site, small pages.
    let log = all_entries(app, "/sites/blog/audit", &ctx.moderator, 3).await;
    let whole = json_of(
        get(app, "/sites/blog/audit?limit=200", &ctx.moderator).await,
        200,
    )
    .await;
    assert_eq!(
        &log,
        whole["items"].as_array().unwrap(),
        "pages cover the log exactly once"
    );
    let ids: HashSet<&str> = log.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), log.len());
    let times: Vec<&str> = log
        .iter()
        .map(|e| e["created_at"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    assert!(
        log.iter()
            .any(|e| e["type"] == "status" && e["comment_id"] == comment.as_str()),
        "comment status changes are in the same listing"
    );

    let created = actions(&log, "ban.created");
    assert_eq!(created.len(), 3, "the email ban, Ann's and Bob's");
    assert_eq!(created[0]["target"]["id"], bob_ban.as_str());
    assert_eq!(created[1]["target"]["id"], ann_ban.as_str());
    assert_eq!(created[1]["after"]["user_id"], ann.id.as_str());
    let e = created[2];
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "ban", "id": ban_id }));
    assert_eq!(e["before"], Value::Null);
    assert_eq!(e["after"]["email"], "troll@example.com");
    assert_eq!(e["after"]["shadow"], true);
    assert_eq!(e["after"]["reason"], "spam");

    let lifts = actions(&log, "ban.lifted");
    assert_eq!(lifts.len(), 2, "{lifts:#?}");
    // Newest first: the appeal's lift, then the DELETE.
    let (by_appeal, by_delete) = (lifts[0], lifts[1]);
    assert_by(by_delete, ctx.owner_id, "owner@example.com");
    assert_eq!(by_delete["target"]["id"], ban_id.as_str());
    assert_eq!(by_delete["before"]["email"], "troll@example.com");
    assert_eq!(by_delete["after"], Value::Null);
    assert_by(by_appeal, ctx.owner_id, "owner@example.com");
    assert_eq!(by_appeal["target"]["id"], ann_ban.as_str());
    assert_eq!(by_appeal["before"]["active"], true);
    assert_eq!(by_appeal["after"]["active"], false);
    assert_eq!(by_appeal["note"], "Fair enough");

    let e = one(&log, "rule.created");
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "rule", "id": rule_id }));
    assert_eq!(
        e["after"],
        json!({ "kind": "word", "pattern": "casino", "action": "hold", "enabled": true, "note": null })
    );
    let e = one(&log, "rule.updated");
    assert_eq!(e["before"]["action"], "hold");
    assert_eq!(e["after"]["action"], "spam");
    assert_eq!(e["after"]["pattern"], "casino");
    let e = one(&log, "rule.deleted");
    assert_eq!(e["before"]["action"], "spam");
    assert_eq!(e["after"], Value::Null);

    let e = one(&log, "site.updated");
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "site", "id": ctx.site.id }));
    assert_eq!(
        e["before"],
        json!({ "name": ctx.site.name, "guests": true })
    );
    assert_eq!(e["after"], json!({ "name": "Renamed", "guests": false }));

    let e = one(&log, "user.trust_changed");
    assert_eq!(e["target"], json!({ "kind": "user", "id": ann.id }));
    assert_eq!(
        e["before"],
        json!({ "trusted": false, "premoderated": false })
    );
    assert_eq!(
        e["after"],
        json!({ "trusted": true, "premoderated": false })
    );

    let e = one(&log, "comment.edited");
    assert_eq!(e["target"], json!({ "kind": "comment", "id": comment }));
    assert_eq!(e["before"]["body_markdown"], "First words");
    assert_eq!(e["after"]["body_markdown"], "First words, trimmed");

    let e = one(&log, "appeal.overturned");
    assert_by(e, ctx.owner_id, "owner@example.com");
    assert_eq!(e["target"], json!({ "kind": "appeal", "id": appeal_id }));
    assert_eq!(e["before"]["status"], "open");
    assert_eq!(e["after"]["status"], "overturned");
    assert_eq!(e["after"]["ban_id"], ann_ban.as_str());
    assert_eq!(e["note"], "Fair enough");

    let e = one(&log, "appeal.upheld");
    assert_eq!(e["actor"]["email"], "mod@example.com");
    assert_eq!(e["target"], json!({ "kind": "appeal", "id": bob_appeal }));
    assert_eq!(e["before"]["status"], "open");
    assert_eq!(e["after"]["status"], "upheld");
    assert_eq!(e["after"]["ban_id"], bob_ban.as_str());
    assert_eq!(
        actions(&log, "ban.lifted").len(),
        2,
        "an upheld appeal lifts nothing"
    );

    // Filters: by resource, by action, by type.
    let rules = all_entries(app, "/sites/blog/audit?action=rule", owner, 50).await;
    let names: Vec<&str> = rules
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["rule.deleted", "rule.updated", "rule.created"]);
    let lifted = all_entries(app, "/sites/blog/audit?action=ban.lifted", owner, 50).await;
    assert_eq!(lifted.len(), 2);
    let statuses = all_entries(app, "/sites/blog/audit?type=status", owner, 50).await;
    assert!(!statuses.is_empty());
    assert!(statuses.iter().all(|e| e["type"] == "status"));
    let admin = all_entries(app, "/sites/blog/audit?type=action", owner, 50).await;
    assert!(admin.iter().all(|e| e["type"] == "action"));
    assert_eq!(statuses.len() + admin.len(), log.len());
    for bad in [
        "?type=everything",
        "?action=Rule",
        "?action=a.b.c",
        "?action=%25",
        "?cursor=nope",
    ] {
        assert_error(
            get(app, &format!("/sites/blog/audit{bad}"), owner).await,
            400,
            "validation_failed",
        )
        .await;
    }
}
