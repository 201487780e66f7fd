//! Markdown in, sanitized HTML out.
//!
//! Two layers: pulldown-cmark never emits the author's raw HTML (it is turned into text, so
//! `<b>` shows as `<b>`), and ammonia then allows only a short list of tags and attributes,
//! http(s)/mailto links, and stamps every link `rel="nofollow ugc noopener"`. Either layer alone
//! would stop script; both together also stop layout tricks (styles, forms, images that track).

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

/// The only tags a rendered comment may hold.
const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
];

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let tags: HashSet<&str> = ALLOWED_TAGS.iter().copied().collect();
    let mut b = ammonia::Builder::empty();
    b.tags(tags)
        .add_tag_attributes("a", ["href", "title"])
        .add_tag_attributes("ol", ["start"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("nofollow ugc noopener"))
        .strip_comments(true);
    b
});

/// Renders a comment's markdown to HTML that is safe to insert into any page.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML from the author is shown as text, never interpreted.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // Images become links: no tracking pixels, no page-breaking sizes.
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Link),
        // The page owns h1/h2; a comment's headings start at h3.
        Event::Start(Tag::Heading {
            level,
            id: _,
            classes: _,
            attrs: _,
        }) => Event::Start(Tag::Heading {
            level: demote(level),
            id: None,
            classes: vec![],
            attrs: vec![],
        }),
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(demote(level))),
        other => other,
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events);
    SANITIZER.clean(&unsafe_html).to_string()
}

fn demote(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 | HeadingLevel::H2 => HeadingLevel::H3,
        other => other,
    }
}

/// Number of links in a comment (the moderation pipeline holds comments with many): rendered
/// links, or bare URLs in the source when there are more of those (markdown doesn't link them,
/// but readers copy them all the same).
pub fn link_count(markdown: &str, html: &str) -> usize {
    let rendered = html.matches("<a ").count();
    let lower = markdown.to_ascii_lowercase();
    let bare = lower.matches("http://").count()
        + lower.matches("https://").count()
        + lower.matches("www.").count()
        - lower.matches("://www.").count();
    rendered.max(bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Walks every tag in the output and fails on anything that could run, load or restyle:
    /// a tag outside the allow-list, an attribute other than href/title/rel/start, or an href
    /// that isn't http(s)/mailto.
    fn assert_inert(input: &str) {
        let out = render(input);
        let lower = out.to_ascii_lowercase();
        let mut rest = lower.as_str();
        while let Some(start) = rest.find('<') {
            let after = &rest[start + 1..];
            let end = after
                .find('>')
                .unwrap_or_else(|| panic!("unclosed tag in {out:?} (input {input:?})"));
            let tag = &after[..end];
            rest = &after[end + 1..];
            let tag = tag.trim_start_matches('/');
            let name: String = tag
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            assert!(
                ALLOWED_TAGS.contains(&name.as_str()),
                "tag <{name}> survived: {out:?} (input {input:?})"
            );
            for attr in attributes(tag) {
                let (key, value) = attr;
                assert!(
                    matches!(key.as_str(), "href" | "title" | "rel" | "start"),
                    "attribute {key} survived: {out:?} (input {input:?})"
                );
                if key == "href" {
                    let v = decode_entities(&value);
                    assert!(
                        v.starts_with("http://")
                            || v.starts_with("https://")
                            || v.starts_with("mailto:"),
                        "href {v:?} survived: {out:?} (input {input:?})"
                    );
                }
            }
            if name == "a" && !tag.is_empty() && !tag.starts_with('/') && tag.contains("href") {
                assert!(
                    tag.contains("rel=\"nofollow ugc noopener\""),
                    "link without rel: {out:?}"
                );
            }
        }
        assert!(!lower.contains("<script"), "{out:?}");
    }

    fn attributes(tag: &str) -> Vec<(String, String)> {
        let mut out = vec![];
        let body = tag
            .split_once(char::is_whitespace)
            .map(|(_, b)| b)
            .unwrap_or("");
        let mut chars = body.trim().chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == '/') {
                chars.next();
            }
            let key: String =
                std::iter::from_fn(|| chars.next_if(|c| *c != '=' && !c.is_whitespace())).collect();
            if key.is_empty() {
                break;
            }
            let mut value = String::new();
            if chars.next_if_eq(&'=').is_some() {
                if chars.next_if_eq(&'"').is_some() {
                    value = std::iter::from_fn(|| chars.next_if(|c| *c != '"')).collect();
                    chars.next();
                } else {
                    value = std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace())).collect();
                }
            }
            out.push((key, value));
        }
        out
    }

    fn decode_entities(s: &str) -> String {
        s.replace("&amp;", "&")
            .replace("&#x3a;", ":")
            .replace("&colon;", ":")
    }

    const HOSTILE: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<img src=\"x\" onerror=\"alert(1)\"/>",
        "![x](javascript:alert(1))",
        "![x\" onerror=\"alert(1)](https://example.com/a.png)",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](java\tscript:alert(1))",
        "[click](&#106;avascript:alert(1))",
        "[click](javascript&#58;alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](vbscript:msgbox(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<object data=\"evil.swf\"></object>",
        "<embed src=\"evil.swf\">",
        "<div style=\"position:fixed;top:0;left:0;width:100%;height:100%\">overlay</div>",
        "<p style=\"background:url(javascript:alert(1))\">x</p>",
        "<style>body{display:none}</style>",
        "<form action=\"https://evil.example\"><input name=p type=password></form>",
        "<body onload=alert(1)>",
        "<details open ontoggle=alert(1)>",
        "<video><source onerror=\"alert(1)\"></video>",
        "<<script>script>alert(1)<</script>/script>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)\">x</a>",
        "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">",
        "<base href=\"https://evil.example/\">",
        "<link rel=stylesheet href=https://evil.example/x.css>",
        "[x](https://ok.example \"title\" onmouseover=alert(1))",
        "<https://ok.example/\"onmouseover=\"alert(1)>",
        "```html\n<script>alert(1)</script>\n```",
        "`<img src=x onerror=alert(1)>`",
        "> <img src=x onerror=alert(1)>",
        "* [a](javascript:alert(1))\n* <b onmouseover=alert(1)>b</b>",
        "<!-- <script>alert(1)</script> -->",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<table><tr><td background=\"javascript:alert(1)\">x</td></tr></table>",
        "[ref]\n\n[ref]: javascript:alert(1)",
        "<a href=\"//evil.example\">protocol-relative</a>",
        "[rel](/relative/path)",
        "<textarea><script>alert(1)</script></textarea>",
        "<template><script>alert(1)</script></template>",
        "\u{0000}<script>alert(1)</script>",
    ];

    #[test]
    fn hostile_inputs_render_inert() {
        assert!(HOSTILE.len() >= 30);
        for input in HOSTILE {
            assert_inert(input);
        }
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let out = render("<b>bold</b> <script>alert(1)</script>");
        assert!(out.contains("&lt;b&gt;bold&lt;/b&gt;"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }

    #[test]
    fn markdown_features_survive() {
        let out = render(
            "**bold** _em_ ~~del~~ `code`\n\n> quote\n\n- a\n- b\n\n[link](https://example.com)",
        );
        for frag in [
            "<strong>bold</strong>",
            "<em>em</em>",
            "<del>del</del>",
            "<code>code</code>",
            "<blockquote>",
            "<li>a</li>",
        ] {
            assert!(out.contains(frag), "{frag} missing in {out}");
        }
        assert!(
            out.contains("<a href=\"https://example.com\" rel=\"nofollow ugc noopener\">link</a>"),
            "{out}"
        );
    }

    #[test]
    fn images_become_links_and_headings_start_at_h3() {
        let out = render("![cat](https://example.com/cat.png)\n\n# Big");
        assert!(!out.contains("<img"), "{out}");
        assert!(
            out.contains("<a href=\"https://example.com/cat.png\""),
            "{out}"
        );
        assert!(out.contains("<h3>Big</h3>"), "{out}");
    }

    #[test]
    fn javascript_links_lose_their_href() {
        let out = render("[click](javascript:alert(1))");
        assert!(!out.to_ascii_lowercase().contains("javascript"), "{out}");
        assert!(out.contains("click"), "{out}");
    }

    #[test]
    fn counts_links() {
        let md = "[a](https://a.example) and <https://b.example>";
        assert_eq!(link_count(md, &render(md)), 2);
        let bare = "see https://a.example and http://b.example and www.c.example and https://www.d.example";
        assert_eq!(link_count(bare, &render(bare)), 4);
    }
}
