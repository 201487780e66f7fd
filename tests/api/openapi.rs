//! `/api/openapi.json` against the routes the app really registers, and `/api/docs`.
//! (That the document is valid OpenAPI 3.1 is checked against the official schema by the
//! browser suite, `tests/browser/run.mjs`, which has a JSON Schema validator at hand.)

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn document(app: &TestApp) -> Value {
    let r = app.get("/api/openapi.json").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    r.json().await.unwrap()
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if let Some(op) = item.get(m) {
                ops.push((m.to_uppercase(), path.clone(), op));
            }
        }
    }
    ops
}

/// A request to `path` with sample values for its parameters.
fn sample(path: &str) -> String {
    path.replace("{site}", "no-such-site")
        .replace("{id}", "00000000-0000-0000-0000-000000000000")
        .replace("{provider}", "google")
        .replace("{asset}", "init.js")
}

#[tokio::test]
async fn the_document_lists_exactly_the_registered_routes_and_each_one_answers() {
    // Optional routes (metrics, demo, dev login) are in the document only where registered.
    for all_on in [false, true] {
        let app = spawn_app_with(|s| {
            s.metrics.enabled = all_on;
            s.server.demo = all_on;
            s.auth.dev_provider = all_on;
        })
        .await;
        let doc = document(&app).await;
        let documented: BTreeSet<(String, String)> = operations(&doc)
            .into_iter()
            .map(|(m, p, _)| (m, p))
            .collect();
        let registered: BTreeSet<(String, String)> =
            colloquy::app::registered_routes(&app.settings)
                .into_iter()
                .map(|(m, p)| (m.to_owned(), p))
                .collect();
        let undocumented: Vec<_> = registered.difference(&documented).collect();
        let phantom: Vec<_> = documented.difference(&registered).collect();
        assert!(
            undocumented.is_empty() && phantom.is_empty(),
            "optional routes on: {all_on}\nregistered but not documented: {undocumented:#?}\n\
             documented but not registered: {phantom:#?}"
        );
        assert_eq!(
            all_on,
            documented.contains(&("GET".into(), "/metrics".into()))
        );

        // The tables are what the router holds: every documented operation reaches a handler
        // (an unknown route answers 404 "No such route.", a known path with another method 405).
        for (method, path, _) in operations(&doc) {
            let url = app.url(&sample(&path));
            let mut req = app
                .client
                .request(method.parse().unwrap(), url)
                .timeout(std::time::Duration::from_secs(10));
            if method != "GET" && method != "DELETE" {
                req = req.header("content-type", "application/json").body("{}");
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            assert_ne!(status, 405, "{method} {path}: {body}");
            assert!(
                !(status == 404 && body.contains("No such route.")),
                "{method} {path} is documented but the router doesn't have it"
            );
        }
    }
}

#[tokio::test]
async fn every_operation_is_described_with_its_parameters_responses_and_errors() {
    let app = spawn_app_with(|s| {
        s.metrics.enabled = true;
        s.server.demo = true;
        s.auth.dev_provider = true;
    })
    .await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut problems = Vec::new();
    let mut op_ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let name = format!("{method} {path}");
        if !op_ids.insert(op["operationId"].as_str().unwrap_or("").to_owned()) {
            problems.push(format!("{name}: duplicate or missing operationId"));
        }
        if op["summary"].as_str().is_none_or(str::is_empty) {
            problems.push(format!("{name}: no summary (doc comment)"));
        }
        match op["tags"].as_array().map(Vec::as_slice) {
            Some([t]) if tags.contains(t.as_str().unwrap_or("")) => {}
            other => problems.push(format!("{name}: tags {other:?}")),
        }
        // Every `{param}` of the path is declared as a path parameter.
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .filter_map(|p| p["name"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        if declared != in_path {
            problems.push(format!(
                "{name}: path parameters {declared:?}, path has {in_path:?}"
            ));
        }
        let responses = op["responses"].as_object().unwrap();
        if !responses
            .keys()
            .any(|s| s.starts_with('2') || s.starts_with('3'))
        {
            problems.push(format!("{name}: no success response"));
        }
        // Errors are the contract's JSON body (the login popup's pages answer HTML).
        for (status, resp) in responses {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let resp = resolve(&doc, resp);
            let json_ref = resp["content"]["application/json"]["schema"]["$ref"].as_str();
            let html = resp["content"]["text/html"].is_object();
            if json_ref != Some("#/components/schemas/ErrorBody") && !html {
                problems.push(format!("{name}: {status} is not an ErrorBody"));
            }
        }
        if ["POST", "PUT", "PATCH"].contains(&method.as_str())
            && path.starts_with("/api/")
            && !op["requestBody"].is_object()
            && !NO_BODY.contains(&(method.as_str(), path.as_str()))
        {
            problems.push(format!("{name}: no request body"));
        }
        // The moderator API is for signed-in moderators, except the login itself.
        if path.starts_with("/api/mod/v1/") && path != "/api/mod/v1/login" {
            let secured = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|r| r.get("moderator").is_some()));
            if !secured || !responses.contains_key("401") {
                problems.push(format!("{name}: not marked moderator-only with a 401"));
            }
        }
    }
    // Every reference resolves.
    let text = doc.to_string();
    let shared = doc["components"]["responses"].as_object();
    for r in text.split("\"$ref\":\"").skip(1) {
        let target = r.split('"').next().unwrap();
        if let Some(schema) = target.strip_prefix("#/components/schemas/") {
            if !schemas.contains_key(schema) {
                problems.push(format!("$ref to missing schema {schema}"));
            }
        } else if let Some(response) = target.strip_prefix("#/components/responses/") {
            if !shared.is_some_and(|s| s.contains_key(response)) {
                problems.push(format!("$ref to missing response {response}"));
            }
        } else {
            problems.push(format!("unexpected $ref {target}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A response, or the shared one it references (`#/components/responses/…`).
fn resolve<'a>(doc: &'a Value, resp: &'a Value) -> &'a Value {
    match resp["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/responses/"))
    {
        Some(name) => &doc["components"]["responses"][name],
        None => resp,
    }
}

fn takes_json(op: &Value) -> bool {
    op["requestBody"]["content"]["application/json"].is_object()
}

/// The statuses the framework and middleware answer for every operation of a kind, whatever
/// its handler does (see `src/openapi/responses.rs`).
fn shared_statuses(method: &str, path: &str, op: &Value) -> Vec<&'static str> {
    let mut statuses = vec!["400"];
    let authenticated = op["security"].as_array().is_some_and(|reqs| {
        reqs.iter()
            .any(|r| r.as_object().is_some_and(|o| !o.is_empty()))
    });
    if authenticated {
        statuses.push("401");
    }
    if path.starts_with("/account/api/") || (path.starts_with("/api/v1/") && method != "GET") {
        statuses.push("403");
    }
    if path.contains('{') {
        statuses.push("404");
    }
    if takes_json(op) {
        statuses.extend(["413", "415"]);
    }
    if ["/api/v1/", "/api/mod/v1/", "/account/api/", "/auth/"]
        .iter()
        .any(|p| path.starts_with(p))
    {
        statuses.push("503");
    }
    statuses
}

#[tokio::test]
async fn every_operation_documents_the_answers_shared_by_its_kind_and_gives_them() {
    let app = spawn_app_with(|s| {
        s.metrics.enabled = true;
        s.server.demo = true;
        s.auth.dev_provider = true;
    })
    .await;
    let doc = document(&app).await;
    let mut problems = Vec::new();
    for (method, path, op) in operations(&doc) {
        let responses = &op["responses"];
        for status in shared_statuses(&method, &path, op) {
            if !responses[status].is_object() {
                problems.push(format!("{method} {path}: {status} is not documented"));
            }
        }
        // Postgres text can't hold NUL, so a `%00` in any query string is refused up front,
        // on every route (a fuzzer found it undocumented on `/embed.js` and `/api/docs/{asset}`).
        let url = format!("{}?q=%00", app.url(&sample(&path)));
        let r = app
            .client
            .request(method.parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or_default();
        if status != 400 || body["error"]["code"] != "validation_failed" {
            problems.push(format!("{method} {path}?q=%00: {status} {body}"));
        }
        // A JSON route called without a body is refused before its handler runs. (Without
        // credentials an authenticated route may answer 401 first; 415 is asked of the rest.)
        if takes_json(op) {
            let r = app
                .client
                .request(method.parse().unwrap(), app.url(&sample(&path)))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16().to_string();
            if !responses[&status].is_object() {
                problems.push(format!(
                    "{method} {path} without a body: {status} undocumented"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Operations that take no body on purpose.
const NO_BODY: &[(&str, &str)] = &[
    ("POST", "/api/v1/logout"),
    ("POST", "/api/mod/v1/logout"),
    ("POST", "/api/mod/v1/comments/{id}/release"),
];

#[tokio::test]
async fn the_docs_page_is_served_from_the_binary_under_a_strict_csp() {
    let app = spawn_app_with(|_| {}).await;
    let r = app.get("/api/docs").await;
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    let html = r.text().await.unwrap();
    // Only relative references: nothing from a CDN.
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    for asset in ["swagger-ui-bundle.js", "swagger-ui.css", "init.js"] {
        assert!(html.contains(&format!("docs/{asset}")), "{asset}");
        let r = app.get(&format!("/api/docs/{asset}")).await;
        assert_eq!(r.status(), 200, "{asset}");
        assert!(r.bytes().await.unwrap().len() > 100, "{asset}");
    }
    // The viewer starts without the public validator (which would send the document away).
    let init = app.get("/api/docs/init.js").await.text().await.unwrap();
    assert!(init.contains("validatorUrl: null"), "{init}");
    crate::helpers::assert_error(app.get("/api/docs/../Cargo.toml").await, 404, "not_found").await;
    crate::helpers::assert_error(app.get("/api/docs/main.rs").await, 404, "not_found").await;
}
