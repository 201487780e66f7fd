use super::{Invalid, is_forbidden_inline};

/// A site's public identifier: `[a-z0-9-]{2,64}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SiteSlug(String);

impl SiteSlug {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (2..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new("must be 2 to 64 characters of a-z, 0-9 and -"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A site's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteName(String);

impl SiteName {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        Ok(Self(single_line(s, 200)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The path of a page a thread belongs to, e.g. `/2013/02/26/kerry-lavrov/`.
///
/// Kept as the blog sends it (query included, fragment refused) so the same page always maps to
/// the same thread; no whitespace or control characters, so it is safe in logs and URLs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThreadUri(String);

impl ThreadUri {
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, Invalid> {
        if s.is_empty() {
            return Err(Invalid::new("is required"));
        }
        if !s.starts_with('/') || s.starts_with("//") {
            return Err(Invalid::new(
                "must be a path starting with / (e.g. /2024/01/hello/)",
            ));
        }
        if s.chars().count() > max_chars {
            return Err(Invalid::new(format!(
                "must be at most {max_chars} characters"
            )));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || is_forbidden_inline(c))
        {
            return Err(Invalid::new(
                "must not contain spaces or control characters",
            ));
        }
        if s.contains('#') {
            return Err(Invalid::new("must not contain a #fragment"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A thread's title as the page reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadTitle(String);

impl ThreadTitle {
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, Invalid> {
        Ok(Self(single_line(s, max_chars)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A comment's markdown source: trimmed, not empty, bounded, no NULs or stray controls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, Invalid> {
        let normalized = s.replace("\r\n", "\n");
        let t = normalized.trim();
        if t.is_empty() {
            return Err(Invalid::new("must not be empty"));
        }
        if t.chars().count() > max_chars {
            return Err(Invalid::new(format!(
                "must be at most {max_chars} characters"
            )));
        }
        if t.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(Invalid::new("must not contain control characters"));
        }
        Ok(Self(t.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name a guest signs a comment with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str, max_chars: usize) -> Result<Self, Invalid> {
        Ok(Self(single_line(s, max_chars)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client-chosen key that makes a retried POST answer the first result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = (1..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic());
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid::new("must be 1 to 255 visible ASCII characters"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn single_line(s: &str, max_chars: usize) -> Result<String, Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Invalid::new("must not be empty"));
    }
    if t.chars().count() > max_chars {
        return Err(Invalid::new(format!(
            "must be at most {max_chars} characters"
        )));
    }
    if t.chars().any(is_forbidden_inline) {
        return Err(Invalid::new("must not contain control characters"));
    }
    Ok(t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(SiteSlug::parse("my-blog2").is_ok());
        for bad in ["a", "My-Blog", "a_b", "", "ab/", &"a".repeat(65), "blög"] {
            assert!(SiteSlug::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uris() {
        assert!(ThreadUri::parse("/2013/02/26/kerry-lavrov/", 100).is_ok());
        assert!(ThreadUri::parse("/?p=12", 100).is_ok());
        for bad in [
            "",
            "2013/",
            "//evil.example/x",
            "/a b",
            "/a\nb",
            "/a#c",
            "/\u{202e}x",
        ] {
            assert!(ThreadUri::parse(bad, 100).is_err(), "{bad:?}");
        }
        assert!(ThreadUri::parse("/abcd", 4).is_err());
    }

    #[test]
    fn bodies_are_trimmed_and_bounded_in_characters() {
        assert_eq!(CommentBody::parse("  hi \r\n", 10).unwrap().as_str(), "hi");
        assert!(CommentBody::parse("   \n ", 10).is_err());
        // 5 characters, 10 bytes: the limit counts characters.
        assert!(CommentBody::parse("ééééé", 5).is_ok());
        assert!(CommentBody::parse("éééééé", 5).is_err());
        assert!(CommentBody::parse("a\u{0}b", 5).is_err());
        assert!(CommentBody::parse("a\n\tb", 5).is_ok());
    }

    #[test]
    fn names() {
        assert_eq!(DisplayName::parse(" Ann ", 10).unwrap().as_str(), "Ann");
        assert!(DisplayName::parse("A\nB", 10).is_err());
        assert!(DisplayName::parse("Ann\u{202e}", 10).is_err());
        assert!(DisplayName::parse("", 10).is_err());
        assert!(DisplayName::parse("Алёна Иванова", 20).is_ok());
    }

    #[test]
    fn idempotency_keys() {
        assert!(IdempotencyKey::parse("3f1c-aa").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }
}
