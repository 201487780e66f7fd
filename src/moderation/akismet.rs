//! An Akismet-compatible `comment-check` call (form POST; answers `true` for spam, `false` for
//! ham). Off while no key is configured. A failure or timeout is logged and the comment goes on
//! without the check: a spam service being down must not stop a blog's conversation.

use std::time::Duration;

use crate::config::AkismetSettings;

pub struct Check<'a> {
    pub blog: &'a str,
    pub user_ip: Option<String>,
    pub user_agent: Option<&'a str>,
    pub permalink: Option<&'a str>,
    pub author: &'a str,
    pub author_email: Option<&'a str>,
    pub author_url: Option<&'a str>,
    pub content: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Ham,
    Spam,
    /// Akismet's `X-akismet-pro-tip: discard`: blatant spam.
    Discard,
}

/// Returns None when the check is off or could not be made.
pub async fn check(
    settings: &AkismetSettings,
    http: &reqwest::Client,
    c: &Check<'_>,
) -> Option<Verdict> {
    if settings.key.trim().is_empty() {
        return None;
    }
    let mut form: Vec<(&str, String)> = vec![
        ("api_key", settings.key.clone()),
        ("blog", c.blog.to_owned()),
        ("comment_type", "comment".to_owned()),
        ("comment_author", c.author.to_owned()),
        ("comment_content", c.content.to_owned()),
    ];
    let optional = [
        ("user_ip", c.user_ip.clone()),
        ("user_agent", c.user_agent.map(str::to_owned)),
        ("permalink", c.permalink.map(str::to_owned)),
        ("comment_author_email", c.author_email.map(str::to_owned)),
        ("comment_author_url", c.author_url.map(str::to_owned)),
    ];
    form.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    let res = http
        .post(&settings.url)
        .timeout(Duration::from_millis(settings.timeout_ms))
        .form(&form)
        .send()
        .await;
    let res = match res {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            tracing::warn!(
                status = r.status().as_u16(),
                "akismet check failed; continuing without it"
            );
            return None;
        }
        Err(e) => {
            tracing::warn!(error = %e.without_url(), "akismet check failed; continuing without it");
            return None;
        }
    };
    let discard = res
        .headers()
        .get("x-akismet-pro-tip")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"discard"));
    match res.text().await.ok()?.trim() {
        "true" if discard => Some(Verdict::Discard),
        "true" => Some(Verdict::Spam),
        "false" => Some(Verdict::Ham),
        // "invalid" (bad key) or anything else: not a verdict.
        other => {
            tracing::warn!(answer = %other.chars().take(40).collect::<String>(), "akismet gave no verdict");
            None
        }
    }
}
