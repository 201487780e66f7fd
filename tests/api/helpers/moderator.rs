//! The moderator API (`/api/mod/v1`): accounts made as the CLI would, password login, and one
//! request function every moderator call goes through.

use colloquy::auth::moderators::password::{self, NewPassword};
use colloquy::auth::moderators::store::{self, CreateAccountError};
use colloquy::auth::moderators::{Role, SiteScope};
use colloquy::sites::Site;
use reqwest::{Method, Response};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{SiteOpts, TestApp, assert_error, spawn_app_with};

pub const PASSWORD: &str = "correct horse battery staple";
/// Gives `email` (created with PASSWORD if new) a role on `site`, as the CLI would.
pub async fn add_moderator(app: &TestApp, email: &str, site: &Site, role: Role) -> Uuid {
    let mut conn = app.db.acquire().await.unwrap();
    let id = match store::find_id_by_email(&mut conn, email).await.unwrap() {
        Some(id) => id,
        None => {
            let pw = NewPassword::parse(PASSWORD.to_owned()).unwrap();
            let hash = password::hash(pw).await.unwrap();
            match store::create_account(&mut conn, email, &hash).await {
                Ok(id) => id,
                Err(CreateAccountError::EmailTaken) => panic!("taken"),
                Err(CreateAccountError::Db(e)) => panic!("{e}"),
            }
        }
    };
    store::put_member(
        &mut conn,
        &SiteScope::operator(site.id, &site.slug),
        id,
        role,
    )
    .await
    .unwrap();
    id
}

pub async fn site(app: &TestApp, slug: &'static str) -> Site {
    app.create_site(SiteOpts {
        slug,
        ..Default::default()
    })
    .await
}

/// An app that believes X-Forwarded-For from the test client, so tests can pick the client IP.
pub async fn proxied_app() -> TestApp {
    spawn_app_with(|s| s.server.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]).await
}

/// What a moderator request carries besides its body.
#[derive(Clone, Copy, Default)]
pub struct With<'a> {
    /// Bearer token (a session or an API token).
    pub token: Option<&'a str>,
    pub if_match: Option<&'a str>,
    /// Sent as X-Forwarded-For (believed by a [`proxied_app`]).
    pub client_ip: Option<&'a str>,
}

/// The one request every moderator call goes through: `path` is under `/api/mod/v1`.
pub async fn request(
    app: &TestApp,
    method: Method,
    path: &str,
    with: With<'_>,
    body: Option<Value>,
) -> Response {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/mod/v1{path}")));
    if let Some(t) = with.token {
        req = req.bearer_auth(t);
    }
    if let Some(v) = with.if_match {
        req = req.header("If-Match", v);
    }
    if let Some(ip) = with.client_ip {
        req = req.header("X-Forwarded-For", ip);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

pub async fn login_from(app: &TestApp, email: &str, password: &str, ip: Option<&str>) -> Response {
    let with = With {
        client_ip: ip,
        ..With::default()
    };
    let body = json!({ "email": email, "password": password });
    request(app, Method::POST, "/login", with, Some(body)).await
}

pub async fn login(app: &TestApp, email: &str) -> String {
    let r = login_from(app, email, PASSWORD, None).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

pub async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Response {
    let with = With {
        token: Some(token),
        ..With::default()
    };
    request(app, method, path, with, body).await
}

pub async fn get(app: &TestApp, path: &str, token: &str) -> Response {
    call(app, Method::GET, path, token, None).await
}

pub async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    call(app, Method::POST, path, token, Some(body)).await
}

pub async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    call(app, Method::PATCH, path, token, Some(body)).await
}

/// `POST /invitations/accept`, with a moderator session when given.
pub async fn accept(app: &TestApp, body: Value, session: Option<&str>) -> Response {
    accept_from(app, body, session, None).await
}

pub async fn accept_from(
    app: &TestApp,
    body: Value,
    session: Option<&str>,
    ip: Option<&str>,
) -> Response {
    let with = With {
        token: session,
        client_ip: ip,
        ..With::default()
    };
    request(app, Method::POST, "/invitations/accept", with, Some(body)).await
}

pub async fn member_id(app: &TestApp, email: &str) -> Uuid {
    let mut conn = app.db.acquire().await.unwrap();
    store::find_id_by_email(&mut conn, email)
        .await
        .unwrap()
        .unwrap()
}

pub async fn delete(app: &TestApp, path: &str, token: &str) -> Response {
    call(app, Method::DELETE, path, token, None).await
}

pub async fn json_of(r: Response, status: u16) -> Value {
    assert_eq!(r.status().as_u16(), status, "unexpected status");
    r.json().await.unwrap()
}

/// Asserts a 429 `rate_limited` with a sane Retry-After; returns it.
pub async fn assert_throttled(r: Response) -> u64 {
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "Retry-After {retry}");
    assert_error(r, 429, "rate_limited").await;
    retry
}

/// A logged-in moderator: one method per moderator endpoint, each through [`request`].
pub struct Moderator<'a> {
    pub app: &'a TestApp,
    pub token: String,
}

impl TestApp {
    /// A moderator client for a token the test already holds.
    pub fn moderator_with(&self, token: &str) -> Moderator<'_> {
        Moderator {
            app: self,
            token: token.to_owned(),
        }
    }
}

// Not every test needs every endpoint; the client offers them all.
#[allow(dead_code)]
impl Moderator<'_> {
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        self.send_if_match(method, path, body, None).await
    }

    pub async fn send_if_match(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        if_match: Option<&str>,
    ) -> Response {
        let with = With {
            token: Some(&self.token),
            if_match,
            ..With::default()
        };
        request(self.app, method, path, with, body).await
    }

    // -- the moderator and their tokens

    pub async fn logout(&self) -> Response {
        self.send(Method::POST, "/logout", None).await
    }

    pub async fn change_password(&self, body: Value) -> Response {
        self.send(Method::POST, "/me/password", Some(body)).await
    }

    pub async fn my_audit(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/me/audit{}", q(query)), None)
            .await
    }

    pub async fn tokens(&self, query: &str) -> Response {
        self.send(Method::GET, &format!("/tokens{}", q(query)), None)
            .await
    }

    pub async fn create_token(&self, body: Value) -> Response {
        self.send(Method::POST, "/tokens", Some(body)).await
    }

    pub async fn revoke_token(&self, id: &str) -> Response {
        self.send(Method::DELETE, &format!("/tokens/{id}"), None)
            .await
    }

    // -- sites and their teams

    pub async fn sites(&self) -> Response {
        self.send(Method::GET, "/sites", None).await
    }

    pub async fn site(&self, site: &str) -> Response {
        self.send(Method::GET, &format!("/sites/{site}"), None)
            .await
    }

    pub async fn update_site(&self, site: &str, body: Value) -> Response {
        self.send(Method::PATCH, &format!("/sites/{site}"), Some(body))
            .await
    }

    pub async fn team(&self, site: &str) -> Response {
        self.send(Method::GET, &format!("/sites/{site}/moderators"), None)
            .await
    }

    pub async fn invite(&self, site: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/moderators");
        self.send(Method::POST, &path, Some(body)).await
    }

    pub async fn change_member(&self, site: &str, id: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/moderators/{id}");
        self.send(Method::PATCH, &path, Some(body)).await
    }

    pub async fn remove_member(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/moderators/{id}");
        self.send(Method::DELETE, &path, None).await
    }

    pub async fn invitations(&self, site: &str) -> Response {
        self.send(Method::GET, &format!("/sites/{site}/invitations"), None)
            .await
    }

    pub async fn revoke_invitation(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/invitations/{id}");
        self.send(Method::DELETE, &path, None).await
    }

    pub async fn site_audit(&self, site: &str, query: &str) -> Response {
        let path = format!("/sites/{site}/audit{}", q(query));
        self.send(Method::GET, &path, None).await
    }

    // -- the queue and comments

    pub async fn queue(&self, site: &str, query: &str) -> Response {
        let path = format!("/sites/{site}/queue{}", q(query));
        self.send(Method::GET, &path, None).await
    }

    pub async fn claim(&self, site: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/queue/claim");
        self.send(Method::POST, &path, Some(body)).await
    }

    /// Search: `GET /sites/{site}/comments`.
    pub async fn comments(&self, site: &str, query: &str) -> Response {
        let path = format!("/sites/{site}/comments{}", q(query));
        self.send(Method::GET, &path, None).await
    }

    pub async fn bulk_actions(&self, site: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/actions");
        self.send(Method::POST, &path, Some(body)).await
    }

    pub async fn act(&self, comment: &str, body: Value, if_match: Option<&str>) -> Response {
        let path = format!("/comments/{comment}/actions");
        self.send_if_match(Method::POST, &path, Some(body), if_match)
            .await
    }

    pub async fn edit_comment(
        &self,
        comment: &str,
        body: Value,
        if_match: Option<&str>,
    ) -> Response {
        let path = format!("/comments/{comment}");
        self.send_if_match(Method::PATCH, &path, Some(body), if_match)
            .await
    }

    pub async fn release(&self, comment: &str) -> Response {
        let path = format!("/comments/{comment}/release");
        self.send(Method::POST, &path, None).await
    }

    pub async fn history(&self, comment: &str) -> Response {
        let path = format!("/comments/{comment}/history");
        self.send(Method::GET, &path, None).await
    }

    // -- bans, rules, commenters, appeals

    pub async fn bans(&self, site: &str, query: &str) -> Response {
        let path = format!("/sites/{site}/bans{}", q(query));
        self.send(Method::GET, &path, None).await
    }

    pub async fn ban(&self, site: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/bans");
        self.send(Method::POST, &path, Some(body)).await
    }

    pub async fn get_ban(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/bans/{id}");
        self.send(Method::GET, &path, None).await
    }

    pub async fn lift_ban(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/bans/{id}");
        self.send(Method::DELETE, &path, None).await
    }

    pub async fn rules(&self, site: &str) -> Response {
        self.send(Method::GET, &format!("/sites/{site}/rules"), None)
            .await
    }

    pub async fn create_rule(&self, site: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/rules");
        self.send(Method::POST, &path, Some(body)).await
    }

    pub async fn dry_run(&self, site: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/rules/dry-run");
        self.send(Method::POST, &path, Some(body)).await
    }

    pub async fn rule(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/rules/{id}");
        self.send(Method::GET, &path, None).await
    }

    pub async fn update_rule(&self, site: &str, id: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/rules/{id}");
        self.send(Method::PATCH, &path, Some(body)).await
    }

    pub async fn delete_rule(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/rules/{id}");
        self.send(Method::DELETE, &path, None).await
    }

    pub async fn user(&self, site: &str, id: &str) -> Response {
        let path = format!("/sites/{site}/users/{id}");
        self.send(Method::GET, &path, None).await
    }

    pub async fn update_user(&self, site: &str, id: &str, body: Value) -> Response {
        let path = format!("/sites/{site}/users/{id}");
        self.send(Method::PATCH, &path, Some(body)).await
    }

    pub async fn appeals(&self, site: &str, query: &str) -> Response {
        let path = format!("/sites/{site}/appeals{}", q(query));
        self.send(Method::GET, &path, None).await
    }

    pub async fn decide_appeal(&self, appeal: &str, body: Value) -> Response {
        let path = format!("/appeals/{appeal}/actions");
        self.send(Method::POST, &path, Some(body)).await
    }
}

/// `?query`, or nothing for an empty one.
fn q(query: &str) -> String {
    if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    }
}
