//! The review's rules experiment (issue 10, point 4), without a server: 200 rules like
//! `a[ab]{450}c{1,N}` (each accepted alone) and 9,990-character `a`/`b` bodies matched on 9
//! threads, as the blocking pool would. Prints how many of the rules the site budget
//! (`matcher::RULES_COMPILED_MAX_BYTES`) accepts, then the time per post and the process's RSS
//! for that accepted set (matched as one `RegexSet`, the way the pipeline does now) and, with
//! `legacy`, for all 200 matched one by one (what a set over the budget still does: only rules
//! written in SQL around the API can be such a set).
//!
//! Usage: cargo run --release --example rules_budget [legacy]
//! Times are noisy on a shared machine; RSS is the point.

use std::sync::Arc;
use std::time::Instant;

use colloquy::moderation::matcher::{MatchInput, RuleSet, check_budget};
use colloquy::moderation::store::RuleRow;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let legacy = std::env::args().nth(1).as_deref() == Some("legacy");
    let patterns: Vec<String> = (1..=200)
        .map(|i| format!("a[ab]{{450}}c{{1,{i}}}"))
        .collect();
    let fit = (1..=200)
        .take_while(|&n| check_budget(patterns[..n].iter().map(|p| ("regex", p.as_str()))).is_ok())
        .last()
        .unwrap_or(0);
    println!("the site budget accepts {fit} of the 200 rules");
    let n = if legacy { 200 } else { fit };
    let rows: Vec<RuleRow> = patterns[..n]
        .iter()
        .enumerate()
        .map(|(i, p)| RuleRow {
            id: uuid::Uuid::from_u128(i as u128 + 1),
            kind: "regex".into(),
            pattern: p.clone(),
            action: "hold".into(),
        })
        .collect();
    let before = rss_kib();
    let set = Arc::new(RuleSet::new(rows));
    println!(
        "{n} rules compiled ({}): RSS {} -> {} KiB",
        if legacy { "one by one" } else { "as one set" },
        before,
        rss_kib()
    );
    let mut x: u64 = 12345;
    let body: String = (0..9990)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x & 1 == 0 { 'a' } else { 'b' }
        })
        .collect();
    // 22 posts, spread over 9 threads like the blocking pool's.
    let started = Instant::now();
    let threads: Vec<_> = (0..9)
        .map(|t| {
            let set = set.clone();
            let body = body.clone();
            std::thread::spawn(move || {
                let mut times = vec![];
                for _ in (0..22).filter(|i| i % 9 == t) {
                    let s = Instant::now();
                    let hits = set.apply(&MatchInput::text(format!("Ann\n\n{body}")), 10);
                    assert!(hits.is_empty());
                    times.push(s.elapsed().as_secs_f64());
                }
                times
            })
        })
        .collect();
    let times: Vec<f64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "22 posts on 9 threads: {:.1} s wall, {mean:.2} s per post; RSS now {} KiB",
        started.elapsed().as_secs_f64(),
        rss_kib()
    );
}
