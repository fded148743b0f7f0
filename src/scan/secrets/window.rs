//! Which rules may run on the lines around their keywords instead of the
//! whole file. A rule qualifies when its regex, read with `regex-syntax`,
//! cannot match without one of its keywords (a keyword is a literal part
//! of every match) and spans at most `MAX_LINES` newlines, and it has no
//! start- or end-of-text anchor. Every match then lies within `n` lines of
//! a keyword occurrence the prefilter saw, so running the regex over those
//! lines (merged where they touch) finds exactly the matches a run over
//! the whole file finds: windows start and end at line boundaries, where
//! `\b`, `^` and `$` read the same, and no match starts between windows.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// A regex spanning more newlines than this runs over the whole file.
const MAX_LINES: usize = 8;

/// The newlines a match of `pattern` can span, when the rule can run on
/// windows of that many lines around its keywords; `None`: the whole file.
pub(super) fn span_lines(pattern: &str, keywords: &[String]) -> Option<usize> {
    if keywords.is_empty() {
        return None;
    }
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(pattern)
        .ok()?;
    if has_text_anchor(&hir) || !requires_keyword(&hir, keywords) {
        return None;
    }
    newlines(&hir).filter(|&n| n <= MAX_LINES)
}

fn has_text_anchor(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(look) => matches!(look, Look::Start | Look::End),
        HirKind::Repetition(r) => has_text_anchor(&r.sub),
        HirKind::Capture(c) => has_text_anchor(&c.sub),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => subs.iter().any(has_text_anchor),
        _ => false,
    }
}

/// The most newlines a match can hold; `None`: unbounded.
fn newlines(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => Some(0),
        HirKind::Literal(lit) => Some(lit.0.iter().filter(|&&b| b == b'\n').count()),
        HirKind::Class(class) => Some(usize::from(class_has_newline(class))),
        HirKind::Repetition(r) => match newlines(&r.sub)? {
            0 => Some(0),
            n => r.max.map(|max| n.saturating_mul(max as usize)),
        },
        HirKind::Capture(c) => newlines(&c.sub),
        HirKind::Concat(subs) => subs
            .iter()
            .try_fold(0usize, |acc, s| Some(acc.saturating_add(newlines(s)?))),
        HirKind::Alternation(subs) => subs
            .iter()
            .try_fold(0usize, |acc, s| Some(acc.max(newlines(s)?))),
    }
}

fn class_has_newline(class: &Class) -> bool {
    match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= '\n' && '\n' <= r.end()),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .any(|r| r.start() <= b'\n' && b'\n' <= r.end()),
    }
}

/// The one lowercase character a node stands for: a literal character, or
/// a class of one letter in both cases (`(?i)p` is `[Pp]`).
fn one_char(hir: &Hir) -> Option<String> {
    match hir.kind() {
        HirKind::Literal(lit) => Some(std::str::from_utf8(&lit.0).ok()?.to_lowercase()),
        HirKind::Class(Class::Unicode(c)) => {
            // `(?i)s` is [Ssſ] and `(?i)k` [KkK]: the ASCII letter in both
            // cases, and the non-ASCII variants the ASCII keyword
            // prefilter does not see either.
            let chars: Vec<char> = c
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .take(5)
                .collect();
            let ascii: Vec<char> = chars
                .iter()
                .filter(|c| c.is_ascii())
                .map(char::to_ascii_lowercase)
                .collect();
            (chars.len() <= 4 && !ascii.is_empty() && ascii.iter().all(|a| *a == ascii[0]))
                .then(|| ascii[0].to_string())
        }
        HirKind::Class(Class::Bytes(c)) => {
            let bytes: Vec<u8> = c
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .take(3)
                .collect();
            let lower: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
            (!lower.is_empty() && lower.len() <= 2 && lower.iter().all(|l| *l == lower[0]))
                .then(|| char::from(lower[0]).to_string())
        }
        _ => None,
    }
}

/// Whether every match holds one of `keywords` (lowercase), as a run of
/// literal characters the match must contain.
fn requires_keyword(hir: &Hir, keywords: &[String]) -> bool {
    let holds = |text: &str| keywords.iter().any(|k| text.contains(k.as_str()));
    match hir.kind() {
        HirKind::Literal(_) | HirKind::Class(_) => one_char(hir).is_some_and(|s| holds(&s)),
        HirKind::Capture(c) => requires_keyword(&c.sub, keywords),
        HirKind::Repetition(r) => r.min >= 1 && requires_keyword(&r.sub, keywords),
        HirKind::Alternation(subs) => subs.iter().all(|s| requires_keyword(s, keywords)),
        HirKind::Concat(subs) => {
            let mut run = String::new();
            for s in subs {
                match one_char(s) {
                    Some(c) => run.push_str(&c),
                    None => {
                        if holds(&run) {
                            return true;
                        }
                        run.clear();
                    }
                }
            }
            holds(&run) || subs.iter().any(|s| requires_keyword(s, keywords))
        }
        HirKind::Empty | HirKind::Look(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::span_lines;

    fn kw(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn rules_whose_matches_hold_a_keyword_run_on_windows() {
        // The keyword is a literal part of every match, on one line.
        assert_eq!(
            span_lines(r"sk_live_[0-9a-z]{24}", &kw(&["sk_live_"])),
            Some(0)
        );
        assert_eq!(
            span_lines(
                r"(?i)[\w.-]{0,50}?(?:password|secret)[ \t]*=[ \t]*(\S{8,})",
                &kw(&["password", "secret"])
            ),
            Some(0)
        );
        // A value allowed on the next line: one newline.
        assert_eq!(
            span_lines(
                r"(?i)<password>(?:\r?\n[ \t]*)?([^<\s]{8,})",
                &kw(&["password"])
            ),
            Some(1)
        );
        // Not every branch holds a keyword; a keyword the regex does not
        // need; unbounded newlines; a text anchor; no keywords: whole file.
        assert_eq!(
            span_lines(r"(?:password|[a-z]{40})=x", &kw(&["password"])),
            None
        );
        assert_eq!(span_lines(r"AKIA[0-9A-Z]{16}", &kw(&["aws"])), None);
        assert_eq!(
            span_lines(r"BEGIN KEY[\s\S]*END KEY", &kw(&["begin"])),
            None
        );
        assert_eq!(span_lines(r"\Atoken=\w+", &kw(&["token"])), None);
        assert_eq!(span_lines(r"token=\w+", &[]), None);
        // An optional keyword is no keyword.
        assert_eq!(span_lines(r"(?:token)?=\w{20}", &kw(&["token"])), None);
    }
}

#[cfg(test)]
mod builtin {
    /// The generic rules, the costliest to run whole (their keywords are in
    /// most source files), run on windows.
    #[test]
    fn the_generic_assignment_rules_run_on_windows() {
        let rules = super::super::compile_rules(&[], &[]).unwrap();
        let windowed: Vec<&str> = rules
            .iter()
            .filter(|r| {
                r.regex
                    .as_ref()
                    .and_then(|re| super::span_lines(re.as_str(), &r.keywords))
                    .is_some()
            })
            .map(|r| r.id.as_str())
            .collect();
        for id in [
            "generic-secret-assignment",
            "generic-unquoted-secret-assignment",
            "generic-spaced-secret",
            "database-url-password",
        ] {
            assert!(windowed.contains(&id), "{id} runs on the whole file");
        }
        assert!(windowed.len() >= 70, "{}", windowed.len());
    }
}
