//! The widget's words: one JSON file per language (`i18n/<lang>.json`), so a translation is data
//! a translator edits without reading the script.
//!
//! `en` is the reference. The script falls back to it for a language it doesn't have and for a
//! key a language lacks, and the tests below hold every other language to exactly its keys and
//! `{placeholder}`s, so the fallback never shows half-English to a reader.

use serde_json::{Map, Value};

/// Every language the widget speaks: the code `data-lang` names (its first two letters) and the
/// strings. A new language is a file and a line here.
pub(super) const LANGUAGES: [(&str, &str); 3] = [
    ("en", include_str!("i18n/en.json")),
    ("fr", include_str!("i18n/fr.json")),
    ("ru", include_str!("i18n/ru.json")),
];

/// All languages as one object, `{"en": {...}, "fr": {...}, ...}`: the script's `STR`.
///
/// A file that doesn't parse is left out, so its readers get English rather than no widget; the
/// tests below keep such a file from shipping.
pub(super) fn strings() -> Value {
    let all: Map<String, Value> = LANGUAGES
        .iter()
        .filter_map(|(lang, text)| match serde_json::from_str::<Value>(text) {
            Ok(words) => Some(((*lang).to_owned(), words)),
            Err(e) => {
                tracing::error!(lang, error = %e, "widget strings don't parse; left out");
                None
            }
        })
        .collect();
    Value::Object(all)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use serde_json::Value;

    use super::{LANGUAGES, strings};

    /// CLDR plural categories. An object whose keys are all among them is one string in plural
    /// forms (the script picks one with `Intl.PluralRules`); any other object is a group of keys.
    const PLURAL_FORMS: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

    /// `{name}`s in a string, as the script's `fill` finds them (`\{(\w+)\}`).
    fn placeholders(s: &str) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for (start, _) in s.match_indices('{') {
            let rest = &s[start + 1..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() && rest[name.len()..].starts_with('}') {
                found.insert(name);
            }
        }
        found
    }

    /// A language's keys (dotted through groups) with each one's placeholders, and every problem
    /// found on the way: a non-string, an empty value, plural forms that disagree.
    fn keys(
        prefix: &str,
        value: &Value,
        out: &mut BTreeMap<String, BTreeSet<String>>,
        problems: &mut Vec<String>,
    ) {
        let Value::Object(map) = value else {
            problems.push(format!("{prefix}: not an object"));
            return;
        };
        for (k, v) in map {
            let key = format!("{prefix}.{k}");
            match v {
                Value::String(s) if s.trim().is_empty() => problems.push(format!("{key}: empty")),
                Value::String(s) => {
                    out.insert(key, placeholders(s));
                }
                Value::Object(forms)
                    if forms.keys().all(|f| PLURAL_FORMS.contains(&f.as_str())) =>
                {
                    let Some(Value::String(other)) = forms.get("other") else {
                        problems.push(format!("{key}: a plural without an \"other\" form"));
                        continue;
                    };
                    let expected = placeholders(other);
                    for (form, text) in forms {
                        match text.as_str() {
                            Some(t) if t.trim().is_empty() => {
                                problems.push(format!("{key}.{form}: empty"));
                            }
                            Some(t) if placeholders(t) != expected => {
                                problems
                                    .push(format!("{key}.{form}: placeholders differ from .other"));
                            }
                            Some(_) => {}
                            None => problems.push(format!("{key}.{form}: not a string")),
                        }
                    }
                    out.insert(key, expected);
                }
                Value::Object(_) => keys(&key, v, out, problems),
                _ => problems.push(format!("{key}: not a string")),
            }
        }
    }

    fn parsed(lang: &str, text: &str) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
        let mut out = BTreeMap::new();
        let mut problems = Vec::new();
        match serde_json::from_str::<Value>(text) {
            Ok(v) => keys(lang, &v, &mut out, &mut problems),
            Err(e) => problems.push(format!("{lang}: {e}")),
        }
        let out = out
            .into_iter()
            .map(|(k, v)| (k[lang.len() + 1..].to_owned(), v))
            .collect();
        (out, problems)
    }

    #[test]
    fn every_language_has_exactly_the_keys_and_placeholders_of_en() {
        let (en, mut problems) = parsed("en", LANGUAGES[0].1);
        assert_eq!(LANGUAGES[0].0, "en", "en comes first: it is the reference");
        assert!(en.len() > 50, "en has {} keys", en.len());
        for (lang, text) in &LANGUAGES[1..] {
            let (words, found) = parsed(lang, text);
            problems.extend(found);
            for (key, wanted) in &en {
                match words.get(key) {
                    None => problems.push(format!("{lang}.{key}: missing")),
                    Some(have) if have != wanted => problems.push(format!(
                        "{lang}.{key}: placeholders {have:?}, en has {wanted:?}"
                    )),
                    Some(_) => {}
                }
            }
            for key in words.keys().filter(|k| !en.contains_key(*k)) {
                problems.push(format!("{lang}.{key}: not in en"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    #[test]
    fn every_language_reaches_the_script() {
        let all = strings();
        for (lang, _) in LANGUAGES {
            assert!(all.get(lang).is_some_and(Value::is_object), "{lang}");
            assert_eq!(lang.len(), 2, "the script matches two-letter codes");
        }
    }

    #[test]
    fn placeholders_are_found_as_the_script_fills_them() {
        let found = placeholders("{n} of {total}, {not one}, {}, {x");
        assert_eq!(found, BTreeSet::from(["n".to_owned(), "total".to_owned()]));
    }
}
