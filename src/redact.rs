//! Keeps secrets out of everything the exporter says. Config loading registers
//! every secret it reads (passwords, tokens, `*_file` contents, URL passwords);
//! every outcome, error and log line built from outside input passes through
//! `Redactor::redact` before anyone sees it. URLs are shown with passwords masked.

use std::sync::OnceLock;

use regex::Regex;

/// What a removed secret is replaced with.
pub const MASK: &str = "<redacted>";

/// Secrets shorter than this are not searched for in free text (a one-letter
/// password would mangle every message); URL masking still hides them.
const MIN_SECRET_LEN: usize = 4;

#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

/// Shows how many secrets are known, never which.
impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value to be removed from all output.
    pub fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() >= MIN_SECRET_LEN && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_owned());
            // Longest first, so a secret containing another is removed whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Registers the credentials inside a URL: the userinfo password, an
    /// HTTP(S) username that stands alone (`https://TOKEN@host`) and
    /// credential-like query values (`?password=`, `sslpassword=`, `token=`).
    pub fn add_url_password(&mut self, url: &str) {
        for secret in url_secrets(url) {
            self.add(&secret);
        }
    }

    /// Removes every known secret and masks passwords in any URL.
    pub fn redact(&self, text: &str) -> String {
        let mut out = mask_url_passwords(text);
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// Applies `redact` to every key and value of a JSON object.
    pub fn redact_map(&self, map: &mut serde_json::Map<String, serde_json::Value>) {
        for (key, mut v) in std::mem::take(map) {
            self.redact_json(&mut v);
            map.insert(self.redact(&key), v);
        }
    }

    /// Applies `redact` to every string inside a JSON value, object keys
    /// included (evidence maps are keyed by URL).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.redact(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            serde_json::Value::Object(map) => self.redact_map(map),
            _ => {}
        }
    }
}

/// Names that mark a credential, in a query parameter or a header: these
/// exact names, and any name holding one of [`CREDENTIAL_WORDS`]
/// (`access_token`, `X-Amz-Signature`, `client_secret`, `Authorization`,
/// `X-Api-Key` ...). One list for both, so that what is masked in a URL is
/// masked in a header.
pub const CREDENTIAL_NAMES: &[&str] =
    &["cookie", "set-cookie", "sig", "code", "pass", "pwd", "sas"];

/// Words that make any name holding them a credential name.
pub const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "token",
    "secret",
    "key",
    "auth",
    "credential",
    "session",
    "signature",
];

/// Whether a query parameter or header name names a credential.
pub fn is_credential_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_NAMES.contains(&name.as_str()) || CREDENTIAL_WORDS.iter().any(|w| name.contains(w))
}

fn userinfo_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // scheme://user:password@host where the password is anything ('/',
        // spaces, '#', '%', '@', non-ASCII) up to the first '@' that a host
        // follows (host characters, then the end, a port, a path, a quote
        // or a space): `p@ss word@db:5432` masks `p@ss word`.
        Regex::new(r"(?P<pre>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)(?P<pw>[^\r\n]*?)@(?P<host>[A-Za-z0-9.\-_%\[\]]+(?:[:/?#\s'\x22,;)]|$))")
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// `https://TOKEN@host`: on HTTP a bare username is a credential.
fn http_token_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)(?P<pre>https?://)(?P<tok>[^/\s:@]+)@")
            .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// Query parameters whose name is a credential name (see
/// [`is_credential_name`]): `?password=`, `&sslpassword=`, `?key=`,
/// `?auth=`, `?X-Amz-Signature=` ...
fn query_secret_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        let exact: Vec<String> = CREDENTIAL_NAMES.iter().map(|n| regex::escape(n)).collect();
        let words: Vec<String> = CREDENTIAL_WORDS.iter().map(|w| regex::escape(w)).collect();
        Regex::new(&format!(
            r"(?i)(?P<pre>[?&;](?:{}|[a-z0-9_.-]*(?:{})[a-z0-9_.-]*)=)(?P<val>[^&;\s#'\x22]+)",
            exact.join("|"),
            words.join("|")
        ))
        .unwrap_or_else(|e| unreachable!("static regex: {e}"))
    })
}

/// Masks every credential a URL can carry anywhere in `text`:
/// `postgres://app:hunter2@db/app` -> `postgres://app:xxxxx@db/app`,
/// `https://TOKEN@host` -> `https://xxxxx@host`, `?password=pw` -> `?password=xxxxx`.
pub fn mask_url_passwords(text: &str) -> String {
    let out = userinfo_regex().replace_all(text, "${pre}xxxxx@${host}");
    let out = http_token_regex().replace_all(&out, "${pre}xxxxx@");
    query_secret_regex()
        .replace_all(&out, "${pre}xxxxx")
        .into_owned()
}

fn url_secrets(url: &str) -> Vec<String> {
    let mut out: Vec<String> = userinfo_regex()
        .captures_iter(url)
        .filter_map(|c| c.name("pw").map(|m| m.as_str().to_owned()))
        .collect();
    out.extend(
        http_token_regex()
            .captures_iter(url)
            .filter_map(|c| c.name("tok").map(|m| m.as_str().to_owned())),
    );
    out.extend(
        query_secret_regex()
            .captures_iter(url)
            .filter_map(|c| c.name("val").map(|m| m.as_str().to_owned())),
    );
    out.retain(|s| !s.is_empty() && s != "xxxxx");
    // A percent-encoded credential is also registered decoded: an error
    // message may show either form.
    let decoded: Vec<String> = out
        .iter()
        .filter(|s| s.contains('%'))
        .filter_map(|s| percent_encoding::percent_decode_str(s).decode_utf8().ok())
        .map(|d| d.into_owned())
        .collect();
    out.extend(decoded);
    out
}

/// The SQL dialect a statement's text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlDialect {
    Postgres,
    MySql,
}

/// A statement's text as checks show it: every literal (quoted, `E'…'`,
/// dollar-quoted `$$…$$` / `$tag$…$tag$`, `X'…'`, `N'…'`, `U&'…'`, and in
/// MySQL `"…"`) shown as `'?'`, every comment as `/*?*/`, whitespace
/// flattened, cut at 120 characters. Read by a real SQL tokenizer
/// (sqlparser's), not by hand: a form the tokenizer cannot read shows no
/// text at all.
pub fn mask_sql(sql: &str, dialect: SqlDialect) -> String {
    use sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
    let tokens = match dialect {
        SqlDialect::Postgres => {
            Tokenizer::new(&sqlparser::dialect::PostgreSqlDialect {}, sql).tokenize()
        }
        SqlDialect::MySql => Tokenizer::new(&sqlparser::dialect::MySqlDialect {}, sql).tokenize(),
    };
    let Ok(tokens) = tokens else {
        return "(statement text not shown: it does not read as SQL)".to_owned();
    };
    let mut out = String::with_capacity(sql.len().min(256));
    for token in tokens {
        match token {
            Token::Whitespace(
                Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_),
            ) => out.push_str(" /*?*/ "),
            Token::Whitespace(_) => out.push(' '),
            // An identifier in PostgreSQL, a string in MySQL.
            Token::DoubleQuotedString(_) if dialect == SqlDialect::MySql => out.push_str("'?'"),
            Token::SingleQuotedString(_)
            | Token::TripleSingleQuotedString(_)
            | Token::TripleDoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::TripleSingleQuotedByteStringLiteral(_)
            | Token::TripleDoubleQuotedByteStringLiteral(_)
            | Token::SingleQuotedRawStringLiteral(_)
            | Token::DoubleQuotedRawStringLiteral(_)
            | Token::TripleSingleQuotedRawStringLiteral(_)
            | Token::TripleDoubleQuotedRawStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::QuoteDelimitedStringLiteral(_)
            | Token::NationalQuoteDelimitedStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_) => out.push_str("'?'"),
            other => out.push_str(&other.to_string()),
        }
    }
    let flat: String = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut cut: String = flat.chars().take(120).collect();
    if cut.len() < flat.len() {
        cut.push('…');
    }
    cut
}

/// An HMAC-SHA256 key drawn at random for this process: what the exporter
/// keys with (secret fingerprints, its auth cache) is then unknown to anyone
/// who reads the results. Without system randomness, a key from the clock
/// and the process id is still unknown to them.
pub fn random_hmac_key() -> ring::hmac::Key {
    let rng = ring::rand::SystemRandom::new();
    ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &rng).unwrap_or_else(|_| {
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        ring::hmac::Key::new(ring::hmac::HMAC_SHA256, seed.as_bytes())
    })
}

#[cfg(test)]
mod sql_tests {
    use super::{mask_sql, SqlDialect};

    /// Every literal form PostgreSQL and MySQL write, and comments, are
    /// masked; keywords, identifiers and numbers stay.
    #[test]
    fn every_literal_form_is_masked() {
        let pg = |sql: &str| mask_sql(sql, SqlDialect::Postgres);
        for (sql, shown) in [
            (
                "ALTER USER app  PASSWORD 's3cret-pw'\n WHERE x = 'a''b'",
                "ALTER USER app PASSWORD '?' WHERE x = '?'",
            ),
            (
                "SELECT $$s3cret-dollar$$, $tag$s3cret $$ tagged$tag$",
                "SELECT '?', '?'",
            ),
            (
                r"SELECT E'it\'s s3cret-escaped', e'x\ny'",
                "SELECT '?', '?'",
            ),
            (
                "SELECT X'DEADBEEF', N'national s3cret', U&'d\\0061t s3cret'",
                "SELECT '?', '?', '?'",
            ),
            (
                "SELECT 1 -- s3cret-comment\n, /* s3cret /* nested */ */ \"Col\" FROM t",
                "SELECT 1 /*?*/ , /*?*/ \"Col\" FROM t",
            ),
        ] {
            assert_eq!(pg(sql), shown, "{sql}");
        }
        assert_eq!(
            mask_sql(
                r#"UPDATE u SET pw = "s3cret-mysql", k = 'it\'s s3cret'"#,
                SqlDialect::MySql
            ),
            "UPDATE u SET pw = '?', k = '?'"
        );
        // Unterminated: nothing of it is shown.
        assert!(!pg("SELECT 's3cret-open").contains("s3cret"));
        assert!(!pg("SELECT $q$s3cret-open").contains("s3cret"));
        assert!(pg(&"x ".repeat(200)).ends_with('…'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked_whatever_they_hold() {
        for pw in [
            "Secret Pass123",
            "a/b/c",
            "p#ss",
            "p@ss",
            "pä55wörd",
            "%2Fx%40y",
            "x:y",
        ] {
            let text =
                format!("cannot connect to postgres://monitor:{pw}@db.internal:5432/app: refused");
            let masked = mask_url_passwords(&text);
            assert!(!masked.contains(pw), "{pw}: {masked}");
            assert!(masked.contains("postgres://monitor:xxxxx@"), "{masked}");
        }
        let mut r = Redactor::new();
        r.add_url_password("postgres://u:p%40ss%2Fword@db/x");
        assert!(!r.redact("auth failed for p@ss/word").contains("p@ss/word"));
    }

    #[test]
    fn one_list_of_credential_names_for_queries_and_headers() {
        for name in [
            "key",
            "auth",
            "access_token",
            "X-Amz-Signature",
            "sig",
            "code",
            "api_key",
            "sslpassword",
        ] {
            assert!(is_credential_name(name), "{name}");
            let masked = mask_url_passwords(&format!("https://h/p?x=1&{name}=TOPSECRET1&y=2"));
            assert!(!masked.contains("TOPSECRET1"), "{name}: {masked}");
        }
        for header in ["Authorization", "X-Api-Key", "X-Auth-Token", "Cookie"] {
            assert!(is_credential_name(header), "{header}");
        }
        assert!(!is_credential_name("page") && !is_credential_name("q"));
    }

    #[test]
    fn json_keys_are_redacted_too() {
        let mut r = Redactor::new();
        r.add("TOPSECRET1");
        let mut v = serde_json::json!({"https://h/p?access_token=TOPSECRET1": {"status": 200}, "plain": "TOPSECRET1"});
        r.redact_json(&mut v);
        assert!(!v.to_string().contains("TOPSECRET1"), "{v}");
    }

    #[test]
    fn masks_url_passwords_anywhere_in_text() {
        let text = "cannot reach postgres://app:s3cr%40t@db:5432/app (refused); see http://h/x";
        assert_eq!(
            mask_url_passwords(text),
            "cannot reach postgres://app:xxxxx@db:5432/app (refused); see http://h/x"
        );
        assert_eq!(
            mask_url_passwords("redis://:pw123@cache"),
            "redis://:xxxxx@cache"
        );
        // On HTTP a bare username is a token; elsewhere it is only a name.
        assert_eq!(
            mask_url_passwords("https://ghp_Tok3n@api.example.com/x"),
            "https://xxxxx@api.example.com/x"
        );
        assert_eq!(
            mask_url_passwords("postgres://app@db/app"),
            "postgres://app@db/app"
        );
        assert_eq!(
            mask_url_passwords("postgres://db/app?sslmode=require&password=Pw-9913&user=app"),
            "postgres://db/app?sslmode=require&password=xxxxx&user=app"
        );
        assert_eq!(
            mask_url_passwords("mysql://h/db?sslpassword=K3y-77"),
            "mysql://h/db?sslpassword=xxxxx"
        );
    }

    #[test]
    fn removes_registered_secrets_longest_first() {
        let mut r = Redactor::new();
        r.add("abc");
        r.add("token-1234");
        r.add("token-1234-extended");
        r.add_url_password("postgres://u:Hunter2Pass@db/app");
        r.add_url_password("postgres://db/app?password=QueryPass-41");
        r.add_url_password("https://TokenOnly-77@api.example.com/");
        assert_eq!(
            r.redact("QueryPass-41 TokenOnly-77"),
            "<redacted> <redacted>"
        );
        let out = r.redact("got token-1234-extended and token-1234; pw=Hunter2Pass; abc stays");
        assert_eq!(
            out,
            "got <redacted> and <redacted>; pw=<redacted>; abc stays"
        );
    }

    #[test]
    fn redacts_inside_json() {
        let mut r = Redactor::new();
        r.add("sekret-value");
        let mut v =
            serde_json::json!({"a": ["x sekret-value y"], "b": {"c": "sekret-value"}, "n": 1});
        r.redact_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"a": ["x <redacted> y"], "b": {"c": "<redacted>"}, "n": 1})
        );
    }
}
