//! gitleaks' regexes are Go RE2 regexes; Rust's `regex` reads the same
//! syntax with three differences that change what matches, which this
//! module translates away before compiling:
//! - Perl classes are ASCII in RE2 (`\d` is `[0-9]`, `\w` is `[0-9A-Za-z_]`,
//!   `\s` is `[\t\n\f\r ]`, `\b` an ASCII word boundary), Unicode in Rust;
//! - a `{` that does not start a repetition (`{{`, `${VAR}`) is a literal in
//!   RE2 and an error in Rust;
//! - Rust's default compiled-size limit rejects large rules RE2 accepts
//!   (gitleaks' own `generic-api-key`), so that limit is raised; the lazy
//!   DFA's cache per rule is held to 1 MiB (gitleaks' 222 rules at the
//!   default 2 MiB take a third more memory for a third more speed).

use regex::{Regex, RegexBuilder};

/// RE2's Perl classes, ASCII, as class items (without brackets).
fn perl_class(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        'w' => ("0-9A-Za-z_", false),
        'W' => ("0-9A-Za-z_", true),
        's' => (r"\t\n\x0C\r ", false),
        'S' => (r"\t\n\x0C\r ", true),
        _ => return None,
    })
}

/// Whether `rest` (what follows a `{`) is a repetition RE2 reads:
/// `{n}`, `{n,}` or `{n,m}`.
fn is_repetition(rest: &str) -> bool {
    let Some(end) = rest.find('}') else {
        return false;
    };
    let body = &rest[..end];
    let (min, max) = match body.split_once(',') {
        Some((min, max)) => (min, Some(max)),
        None => (body, None),
    };
    !min.is_empty()
        && min.bytes().all(|b| b.is_ascii_digit())
        && max.is_none_or(|m| m.bytes().all(|b| b.is_ascii_digit()))
}

/// Rewrites an RE2 pattern into Rust regex syntax with RE2's meaning.
pub fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.char_indices().peekable();
    // Inside `[...]`: Perl classes become ranges (or nested negated classes).
    let mut in_class = false;
    // Just after `[` or `[^`: a `]` there is a literal.
    let mut class_start = false;
    while let Some((i, c)) = chars.next() {
        let at_class_start = std::mem::take(&mut class_start);
        match c {
            '\\' => {
                let Some((_, next)) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match (perl_class(next), in_class) {
                    (Some((items, false)), false) => {
                        out.push('[');
                        out.push_str(items);
                        out.push(']');
                    }
                    (Some((items, true)), false) => {
                        out.push_str("[^");
                        out.push_str(items);
                        out.push(']');
                    }
                    (Some((items, false)), true) => out.push_str(items),
                    (Some((items, true)), true) => {
                        out.push_str("[^");
                        out.push_str(items);
                        out.push(']');
                    }
                    (None, false) if next == 'b' || next == 'B' => {
                        out.push_str("(?-u:\\");
                        out.push(next);
                        out.push(')');
                    }
                    (None, _) => {
                        out.push('\\');
                        out.push(next);
                        // `\p{Greek}`, `\x{263a}`: the braces belong to the escape.
                        if matches!(next, 'p' | 'P' | 'x')
                            && chars.peek().is_some_and(|(_, n)| *n == '{')
                        {
                            for (_, e) in chars.by_ref() {
                                out.push(e);
                                if e == '}' {
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                class_start = true;
                out.push('[');
                if chars.peek().is_some_and(|(_, n)| *n == '^') {
                    chars.next();
                    out.push('^');
                }
            }
            '[' if in_class && chars.peek().is_some_and(|(_, n)| *n == ':') => {
                // A POSIX class `[:alpha:]` inside a bracket: copied whole.
                out.push('[');
                for (_, p) in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            '[' => out.push_str("\\["),
            ']' if in_class && !at_class_start => {
                in_class = false;
                out.push(']');
            }
            ']' if in_class => out.push_str("\\]"),
            '{' if !in_class && !is_repetition(&pattern[i + 1..]) => out.push_str("\\{"),
            '}' if !in_class => {
                // A `}` closing a repetition was copied with it below; any
                // other is a literal.
                out.push_str("\\}");
            }
            '{' if !in_class => {
                out.push('{');
                for (_, r) in chars.by_ref() {
                    out.push(r);
                    if r == '}' {
                        break;
                    }
                }
            }
            // Rust reads `&&`, `--` and `~~` in a class as set operations;
            // RE2 reads them as characters.
            '&' | '-' | '~' if in_class && chars.peek().is_some_and(|(_, n)| *n == c) => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Compiles an RE2 pattern as RE2 reads it, with room for large rules;
/// what RE2 (and so gitleaks) refuses is refused too (`re2_limits`).
pub fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern);
    re2_limits(&translated)?;
    RegexBuilder::new(&translated)
        .size_limit(256 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| e.to_string())
}

/// Go's regexp/syntax limits: a repeat count over 1000, an expression
/// whose program would pass 128 MiB (nested repetitions multiply: `{1,1000}`
/// inside `{1,1000}`), nesting deeper than 1000, and flags other than `i`,
/// `m`, `s` and `U` (`(?x)` would make `\s` and spaces mean something else).
fn re2_limits(translated: &str) -> Result<(), String> {
    use regex_syntax::ast::{self, Ast};
    // Go's maxSize: 128 MiB of 40-byte instructions.
    const MAX_SIZE: u64 = (128 << 20) / 40;
    fn flags_ok(items: &[ast::FlagsItem]) -> Result<(), String> {
        for item in items {
            match item.kind {
                ast::FlagsItemKind::Negation
                | ast::FlagsItemKind::Flag(
                    ast::Flag::CaseInsensitive
                    | ast::Flag::MultiLine
                    | ast::Flag::DotMatchesNewLine
                    | ast::Flag::SwapGreed,
                ) => {}
                ast::FlagsItemKind::Flag(f) => {
                    return Err(format!(
                        "invalid or unsupported Perl syntax: flag {f:?} (RE2 knows i, m, s and U)"
                    ))
                }
            }
        }
        Ok(())
    }
    fn size(node: &Ast, depth: usize) -> Result<u64, String> {
        if depth > 1000 {
            return Err("expression nests too deeply".into());
        }
        Ok(match node {
            Ast::Flags(f) => {
                flags_ok(&f.flags.items)?;
                1
            }
            Ast::Repetition(r) => {
                let sub = size(&r.ast, depth + 1)?;
                match &r.op.kind {
                    ast::RepetitionKind::ZeroOrOne | ast::RepetitionKind::OneOrMore => sub + 1,
                    ast::RepetitionKind::ZeroOrMore => sub + 2,
                    ast::RepetitionKind::Range(range) => {
                        let (min, max) = match range {
                            ast::RepetitionRange::Exactly(n) => (*n, *n),
                            ast::RepetitionRange::AtLeast(n) => (*n, *n),
                            ast::RepetitionRange::Bounded(m, n) => (*m, *n),
                        };
                        if min > 1000 || max > 1000 {
                            return Err(format!("invalid repeat count: {{{min},{max}}} (RE2 allows at most 1000)"));
                        }
                        u64::from(max.max(1)).saturating_mul(sub)
                    }
                }
            }
            Ast::Group(g) => {
                // translate()'s own ASCII word boundaries, `(?-u:\b)`.
                let ours = matches!(g.ast.as_ref(), Ast::Assertion(_))
                    && g.flags().is_some_and(|f| {
                        matches!(
                            f.items.as_slice(),
                            [ast::FlagsItem { kind: ast::FlagsItemKind::Negation, .. }, ast::FlagsItem { kind: ast::FlagsItemKind::Flag(ast::Flag::Unicode), .. }]
                        )
                    });
                if let (Some(flags), false) = (g.flags(), ours) {
                    flags_ok(&flags.items)?;
                }
                size(&g.ast, depth + 1)? + 2
            }
            Ast::Alternation(a) => a
                .asts
                .iter()
                .map(|x| size(x, depth + 1))
                .sum::<Result<u64, String>>()?
                .saturating_add(a.asts.len() as u64),
            Ast::Concat(c) => c
                .asts
                .iter()
                .map(|x| size(x, depth + 1))
                .sum::<Result<u64, String>>()?,
            _ => 1,
        })
        .and_then(|n| {
            if n > MAX_SIZE {
                Err("expression too large (RE2 and gitleaks refuse it: nested repetitions multiply)".into())
            } else {
                Ok(n)
            }
        })
    }
    let tree = ast::parse::Parser::new()
        .parse(translated)
        .map_err(|e| e.kind().to_string())?;
    size(&tree, 0).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, text: &str) -> bool {
        compile(pattern)
            .unwrap_or_else(|e| panic!("{pattern}: {e}"))
            .is_match(text)
    }

    /// What Go's regexp/syntax (gitleaks' regex engine) refuses is refused:
    /// a nested repetition whose program would pass 128 MiB (744 bytes of
    /// TOML took 1.5 GB to compile before), a count over 1000, the `x` and
    /// `u` flags; what RE2 takes still compiles.
    #[test]
    fn what_re2_refuses_is_refused() {
        for (pattern, says) in [
            ("(?:(?:a{1,1000}){1,1000}){1,1000}", "expression too large"),
            ("((a{1,1000}b){1,1000}){4}", "expression too large"),
            ("a{1001}", "invalid repeat count"),
            ("a{2,1001}", "invalid repeat count"),
            ("(?x)key = [a-z]+", "flag"),
            ("(?x:a b)", "flag"),
            ("(?u)a", "flag"),
        ] {
            let err = compile(pattern).expect_err(pattern);
            assert!(err.contains(says), "{pattern}: {err}");
        }
        for ok in [
            "a{1000}",
            "(?i)(?:[a-z0-9]{1,40}){1,20}",
            "(?is:a.b)(?U)c+",
            r"\bkey\b(?P<v>[a-z]{32})",
            "(?-i:A)",
        ] {
            assert!(compile(ok).is_ok(), "{ok}: {:?}", compile(ok).err());
        }
    }

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        assert!(!matches(r"^\w+$", "pässword"));
        assert!(matches(r"^\w+$", "password_1"));
        assert!(!matches(r"^\d$", "٣")); // Arabic-Indic three: a digit to Unicode only
        assert!(!matches(r"^\s$", "\u{a0}")); // no-break space
        assert!(!matches(r"^\s$", "\u{b}")); // RE2's \s has no vertical tab
        assert!(matches(r"^[\w.-]+$", "a.b-c_d"));
        assert!(!matches(r"^[\w.-]+$", "é"));
        assert!(matches(r"^[^\s]+$", "token"));
        assert!(matches(r"^\W$", "é"));
        assert!(matches(r"^[\W]$", "é"));
        assert!(matches(r"^\S+$", "a\u{a0}b"));
    }

    #[test]
    fn word_boundaries_are_ascii_as_in_re2() {
        // After `é` RE2 sees a boundary (é is no ASCII word character).
        assert!(matches(r"\bkey", "ékey"));
        assert!(!matches(r"\bkey", "akey"));
        assert!(matches(r"a\B", "ab"));
    }

    #[test]
    fn braces_that_repeat_nothing_are_literals() {
        assert!(matches(r"^\$?{{[^}]+}}$", "{{ secret }}"));
        assert!(matches(r"^\$?{{[^}]+}}$", "${{ secrets.TOKEN }}"));
        assert!(matches(r"^\${[A-Z_]+}$", "${HOME}"));
        assert!(matches(r"^\{\d{0,2}}$", "{12}"));
        assert!(matches(r"^a{2}$", "aa"));
        assert!(matches(r"^a{2,}$", "aaaa"));
        assert!(matches(r"^a{1,3}b$", "aab"));
        assert!(!matches(r"^a{2}$", "a{2}"));
    }

    #[test]
    fn set_operators_in_classes_are_characters() {
        assert!(matches(r"^[a&&b]+$", "a&&b"));
        assert!(matches(r"^[a--b]+$", "a-b"));
        assert!(matches(r"^[]a]+$", "]a"));
        assert!(matches(r"^[^]a]+$", "bc"));
        assert!(matches(r"^[[:alpha:]]+$", "abc"));
        assert!(matches(r"^[a[]+$", "a["));
        assert!(matches(r"^\p{Greek}\x{41}$", "αA"));
    }

    #[test]
    fn large_rules_compile() {
        // A rule the size of gitleaks' generic-api-key: many alternatives
        // with bounded repetitions, which Rust's default limit refuses once
        // classes are Unicode; ASCII classes and the raised limit take it.
        let alternatives: Vec<String> = (0..40).map(|i| format!("key{i}")).collect();
        let pattern = format!(
            r#"(?i)[\w.-]{{0,50}}?(?:{})(?:[ \t\w.-]{{0,20}})[\s'"]{{0,3}}(?:=|>|:{{1,3}}=|\|\||:|=>|\?=|,)[\x60'"\s=]{{0,5}}([\w.=-]{{10,150}}|[a-z0-9][a-z0-9+/]{{11,}}={{0,3}})(?:[\x60'"\s;]|\\[nr]|$)"#,
            alternatives.join("|")
        );
        assert!(matches(&pattern, "key7 = \"Zx8Yw7Vu6Ts5Rq4Po3Nm\""));
    }
}
