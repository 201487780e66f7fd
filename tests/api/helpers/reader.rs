//! A commenter's side of the API: guests posting with their browser's key, dev-provider logins,
//! posting as a logged-in reader, and reading threads.

use reqwest::Response;
use serde_json::{Value, json};

use super::{SiteOpts, TestApp, spawn_app_with};
use colloquy::domain::Policy;

impl TestApp {
    /// Posts a comment body as given, except that a guest with an email and no `key` gets the
    /// key that email's guest "browser" keeps ([`guest_key`]), as the widget would send: the
    /// same email is then the same guest from test to test. Post with `self.client` to send a
    /// body untouched.
    pub async fn post_raw(&self, site: &str, body: &Value) -> Response {
        let mut body = body.clone();
        if let Some(guest) = body.get_mut("guest").and_then(Value::as_object_mut)
            && !guest.contains_key("key")
            && let Some(email) = guest.get("email").and_then(Value::as_str)
        {
            let key = guest_key(email);
            guest.insert("key".to_owned(), Value::String(key));
        }
        self.client
            .post(self.url(&format!("/api/v1/sites/{site}/comments")))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a guest comment and returns (status, json).
    pub async fn post_guest(&self, site: &str, uri: &str, body: &str, email: &str) -> (u16, Value) {
        let r = self
            .post_raw(
                site,
                &json!({ "uri": uri, "body": body, "guest": { "name": "Ann Reader", "email": email } }),
            )
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// Posts a guest comment expected to succeed; returns the comment id.
    pub async fn comment(&self, site: &str, uri: &str, body: &str) -> String {
        let (status, json) = self.post_guest(site, uri, body, "ann@example.com").await;
        assert_eq!(status, 201, "{json}");
        json["comment"]["id"].as_str().unwrap().to_owned()
    }

    pub async fn reply(&self, site: &str, uri: &str, parent: &str, body: &str) -> (u16, Value) {
        let r = self
            .post_raw(
                site,
                &json!({ "uri": uri, "body": body, "parent_id": parent,
                         "guest": { "name": "Bob", "email": "bob@example.com" } }),
            )
            .await;
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    pub async fn thread(&self, site: &str, query: &str) -> Value {
        let (status, json) = self
            .get_json(&format!("/api/v1/sites/{site}/thread?{query}"))
            .await;
        assert_eq!(status, 200, "{json}");
        json
    }
}

/// The secret key the guest "browser" of `email` keeps (deterministic, so tests can repeat it;
/// the same for any case of the address, as one person types it now one way, now another).
pub fn guest_key(email: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(format!(
        "test guest key {}",
        email.to_lowercase()
    )))
}

/// An app with the dev login provider on and a `blog` site that offers it.
pub async fn dev_app(policy: Policy) -> TestApp {
    let app = spawn_app_with(|s| s.auth.dev_provider = true).await;
    app.create_site(SiteOpts {
        policy,
        ..Default::default()
    })
    .await;
    sqlx::query("UPDATE sites SET providers = '{dev}'")
        .execute(&app.db)
        .await
        .unwrap();
    app
}

/// Starts a login and returns the state from the redirect.
pub async fn start_login(app: &TestApp) -> String {
    let r = app
        .get("/auth/dev/login?site=blog&origin=https://blog.example")
        .await;
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    location
        .strip_prefix("/auth/dev/authorize?state=")
        .unwrap_or_else(|| panic!("unexpected redirect {location}"))
        .to_owned()
}

pub async fn finish_login(
    app: &TestApp,
    state: &str,
    name: &str,
) -> (reqwest::header::HeaderMap, String) {
    let r = app
        .client
        .post(app.url("/auth/dev/callback"))
        .form(&[("state", state), ("name", name)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let headers = r.headers().clone();
    (headers, r.text().await.unwrap())
}

/// The JSON the popup page posts: `{origin, message}`.
pub fn posted(page: &str) -> Value {
    let start = page.find("var d = ").expect("popup data") + "var d = ".len();
    let end = page[start..].find(";\n").unwrap() + start;
    serde_json::from_str(&page[start..end]).unwrap()
}

pub async fn login(app: &TestApp, name: &str) -> String {
    let state = start_login(app).await;
    let (_, page) = finish_login(app, &state, name).await;
    posted(&page)["message"]["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub const URI: &str = "/a-post/";

/// A logged-in commenter of the `blog` site.
pub struct Reader {
    pub token: String,
    pub id: String,
}

pub async fn reader(app: &TestApp, name: &str) -> Reader {
    let token = login(app, name).await;
    let r = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    let id = me["id"]
        .as_str()
        .or_else(|| me["user"]["id"].as_str())
        .unwrap_or_else(|| panic!("no user id in /me: {me}"))
        .to_owned();
    Reader { token, id }
}

/// Posts as `who`; returns (status, json).
pub async fn post_as(
    app: &TestApp,
    who: &Reader,
    body: &str,
    parent: Option<&str>,
) -> (u16, Value) {
    let mut payload = json!({ "uri": URI, "body": body });
    if let Some(p) = parent {
        payload["parent_id"] = json!(p);
    }
    let r = app
        .client
        .post(app.url("/api/v1/sites/blog/comments"))
        .bearer_auth(&who.token)
        .json(&payload)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

/// Posts as `who`, expecting a published comment; returns its id.
pub async fn published(app: &TestApp, who: &Reader, body: &str, parent: Option<&str>) -> String {
    let (status, json) = post_as(app, who, body, parent).await;
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["status"], "approved", "{json}");
    json["comment"]["id"].as_str().unwrap().to_owned()
}

pub async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    who: Option<&Reader>,
    body: Option<Value>,
) -> Response {
    let mut req = app.client.request(method, app.url(path));
    if let Some(w) = who {
        req = req.bearer_auth(&w.token);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// The thread as an anonymous reader (the cached path) sees it.
pub async fn public_thread(app: &TestApp) -> Vec<Value> {
    app.thread("blog", &format!("uri={URI}")).await["comments"]
        .as_array()
        .unwrap()
        .clone()
}

/// The thread as `who` sees it (their own pending comments included; never cached).
pub async fn thread_as(app: &TestApp, who: &Reader) -> Vec<Value> {
    let r = send(
        app,
        reqwest::Method::GET,
        &format!("/api/v1/sites/blog/thread?uri={URI}"),
        Some(who),
        None,
    )
    .await;
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["comments"]
        .as_array()
        .unwrap()
        .clone()
}

pub fn ids(comments: &[Value]) -> Vec<&str> {
    comments.iter().map(|c| c["id"].as_str().unwrap()).collect()
}

pub async fn column<T>(app: &TestApp, sql: &'static str, id: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql)
        .bind(id)
        .fetch_one(&app.db)
        .await
        .unwrap()
}
