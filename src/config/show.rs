//! `colloquy config`: the effective settings as TOML, with every secret redacted.

use serde_json::Value;

const REDACTED: &str = "<redacted>";

/// Keys whose values are secrets, by name: `client_secret`, the spam service's `key`,
/// passwords and tokens, wherever they sit.
fn is_secret(key: &str) -> bool {
    matches!(key, "key" | "secret" | "password" | "token")
        || ["_secret", "_key", "_password", "_token"]
            .iter()
            .any(|end| key.ends_with(end))
}

/// Secrets replaced, and the password of any URL with credentials (a database or mail URL).
pub fn redacted(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if is_secret(&k) && !s.is_empty() => {
                            Value::String(REDACTED.to_owned())
                        }
                        other => redacted(other),
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redacted).collect()),
        Value::String(s) => Value::String(without_url_password(&s)),
        other => other,
    }
}

fn without_url_password(s: &str) -> String {
    match url::Url::parse(s) {
        Ok(mut u) if u.password().is_some() => {
            // Setting a password can only fail for URLs that cannot have one; this one has.
            let _ = u.set_password(Some(REDACTED));
            u.to_string()
        }
        _ => s.to_owned(),
    }
}

/// TOML from the settings tree: tables as `[a.b]` sections, values as JSON literals (for
/// strings, numbers, booleans and arrays of them, JSON and TOML write the same text).
pub fn toml(value: &Value) -> String {
    let mut out = String::new();
    section(&mut out, "", value);
    out
}

fn section(out: &mut String, path: &str, value: &Value) {
    let Value::Object(map) = value else { return };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let (tables, values): (Vec<&String>, Vec<&String>) =
        keys.into_iter().partition(|k| map[*k].is_object());
    if !path.is_empty() && (!values.is_empty() || tables.is_empty()) {
        out.push_str(&format!("\n[{path}]\n"));
    }
    for k in values {
        let v = &map[k];
        // A null (an unset optional key) has no TOML form: leave it out, as the file would.
        if !v.is_null() {
            out.push_str(&format!("{} = {}\n", key(k), v));
        }
    }
    for k in tables {
        let sub = if path.is_empty() {
            key(k)
        } else {
            format!("{path}.{}", key(k))
        };
        section(out, &sub, &map[k]);
    }
}

/// A bare key when TOML allows one, else a quoted one.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_owned()
    } else {
        Value::String(k.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_and_url_passwords_are_redacted_and_the_rest_kept() {
        let v = redacted(json!({
            "database": { "url": "postgres://app:hunter2@db:5432/colloquy" },
            "auth": { "providers": { "google": { "client_id": "id", "client_secret": "s3cret" } } },
            "moderation": { "akismet": { "key": "abc", "url": "https://rest.akismet.com/1.1" } },
            "email": { "smtp_url": "smtps://mailer:pw@smtp.example:465", "from": "a@b.c" },
            "empty": { "client_secret": "" },
        }));
        let text = toml(&v);
        for secret in ["hunter2", "s3cret", "\"abc\"", ":pw@"] {
            assert!(!text.contains(secret), "{secret} leaked:\n{text}");
        }
        assert!(text.contains("client_id = \"id\""), "{text}");
        assert!(
            text.contains("url = \"https://rest.akismet.com/1.1\""),
            "{text}"
        );
        assert!(text.contains("[auth.providers.google]"), "{text}");
        assert!(text.contains("app:%3Credacted%3E@db:5432"), "{text}");
        // An empty secret says "not set", which is worth seeing.
        assert!(text.contains("client_secret = \"\""), "{text}");
    }

    #[test]
    fn the_output_is_toml_the_config_crate_reads_back() {
        let v = json!({ "server": { "host": "0.0.0.0", "port": 8080, "trusted_proxies": ["10.0.0.0/8"] },
                        "a": { "b": { "c": true } } });
        let text = toml(&v);
        let back: Value = config::Config::builder()
            .add_source(config::File::from_str(&text, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert_eq!(back, v);
    }
}
