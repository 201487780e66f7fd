use super::{Invalid, is_forbidden_inline};

/// An email address as commenters type it: checked for shape, domain lowercased.
///
/// Deliverability isn't checked (that takes a mail round-trip); the shape check stops typos
/// and header-injection characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let t = s.trim();
        let err = || Invalid::new("must be an email address like name@example.com");
        if t.len() > 254
            || t.chars()
                .any(|c| c.is_whitespace() || is_forbidden_inline(c))
        {
            return Err(err());
        }
        let (local, domain) = t.rsplit_once('@').ok_or_else(err)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        if local.is_empty() || local.len() > 64 || local.contains('@') || !domain_ok {
            return Err(err());
        }
        if local.chars().any(|c| {
            matches!(
                c,
                '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']'
            )
        }) {
            return Err(err());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key one guest is known by: the whole address, case-folded.
    pub fn identity_key(&self) -> String {
        self.0.to_lowercase()
    }
}

// Personal data: keep it out of Debug output (and so out of logs).
impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(<redacted>)")
    }
}

/// A guest's secret key: made at random by the guest's browser (the widget keeps it in
/// `localStorage`) and sent with each of their comments. A guest is known by email *and* key, so
/// typing someone's email without their key makes a different guest: no shared author id, no
/// borrowed history. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct GuestKey(String);

impl GuestKey {
    /// 22 to 128 characters of `A-Z a-z 0-9 - _` (22 base64url characters carry 128 bits).
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (22..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new(
                "must be 22 to 128 characters of A-Z, a-z, 0-9, - and _: a random secret the \
                 guest's browser keeps",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// A secret: never printed.
impl std::fmt::Debug for GuestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuestKey(<redacted>)")
    }
}

/// An absolute http(s) URL (a guest's website, a thread's page URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebUrl(url::Url);

impl WebUrl {
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, Invalid> {
        let t = s.trim();
        if t.chars().count() > max_chars {
            return Err(Invalid::new(format!(
                "must be at most {max_chars} characters"
            )));
        }
        let u = url::Url::parse(t).map_err(|_| Invalid::new("must be an absolute http(s) URL"))?;
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return Err(Invalid::new("must be an absolute http(s) URL"));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(Invalid::new("must not contain credentials"));
        }
        Ok(Self(u))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }
}

/// A browser origin, `scheme://host[:port]`, in the serialized form browsers send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin(String);

impl Origin {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let err = || {
            Invalid::new(
                "must be an origin like https://blog.example (scheme, host, optional port; no path)",
            )
        };
        let u = url::Url::parse(s.trim()).map_err(|_| err())?;
        if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
            return Err(err());
        }
        // Refuse paths, queries and credentials rather than silently dropping them.
        if u.path() != "/"
            || u.query().is_some()
            || u.fragment().is_some()
            || !u.username().is_empty()
        {
            return Err(err());
        }
        let serialized = u.origin().ascii_serialization();
        Ok(Self(serialized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guest_keys() {
        for ok in [
            "abcdefghijklmnopqrstuv",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "2f1c7a3e-8b4d-4f6a-9c2e-1d3b5a7c9e0f",
            &"A_".repeat(64),
        ] {
            assert_eq!(GuestKey::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "short",
            "abcdefghijklmnopqrstu",
            "abcdefghijklmnopqrstuv ",
            "abcdefghijklmnopqrstuv=",
            "abcdéfghijklmnopqrstuv",
            &"a".repeat(129),
        ] {
            assert!(GuestKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(
            !format!("{:?}", GuestKey::parse("abcdefghijklmnopqrstuv").unwrap()).contains("abc")
        );
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "Ann@example.com"
        );
        assert_eq!(
            Email::parse("Ann@Example.COM").unwrap().identity_key(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.com",
            "ann@x",
            "a b@x.com",
            "ann@x..com",
            "a\r\nBcc:@x.com",
            "<a>@x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            format!("{:?}", Email::parse("a@b.co").unwrap()),
            "Email(<redacted>)"
        );
    }

    #[test]
    fn web_urls() {
        assert!(WebUrl::parse("https://blog.example/about", 100).is_ok());
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "ftp://x.org",
            "/relative",
            "https://u:p@x.org",
            "vbscript:x",
        ] {
            assert!(WebUrl::parse(bad, 100).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(
            Origin::parse("https://Blog.Example").unwrap().as_str(),
            "https://blog.example"
        );
        assert_eq!(
            Origin::parse("https://blog.example/").unwrap().as_str(),
            "https://blog.example"
        );
        assert_eq!(
            Origin::parse("http://localhost:3000").unwrap().as_str(),
            "http://localhost:3000"
        );
        // Default ports are dropped, as browsers do.
        assert_eq!(
            Origin::parse("https://blog.example:443").unwrap().as_str(),
            "https://blog.example"
        );
        for bad in [
            "blog.example",
            "https://blog.example/path",
            "javascript:x",
            "https://blog.example?q=1",
            "*",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?}");
        }
    }
}
