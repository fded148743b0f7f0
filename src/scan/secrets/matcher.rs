//! Matching one file: every candidate rule runs over the whole text (a
//! pattern may span lines: a PEM block, a curl command continued with `\`,
//! an XML value on the next line), each match reported at the line where
//! it starts, with gitleaks' rules for the secret, entropy, allowlists,
//! inline `gitleaks:allow`, composite rules and generic duplicates.

use std::collections::BTreeSet;

use super::{fingerprint, Finding, Rule, Scanner, SecretGroup, Seen, INLINE_ALLOW};

/// Byte offsets of a text's line starts, to turn offsets into lines.
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Lines<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// 0-based line of a byte offset.
    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// 1-based column (in bytes) of a byte offset.
    fn column_of(&self, offset: usize) -> usize {
        offset - self.starts[self.line_of(offset)] + 1
    }

    /// The whole lines `start..end` touches, without the final newline.
    fn full_lines(&self, start: usize, end: usize) -> &'t str {
        let first = self.starts[self.line_of(start)];
        let last_end = self
            .text
            .get(end..)
            .and_then(|rest| rest.find('\n'))
            .map_or(self.text.len(), |i| end + i);
        self.text
            .get(first..last_end.max(first))
            .unwrap_or_default()
    }
}

/// One match of a rule: the match (without surrounding newlines) and the
/// secret, as byte ranges of the text.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hit {
    pub matched: (usize, usize),
    pub secret: (usize, usize),
}

impl Rule {
    /// Every match in `text` whose secret passes the rule's own filters
    /// (secret group, entropy, a digit for generic rules, ignored values).
    pub(super) fn hits_in(&self, text: &str) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.hits_within(text, 0, &mut hits);
        hits
    }

    /// The hits in `text[offset..]`'s first line-bounded window, by
    /// offsets into `text`.
    fn hits_within(&self, window: &str, offset: usize, hits: &mut Vec<Hit>) {
        let Some(regex) = &self.regex else {
            return;
        };
        for m in regex.find_iter(window) {
            // gitleaks trims newlines off a match and takes the secret from
            // the regex run again on what is left.
            let raw = m.as_str();
            let lead = raw.len() - raw.trim_start_matches('\n').len();
            let matched = raw.trim_matches('\n');
            let start = offset + m.start() + lead;
            let secret = if regex.captures_len() > 1 {
                let caps = regex.captures(matched);
                match self.secret_group {
                    SecretGroup::FirstNonEmpty => caps
                        .and_then(|c| c.iter().skip(1).flatten().find(|g| !g.is_empty()))
                        .map_or((0, matched.len()), |g| (g.start(), g.end())),
                    SecretGroup::Index(0) => (0, matched.len()),
                    SecretGroup::Index(n) => match caps.and_then(|c| c.get(n)) {
                        Some(g) => (g.start(), g.end()),
                        None => continue,
                    },
                }
            } else {
                (0, matched.len())
            };
            let value = &matched[secret.0..secret.1];
            if value.is_empty()
                || self
                    .entropy
                    .is_some_and(|floor| super::shannon_entropy(value) <= floor)
                || (self.is_generic() && !value.bytes().any(|b| b.is_ascii_digit()))
                || self
                    .ignore_values
                    .as_ref()
                    .is_some_and(|re| re.is_match(value))
            {
                continue;
            }
            hits.push(Hit {
                matched: (start, start + matched.len()),
                secret: (start + secret.0, start + secret.1),
            });
        }
    }
}

/// The windows of `span` lines around each keyword position, merged where
/// they touch, as byte ranges from a line start to a line end (found with
/// memchr around each position: no line table of the whole text).
fn windows(text: &str, positions: &mut [usize], span: usize) -> Vec<(usize, usize)> {
    positions.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &p in positions.iter() {
        if span == 0 && out.last().is_some_and(|last| p <= last.1) {
            continue;
        }
        let mut start = 0;
        let mut at = p;
        for k in 0..=span {
            match text[..at].rfind('\n') {
                Some(i) if k == span => start = i + 1,
                Some(i) => at = i,
                None => break,
            }
        }
        let mut end = text.len();
        let mut from = p;
        for k in 0..=span {
            match text[from..].find('\n') {
                Some(j) if k == span => end = from + j,
                Some(j) => from += j + 1,
                None => break,
            }
        }
        match out.last_mut() {
            Some(last) if start <= last.1 + 1 => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

/// A match that survived its allowlists, before composite and generic rules.
struct Candidate {
    rule: usize,
    line: usize,
    column: usize,
    secret: (usize, usize),
}

impl Scanner {
    /// Findings of path-only rules: the file itself is the finding.
    pub fn scan_path(&self, relative: &str, out: &mut Vec<Finding>) {
        for &i in &self.path_rules {
            let rule = &self.rules[i];
            let seen = Seen {
                path: relative,
                line: "",
                matched: "",
                secret: "",
            };
            if rule.applies_to(relative) && !rule.skip_report && !self.allowed(rule, &seen) {
                out.push(Finding {
                    file: relative.to_owned(),
                    line: 0,
                    rule: rule.id.clone(),
                    fingerprint: fingerprint(
                        self.fingerprint_key.as_ref(),
                        relative,
                        &rule.id,
                        0,
                        relative,
                    ),
                });
            }
        }
    }

    /// Scans one file's text; returns how many matches were not reported
    /// because their lines carry gitleaks' inline `gitleaks:allow` marker.
    pub fn scan_text(&self, relative: &str, text: &str, out: &mut Vec<Finding>) -> u64 {
        self.scan_secrets(relative, text, &mut |rule, line, secret| {
            out.push(Finding {
                file: relative.to_owned(),
                line,
                rule: rule.to_owned(),
                fingerprint: fingerprint(
                    self.fingerprint_key.as_ref(),
                    relative,
                    rule,
                    line,
                    secret,
                ),
            });
        })
    }

    /// Scans one file's text, handing each finding's rule id, 1-based line
    /// and secret to `emit` (which must not keep the secret); returns the
    /// count of matches `gitleaks:allow` silenced.
    pub(crate) fn scan_secrets(
        &self,
        relative: &str,
        text: &str,
        emit: &mut dyn FnMut(&str, usize, &str),
    ) -> u64 {
        let mut wanted: BTreeSet<usize> = self.always.iter().copied().collect();
        // Which keywords are in the text, and where those of windowed rules
        // are: those rules run around them.
        let mut seen = vec![false; self.keyword_rules.len()];
        let mut seen_at: Vec<(usize, usize)> = Vec::new();
        for m in self.prefilter.find_overlapping_iter(text) {
            let pattern = m.pattern().as_usize();
            seen[pattern] = true;
            if self.pattern_windowed[pattern] {
                seen_at.push((pattern, m.start()));
            }
        }
        for (pattern, rules) in self.keyword_rules.iter().enumerate() {
            if seen[pattern] {
                wanted.extend(rules.iter().copied());
            }
        }
        // A composite rule's required rules run with it, keywords or not.
        let required: Vec<usize> = wanted
            .iter()
            .flat_map(|&i| &self.rules[i].required)
            .filter_map(|r| self.rules.iter().position(|x| x.id == r.id))
            .collect();
        wanted.extend(required);
        wanted.retain(|&i| self.rules[i].regex.is_some() && self.rules[i].applies_to(relative));
        if wanted.is_empty() {
            return 0;
        }
        // Line starts, made when the first hit needs them.
        let mut lines: Option<Lines> = None;
        let mut inline_allowed = 0;
        let mut candidates: Vec<Candidate> = Vec::new();
        for &i in &wanted {
            let rule = &self.rules[i];
            let hits = match self.spans[i] {
                Some(span) => {
                    let mut positions: Vec<usize> = seen_at
                        .iter()
                        .filter(|(p, _)| self.rule_patterns[i].contains(p))
                        .map(|&(_, at)| at)
                        .collect();
                    let mut hits = Vec::new();
                    for (start, end) in windows(text, &mut positions, span) {
                        rule.hits_within(&text[start..end], start, &mut hits);
                    }
                    hits
                }
                None => rule.hits_in(text),
            };
            for hit in hits {
                let lines = lines.get_or_insert_with(|| Lines::new(text));
                let line = lines.full_lines(hit.matched.0, hit.matched.1);
                if line.contains(INLINE_ALLOW) {
                    inline_allowed += u64::from(!rule.skip_report);
                    continue;
                }
                if self.allow_lines.iter().any(|re| re.is_match(line)) {
                    continue;
                }
                let seen = Seen {
                    path: relative,
                    line,
                    matched: &text[hit.matched.0..hit.matched.1],
                    secret: &text[hit.secret.0..hit.secret.1],
                };
                if self.allowed(rule, &seen) {
                    continue;
                }
                candidates.push(Candidate {
                    rule: i,
                    line: lines.line_of(hit.matched.0),
                    column: lines.column_of(hit.matched.0),
                    secret: hit.secret,
                });
            }
        }
        let secret = |c: &Candidate| &text[c.secret.0..c.secret.1];
        for c in &candidates {
            let rule = &self.rules[c.rule];
            if rule.skip_report {
                continue;
            }
            // Composite: each required rule matched, close enough.
            let complete = rule.required.iter().all(|r| {
                candidates.iter().any(|o| {
                    self.rules[o.rule].id == r.id
                        && r.within_lines.is_none_or(|n| o.line.abs_diff(c.line) <= n)
                        && r.within_columns
                            .is_none_or(|n| o.column.abs_diff(c.column) <= n)
                })
            });
            if !complete {
                continue;
            }
            // A generic finding yields to a specific one on its line that
            // holds its secret (gitleaks' filter).
            if rule.is_generic()
                && candidates.iter().any(|o| {
                    let other = &self.rules[o.rule];
                    o.line == c.line
                        && other.id != rule.id
                        && !other.is_generic()
                        && secret(o).contains(secret(c))
                })
            {
                continue;
            }
            emit(&rule.id, c.line + 1, secret(c));
        }
        inline_allowed
    }
}

#[cfg(test)]
mod tests {
    use super::{windows, Lines};

    #[test]
    fn windows_run_from_a_line_start_to_a_line_end_and_merge() {
        let text = "l0\nl1 key\nl2\nl3\nl4 key\nl5";
        let at = |needle: &str, nth: usize| text.match_indices(needle).nth(nth).unwrap().0;
        let (first, second) = (at("key", 0), at("key", 1));
        // Its own line only; both keys, one window each.
        assert_eq!(
            windows(text, &mut [second, first], 0)
                .iter()
                .map(|&(s, e)| &text[s..e])
                .collect::<Vec<_>>(),
            ["l1 key", "l4 key"]
        );
        // A line either side: the windows touch and merge, to the text's end.
        assert_eq!(
            windows(text, &mut [first, second], 1)
                .iter()
                .map(|&(s, e)| &text[s..e])
                .collect::<Vec<_>>(),
            ["l0\nl1 key\nl2\nl3\nl4 key\nl5"]
        );
        // At the text's start and end.
        assert_eq!(windows("key", &mut [0], 2), [(0, 3)]);
    }

    #[test]
    fn offsets_map_to_lines_columns_and_whole_lines() {
        let lines = Lines::new("ab\ncd\n\nef");
        assert_eq!(lines.line_of(0), 0);
        assert_eq!(lines.line_of(3), 1);
        assert_eq!(lines.line_of(6), 2);
        assert_eq!(lines.line_of(8), 3);
        assert_eq!(lines.column_of(4), 2);
        assert_eq!(lines.full_lines(4, 5), "cd");
        assert_eq!(lines.full_lines(1, 4), "ab\ncd");
        assert_eq!(lines.full_lines(7, 9), "ef");
    }
}
