//! Each provider's profile JSON, spelled exactly as the provider spells it (PROVIDERS.md), mapped
//! into one `Profile` shape.

use serde::Deserialize;
use serde_json::Value;

use crate::auth::users::Profile;

/// A provider id that arrives as a JSON integer (WordPress `ID`) or a string (everyone else).
fn id_string(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() && s.len() <= 255 => Some(s.clone()),
        _ => None,
    }
}

fn http_url(s: Option<String>) -> Option<String> {
    s.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

fn clean_name(name: Option<String>, fallback: &str) -> String {
    name.map(|n| {
        n.trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect::<String>()
    })
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| fallback.to_owned())
}

/// `GET /rest/v1.1/me`.
#[derive(Deserialize)]
struct WordPressMe {
    #[serde(rename = "ID")]
    id: Value,
    display_name: Option<String>,
    username: Option<String>,
    email: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[serde(rename = "avatar_URL")]
    avatar_url: Option<String>,
    #[serde(rename = "profile_URL")]
    profile_url: Option<String>,
    primary_blog_url: Option<String>,
    #[serde(default)]
    phone_account: bool,
}

pub fn wordpress(raw: Value) -> Result<Profile, String> {
    let me: WordPressMe =
        serde_json::from_value(raw.clone()).map_err(|e| format!("unexpected /me JSON: {e}"))?;
    let subject = id_string(&me.id).ok_or("missing ID")?;
    // A phone account has no verified email, whatever the other flag says.
    let verified = me.email_verified && !me.phone_account;
    let username = me.username.clone().unwrap_or_default();
    Ok(Profile {
        provider: "wordpress".into(),
        subject,
        name: clean_name(
            me.display_name.or(me.username),
            if username.is_empty() {
                "WordPress.com user"
            } else {
                &username
            },
        ),
        email: me.email.filter(|_| verified),
        email_verified: verified,
        avatar_url: http_url(me.avatar_url),
        profile_url: http_url(me.profile_url).or(http_url(me.primary_blog_url)),
        raw,
    })
}

/// `GET /2/users/me?user.fields=profile_image_url`: everything under `data`.
#[derive(Deserialize)]
struct TwitterMe {
    data: TwitterUser,
}

#[derive(Deserialize)]
struct TwitterUser {
    id: Value,
    name: Option<String>,
    username: Option<String>,
    profile_image_url: Option<String>,
    confirmed_email: Option<String>,
}

pub fn twitter(raw: Value) -> Result<Profile, String> {
    let me: TwitterMe = serde_json::from_value(raw.clone())
        .map_err(|e| format!("unexpected users/me JSON: {e}"))?;
    let u = me.data;
    let subject = id_string(&u.id).ok_or("missing data.id")?;
    let username = u
        .username
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    Ok(Profile {
        provider: "twitter".into(),
        subject,
        name: clean_name(u.name.or(username.clone()), "X user"),
        email: u.confirmed_email.clone(),
        email_verified: u.confirmed_email.is_some(),
        avatar_url: http_url(u.profile_image_url),
        // X returns no profile URL; handles can change, so it's refreshed at every login.
        profile_url: username.map(|n| format!("https://x.com/{n}")),
        raw,
    })
}

/// `GET /{version}/me?fields=id,name,email,picture`.
#[derive(Deserialize)]
struct FacebookMe {
    id: Value,
    name: Option<String>,
    email: Option<String>,
    picture: Option<FacebookPicture>,
}

#[derive(Deserialize)]
struct FacebookPicture {
    data: Option<FacebookPictureData>,
}

#[derive(Deserialize)]
struct FacebookPictureData {
    url: Option<String>,
    #[serde(default)]
    is_silhouette: bool,
}

/// Facebook ids are app-scoped: the subject records the app id too, so switching apps later
/// is visible instead of silently creating new users.
pub fn facebook(raw: Value, app_id: &str) -> Result<Profile, String> {
    let me: FacebookMe =
        serde_json::from_value(raw.clone()).map_err(|e| format!("unexpected /me JSON: {e}"))?;
    let id = id_string(&me.id).ok_or("missing id")?;
    let avatar = me
        .picture
        .and_then(|p| p.data)
        .filter(|d| !d.is_silhouette)
        .and_then(|d| http_url(d.url));
    Ok(Profile {
        provider: "facebook".into(),
        subject: format!("{app_id}:{id}"),
        name: clean_name(me.name, "Facebook user"),
        // Facebook only returns an email it has confirmed.
        email_verified: me.email.is_some(),
        email: me.email,
        avatar_url: avatar,
        profile_url: None,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wordpress_integer_id_and_mixed_case_keys() {
        let p = wordpress(json!({
            "ID": 12345678, "display_name": "Jane Blogger", "username": "janeblogger", "email": "jane@example.com",
            "email_verified": true, "avatar_URL": "https://0.gravatar.com/avatar/x", "profile_URL": "https://gravatar.com/janeblogger",
            "phone_account": false
        }))
        .unwrap();
        assert_eq!(p.subject, "12345678");
        assert_eq!(
            p.avatar_url.as_deref(),
            Some("https://0.gravatar.com/avatar/x")
        );
        assert_eq!(p.email.as_deref(), Some("jane@example.com"));
        let phone = wordpress(json!({ "ID": 1, "display_name": "P", "email": "p@x.org", "email_verified": true, "phone_account": true })).unwrap();
        assert_eq!(phone.email, None);
        assert!(!phone.email_verified);
    }

    #[test]
    fn twitter_data_wrapper() {
        let p = twitter(
            json!({ "data": { "id": "2244994945", "name": "X Developers", "username": "XDevelopers",
            "profile_image_url": "https://pbs.twimg.com/a_normal.jpg" } }),
        )
        .unwrap();
        assert_eq!(p.subject, "2244994945");
        assert_eq!(p.profile_url.as_deref(), Some("https://x.com/XDevelopers"));
        assert!(twitter(json!({ "id": "1", "name": "no wrapper" })).is_err());
    }

    #[test]
    fn facebook_picture_path_and_app_scoped_id() {
        let p = facebook(
            json!({ "id": "10223344556677889", "name": "Jane Doe",
                    "picture": { "data": { "height": 50, "width": 50, "is_silhouette": false, "url": "https://platform-lookaside.fbsbx.com/p" } } }),
            "555",
        )
        .unwrap();
        assert_eq!(p.subject, "555:10223344556677889");
        assert_eq!(
            p.avatar_url.as_deref(),
            Some("https://platform-lookaside.fbsbx.com/p")
        );
        assert_eq!(p.email, None);
    }
}
