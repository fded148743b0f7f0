//! A labelled corpus for measuring the secret scanner, generated from a
//! seed: positive files (one secret each, every token type of `tokens` in
//! the syntaxes real code uses) and negative files (placeholders,
//! documentation examples, public keys, hashes, UUIDs, identifiers, test
//! fixtures). Used by the recall test (secrets_measure) and the gitleaks comparison; knows nothing of
//! the rules it measures.

mod negatives;
pub mod tokens;

use tokens::{Shape, TokenType, TOKENS};

/// A small, seeded generator (SplitMix64): the same seed, the same corpus.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[self.below(list.len())]
    }
}

fn alphabet(set: char) -> &'static str {
    match set {
        'A' => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        'l' => "abcdefghijklmnopqrstuvwxyz0123456789",
        'U' => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        'h' => "0123456789abcdef",
        'H' => "0123456789ABCDEF",
        'd' => "0123456789",
        'B' => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        'u' => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
        '3' => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        'L' => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        'x' => "abcdefghijklmnopqrstuvwxyz",
        'G' => "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
        _ => "x",
    }
}

/// Standard base64 of `bytes`, padded.
pub fn base64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Whether `{spec}` is a run (`A 36`, `h4`, `d 2-5`, `uuid`, `PW`, `jwt64`).
fn is_spec(spec: &str) -> bool {
    if matches!(spec, "uuid" | "PW" | "jwt64" | "pem64") {
        return true;
    }
    let mut chars = spec.chars();
    let set_ok = chars.next().is_some_and(|c| alphabet(c) != "x" || c == 'x');
    let len = chars.as_str().trim();
    let number = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    set_ok
        && match len.split_once('-') {
            Some((a, b)) => number(a) && number(b),
            None => number(len),
        }
}

/// Expands a template (see `tokens`) with random runs.
pub fn expand(template: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let spec = &rest[open + 1..open + close];
        if !is_spec(spec) {
            // A literal brace (JSON, CSS, code).
            out.push('{');
            rest = &rest[open + 1..];
            continue;
        }
        rest = &rest[open + close + 1..];
        match spec {
            "uuid" => {
                let h = expand("{h 8}-{h 4}-4{h 3}-a{h 3}-{h 12}", rng);
                out.push_str(&h);
            }
            "PW" => out.push_str(&expand(tokens::PASSWORD, rng)),
            // A PEM private key, base64-encoded whole (Helm values, env).
            "pem64" => {
                let pem = expand(
                    "-----BEGIN RSA PRIVATE KEY-----\nMIIEow{B 58}\n{B 64}\n{B 64}\n{B 64}\n{B 20}\n-----END RSA PRIVATE KEY-----\n",
                    rng,
                );
                out.push_str(&base64(pem.as_bytes()));
            }
            "jwt64" => {
                let jwt = expand("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ{u 60}.{u 43}", rng);
                out.push_str(&base64(jwt.as_bytes()));
            }
            _ => {
                let mut chars = spec.chars();
                let set = alphabet(chars.next().unwrap_or('x'));
                let len = chars.as_str().trim();
                let n = match len.split_once('-') {
                    Some((a, b)) => {
                        let (a, b): (usize, usize) =
                            (a.parse().unwrap_or(8), b.parse().unwrap_or(8));
                        a + rng.below(b.saturating_sub(a) + 1)
                    }
                    None => len.parse().unwrap_or(8),
                };
                for _ in 0..n {
                    out.push(char::from(set.as_bytes()[rng.below(set.len())]));
                }
            }
        }
    }
    out.push_str(rest);
    out
}

/// One file of the corpus.
#[derive(Debug, Clone)]
pub struct Sample {
    pub path: String,
    pub text: String,
    /// `Some(token type)` for a positive file (exactly one secret in it).
    pub secret: Option<&'static TokenType>,
    /// The family of a negative file (what kind of look-alike it holds).
    pub decoy: Option<&'static str>,
}

/// Key names that say nothing of a secret: a token placed under one must be
/// recognised by its own form.
const NEUTRAL_KEYS: &[&str] = &[
    "value", "X", "conn", "setting", "item", "data", "VALUE_1", "cfg",
];

/// `snake_or_UPPER` to `camelCase`.
fn camel(key: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in key.chars() {
        if c == '_' || c == '-' || c == '.' {
            upper = !out.is_empty();
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A key and its value in one of the syntaxes real files use: the file
/// name and text.
pub fn in_syntax(rng: &mut Rng, key: &str, value: &str) -> (String, String) {
    let k = camel(key);
    let upper = key.to_uppercase().replace(['-', '.'], "_");
    let json_value = value.replace('\\', "\\\\").replace('"', "\\\"");
    let (name, text) = match rng.below(34) {
        0 => (".env", format!("APP_ENV=production\n{upper}={value}\n")),
        1 => ("config/app.env", format!("# service settings\n{upper}=\"{value}\"\nLOG_LEVEL=info\n")),
        2 => ("deploy/run.sh", format!("#!/bin/sh\nset -eu\nexport {upper}='{value}'\nexec ./server\n")),
        3 => ("config/settings.yaml", format!("app:\n  name: shop\n  {key}: {value}\n  replicas: 3\n")),
        4 => ("config/values.yml", format!("service:\n  port: 8080\n  {k}: \"{value}\"\n")),
        5 => ("config/settings.json", format!("{{\n  \"name\": \"shop\",\n  \"{key}\": \"{json_value}\",\n  \"port\": 8080\n}}\n")),
        6 => ("conf/app.ini", format!("[server]\nport = 8080\n\n[auth]\n{key} = {value}\n")),
        7 => ("Config.toml", format!("[service]\nname = \"shop\"\n{key} = \"{json_value}\"\n")),
        8 => ("src/main/resources/application.properties", format!("server.port=8080\napp.{key}={value}\n")),
        9 => ("app/settings.py", format!("import os\n\nDEBUG = False\n{upper} = \"{value}\"\n")),
        10 => ("src/config.js", format!("'use strict';\nconst {k} = '{value}';\nmodule.exports = {{ {k} }};\n")),
        11 => ("src/env.ts", format!("export const env = {{\n  region: \"eu-west-1\",\n  {k}: \"{json_value}\",\n}};\n")),
        12 => ("cmd/server/main.go", format!("package main\n\nvar {k} string = \"{json_value}\"\n")),
        13 => ("internal/conf/conf.go", format!("package conf\n\nconst {k} = `{value}`\n")),
        14 => ("Makefile", format!("IMAGE ?= shop\n{upper} ?= {value}\n\nbuild:\n\tdocker build .\n")),
        15 => ("build.mk", format!("{upper} ::= {value}\n")),
        16 => ("src/Config.php", format!("<?php\n$config = [];\n${k} = '';\n${k} .= '{value}';\n")),
        17 => ("src/main/java/App.java", format!("class App {{\n  static {{\n    System.setProperty(\"{upper}\", \"{json_value}\");\n  }}\n}}\n")),
        18 => ("conf/app.xml", format!("<config>\n  <{k}>{value}</{k}>\n</config>\n")),
        19 => ("web.config", format!("<configuration>\n  <appSettings>\n    <add key=\"{upper}\" value=\"{value}\" />\n  </appSettings>\n</configuration>\n")),
        20 => ("conf/server.xml", format!("<server>\n  <{k}>\n    {value}\n  </{k}>\n</server>\n")),
        21 => ("Dockerfile", format!("FROM alpine:3.20\nENV {upper}={value}\nCMD [\"/app\"]\n")),
        22 => ("docker-compose.yml", format!("services:\n  app:\n    image: shop\n    environment:\n      - {upper}={value}\n")),
        23 => ("infra/main.tf", format!("resource \"shop_config\" \"main\" {{\n  {key} = \"{json_value}\"\n}}\n")),
        24 => ("src/Settings.cs", format!("class Settings {{\n  public static string {k} = \"{json_value}\";\n}}\n")),
        25 => ("config/initializers/app.rb", format!("ENV['{upper}'] ||= '{value}'\n")),
        26 => ("src/config.rs", format!("pub const {upper}: &str = \"{json_value}\";\n")),
        27 => ("app/src/main/kotlin/Config.kt", format!("object Config {{\n    val {k} = \"{json_value}\"\n}}\n")),
        28 => ("scripts/start.sh", format!("#!/bin/sh\n./server --{} {value}\n", key.to_lowercase().replace('_', "-"))),
        // A second assignment on a line, and a value before a literal `\n`.
        30 => ("deploy/env.sh", format!("#!/bin/sh\nenv APP_ENV=production {upper}={value} ./server\n")),
        31 => ("deploy/entrypoint.sh", format!("#!/bin/sh\nprintf \"APP_ENV=production\\n{upper}={value}\\n\" > .env\n")),
        // JSON inside a string literal (a test fixture, a request body).
        32 => ("test/fixtures.js", format!("const body = \"{{\\\"name\\\": \\\"shop\\\", \\\"{key}\\\": \\\"{value}\\\"}}\";\n")),
        // `name value` config files (redis.conf, nginx, HAProxy, ssh).
        33 => ("conf/service.conf", format!("port 8080\n{key} {value}\nlog_level info\n")),
        _ => ("README.md", format!("## Setup\n\n```sh\n{upper}={value} make run\n```\n")),
    };
    (name.to_owned(), text)
}

/// The corpus of `seed`: at least `per_type` positives per token type and
/// the negatives.
pub fn generate(seed: u64, per_type: usize) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for (t, token) in TOKENS.iter().enumerate() {
        for i in 0..per_type {
            let (name, text) = match token.shape {
                Shape::Value { template, keys } => {
                    let value = expand(template, &mut rng);
                    let key = if keys.is_empty() {
                        rng.pick(NEUTRAL_KEYS)
                    } else {
                        rng.pick(keys)
                    };
                    in_syntax(&mut rng, key, &value)
                }
                Shape::File {
                    name,
                    template,
                    value,
                } => {
                    let secret = expand(value, &mut rng);
                    (
                        name.to_owned(),
                        expand(&template.replace("{secret}", &secret), &mut rng),
                    )
                }
            };
            out.push(Sample {
                path: format!("pos/{}/{t:03}-{i:02}/{name}", token.family),
                text,
                secret: Some(token),
                decoy: None,
            });
        }
    }
    for (i, (family, name, text)) in negatives::generate(&mut rng).into_iter().enumerate() {
        out.push(Sample {
            path: format!("neg/{family}/{i:04}/{name}"),
            text,
            secret: None,
            decoy: Some(family),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_to_their_alphabets_and_lengths() {
        let mut rng = Rng::new(7);
        let t = expand("ghp_{A 36}", &mut rng);
        assert_eq!(t.len(), 40);
        assert!(t[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        let h = expand("{h4}-{d 2}", &mut rng);
        assert!(h.len() == 7 && h.as_bytes()[4] == b'-');
        let v = expand("x{A 3-5}", &mut rng);
        assert!((4..=6).contains(&v.len()));
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        assert_eq!(base64(b"hi!"), "aGkh");
    }

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let a = generate(42, 2);
        let b = generate(42, 2);
        assert_eq!(a.len(), b.len());
        assert!(a
            .iter()
            .zip(&b)
            .all(|(x, y)| x.path == y.path && x.text == y.text));
        assert!(a.iter().filter(|s| s.secret.is_some()).count() >= 2 * 150);
    }
}
