//! The built-in spam heuristic: a score from 0 to 1 made of named signals, so a moderator sees
//! why ("4 links; shouting; pharma words") rather than a bare number.

/// Words that are almost never in a genuine blog comment.
const SPAM_WORDS: &[&str] = &[
    "viagra",
    "cialis",
    "casino",
    "payday loan",
    "crypto airdrop",
    "forex signals",
    "replica watches",
    "buy followers",
    "seo services",
    "backlinks",
    "porn",
    "escort",
    "bitcoin doubler",
    "work from home",
    "make money fast",
    "weight loss pills",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub value: f64,
    pub signals: Vec<String>,
}

/// Scores a comment from its markdown, rendered HTML and author details.
pub fn score(markdown: &str, html: &str, author_url: Option<&str>) -> Score {
    let mut value: f64 = 0.0;
    let mut signals = Vec::new();
    let lower = markdown.to_lowercase();

    let links = crate::markdown::link_count(markdown, html);
    if links >= 3 {
        value += 0.25 + 0.1 * (links.min(8) - 3) as f64;
        signals.push(format!("{links} links"));
    }
    let words: Vec<&str> = SPAM_WORDS
        .iter()
        .copied()
        .filter(|w| lower.contains(w))
        .collect();
    if !words.is_empty() {
        value += 0.45 + 0.15 * (words.len() - 1) as f64;
        signals.push(format!("spam words: {}", words.join(", ")));
    }
    let letters: Vec<char> = markdown.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = letters.iter().filter(|c| c.is_uppercase()).count();
    if letters.len() >= 20 && upper * 10 >= letters.len() * 7 {
        value += 0.2;
        signals.push("mostly capitals".to_owned());
    }
    let text_len = markdown.chars().filter(|c| !c.is_whitespace()).count();
    let url_len: usize = markdown
        .split_whitespace()
        // Bare URLs only: a markdown link's text is the author's own words.
        .filter(|w| w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www."))
        .map(|w| w.chars().count())
        .sum();
    if links >= 1 && text_len > 0 && url_len * 10 >= text_len * 6 {
        value += 0.3;
        signals.push("mostly links".to_owned());
    }
    if has_long_repeat(markdown) {
        value += 0.15;
        signals.push("repeated characters".to_owned());
    }
    if author_url.is_some() && links >= 1 && text_len < 40 {
        value += 0.15;
        signals.push("short comment with a link and a website".to_owned());
    }
    Score {
        value: value.min(1.0),
        signals,
    }
}

fn has_long_repeat(s: &str) -> bool {
    let mut run = 0;
    let mut prev = None;
    for c in s.chars() {
        if Some(c) == prev && !c.is_whitespace() {
            run += 1;
            if run >= 9 {
                return true;
            }
        } else {
            run = 0;
        }
        prev = Some(c);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::markdown::render;

    fn s(md: &str) -> Score {
        score(md, &render(md), None)
    }

    #[test]
    fn ordinary_comments_score_low() {
        for md in [
            "I disagree with the point about missile defense; the 2013 talks went nowhere.",
            "Thanks! See [the transcript](https://example.com/transcript) for the full quote.",
            "Great piece.",
        ] {
            assert!(s(md).value < 0.5, "{md}: {:?}", s(md));
        }
    }

    #[test]
    fn spam_scores_high_with_reasons() {
        let md = "BUY VIAGRA AND CIALIS NOW https://a.example https://b.example https://c.example https://d.example";
        let sc = s(md);
        assert!(sc.value >= 0.9, "{sc:?}");
        assert!(sc.signals.iter().any(|x| x.contains("links")));
        assert!(sc.signals.iter().any(|x| x.contains("viagra")));
    }
}
