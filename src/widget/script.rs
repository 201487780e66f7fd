//! The served `/embed.js`, joined once from its parts.
//!
//! The widget's source is split by concern under `js/`, one file per thing it owns. The parts
//! share one scope: the binary wraps them, in the order of [`PARTS`], in the one function a blog
//! loads, so building needs no bundler and no Node. The stylesheet and the strings then go in as
//! JSON literals, so no character of either can end a string or the script.

use super::i18n;

/// What a blog's developer reads first: how to embed the widget.
const BANNER: &str = r#"/*! Colloquy comment widget. One script tag:
 *   <div id="colloquy-thread" data-site="myblog"></div>
 *   <script src="https://comments.example.com/embed.js" async></script>
 * Optional on the div: data-uri (default: the page's path), data-title, data-lang (en, fr, ru),
 * data-theme (light, dark, auto). Elements marked data-colloquy-count="/uri" get that page's
 * comment count. Everything renders in a Shadow DOM; nothing from the API reaches innerHTML
 * except the server-sanitized comment `html`.
 */
"#;

/// The parts in the order they run. `core.js` comes first (everything leans on it), `widget.js`
/// before the parts that add methods to its prototype, and `boot.js` last: it starts widgets,
/// which needs every part defined.
pub(super) const PARTS: [(&str, &str); 11] = [
    ("core.js", include_str!("js/core.js")),
    ("widget.js", include_str!("js/widget.js")),
    ("thread.js", include_str!("js/thread.js")),
    ("comment.js", include_str!("js/comment.js")),
    ("actions.js", include_str!("js/actions.js")),
    ("form.js", include_str!("js/form.js")),
    ("source.js", include_str!("js/source.js")),
    ("login.js", include_str!("js/login.js")),
    ("live.js", include_str!("js/live.js")),
    ("counts.js", include_str!("js/counts.js")),
    ("boot.js", include_str!("js/boot.js")),
];

const STYLE: &str = include_str!("embed.css");

/// Stand-ins in `core.js`, each a string literal the JSON replaces whole.
const CSS_SLOT: &str = "\"__COLLOQUY_CSS__\"";
const STRINGS_SLOT: &str = "\"__COLLOQUY_STRINGS__\"";

/// The script as served.
pub(super) fn build() -> String {
    let mut script = String::with_capacity(64 * 1024);
    script.push_str(BANNER);
    // Strict mode and one scope for all parts; nothing leaks into the blog's globals.
    script.push_str("(function () {\n\"use strict\";\n");
    for (_, part) in PARTS {
        script.push_str(part);
        // A part without a final newline would run into the next one's first line.
        if !part.ends_with('\n') {
            script.push('\n');
        }
    }
    script.push_str("})();\n");
    // Serializing a str or a Value can't fail; `null` would only leave the widget unstyled.
    let css = serde_json::to_string(STYLE).unwrap_or_else(|_| "null".to_owned());
    let words = serde_json::to_string(&i18n::strings()).unwrap_or_else(|_| "null".to_owned());
    script.replace(STRINGS_SLOT, &words).replace(CSS_SLOT, &css)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::{BANNER, CSS_SLOT, PARTS, STRINGS_SLOT, build};
    use crate::widget::i18n::LANGUAGES;

    #[test]
    fn every_part_is_served_once_in_order() {
        let script = build();
        assert!(script.starts_with(BANNER));
        assert!(script.ends_with("})();\n"));
        let mut at = 0;
        for (name, part) in PARTS {
            // Each part opens by naming itself and what it owns.
            let head = part.lines().next().unwrap_or_default();
            assert!(
                head.starts_with(&format!("/* {name}: ")),
                "{name} header: {head}"
            );
            assert_eq!(script.matches(head).count(), 1, "{name}");
            let pos = script.find(head).unwrap_or_default();
            assert!(pos > at, "{name} is out of order");
            at = pos;
            if !part.contains("__COLLOQUY_") {
                assert_eq!(script.matches(part).count(), 1, "{name} is served verbatim");
            }
        }
    }

    #[test]
    fn the_style_and_strings_are_injected_once_each() {
        let joined: String = PARTS.iter().map(|(_, p)| *p).collect();
        assert_eq!(joined.matches(CSS_SLOT).count(), 1);
        assert_eq!(joined.matches(STRINGS_SLOT).count(), 1);
        let script = build();
        assert!(!script.contains("__COLLOQUY_"), "a stand-in is left");
        assert!(script.contains("var STR = {\"en\":{"));
        // A stylesheet line, as the JSON string carries it.
        assert!(script.contains(r#":host {\n  all: initial !important;"#));
    }

    /// Every `t("key")` in the script names a key `en` has: a typo would show the raw key.
    #[test]
    fn every_string_the_script_asks_for_exists() {
        let en: serde_json::Value = serde_json::from_str(LANGUAGES[0].1).unwrap_or_default();
        let mut asked = BTreeSet::new();
        for (_, part) in PARTS {
            for (i, _) in part.match_indices(".t(\"") {
                let rest = &part[i + 4..];
                if let Some(end) = rest.find('"') {
                    asked.insert(&rest[..end]);
                }
            }
        }
        assert!(asked.len() > 40, "found {} keys", asked.len());
        let missing: Vec<_> = asked.iter().filter(|k| en.get(**k).is_none()).collect();
        assert!(missing.is_empty(), "not in en.json: {missing:?}");
    }

    /// `node --check` on `source`: `None` when there is no node to ask.
    fn node_check(name: &str, source: &str) -> Option<Result<(), String>> {
        let path = std::env::temp_dir().join(format!("colloquy-{}-{name}", std::process::id()));
        std::fs::write(&path, source).expect("write the script");
        let checked = std::process::Command::new("node")
            .arg("--check")
            .arg(&path)
            .output();
        let _ = std::fs::remove_file(&path);
        let out = checked.ok()?;
        Some(if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        })
    }

    /// The joined script is valid JavaScript, and so is each part alone in a function: a part
    /// that leaves a brace open would swallow the next parts into one of its functions and still
    /// parse once joined. Node is only needed for this check, never to build, so a machine
    /// without it skips it.
    #[test]
    fn the_script_and_each_part_parse() {
        let Some(joined) = node_check("embed.js", &build()) else {
            eprintln!("node not found; the script was not parsed");
            return;
        };
        let mut problems: Vec<String> = joined.err().into_iter().collect();
        for (name, part) in PARTS {
            let alone = format!("(function () {{\n{part}\n}})();\n");
            if let Some(Err(e)) = node_check(name, &alone) {
                problems.push(format!("{name} alone: {e}"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
