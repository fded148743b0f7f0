//! The leak harness: generated secrets (with `/ # @ % : ? & = +`, spaces,
//! quotes and non-ASCII) in every credential slot of every target type and
//! every secret param, driven through `validate`, every `check` report
//! format, a daemon with unreachable targets (its metrics, API, page,
//! `/probe?debug=true` of every check, an invalid reload, its logs). No
//! output may hold a secret, raw or percent-encoded, base64, HTML- or
//! JSON-escaped. Secrets shorter than 8 characters are not looked for in
//! free text (any text holds a short string by chance); they still run.

use std::time::Duration;

use base64::Engine as _;

use crate::support::corpus::Rng;

use crate::support::{run_cli, stderr, stdout, ConfigDir, Exporter};

/// A secret of `len` characters, each from a hostile alphabet; it starts
/// with a letter so that it reads as a value in every slot.
fn secret(rng: &mut Rng, len: usize) -> String {
    let alphabet: Vec<char> =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789/#@%:?&=+ '\"éß€漢"
            .chars()
            .collect();
    let mut s = String::from("Q");
    while s.chars().count() < len {
        s.push(*rng.pick(&alphabet));
    }
    s
}

/// Every form a leaked secret could take in an output.
fn forms(secret: &str) -> Vec<String> {
    let percent = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    let html = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let json = serde_json::to_string(secret).unwrap();
    vec![
        secret.to_owned(),
        percent,
        base64::engine::general_purpose::STANDARD.encode(secret),
        html,
        json[1..json.len() - 1].to_owned(),
    ]
}

/// A YAML double-quoted scalar holding `text` exactly.
fn yaml(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// A config that puts the round's secrets in every credential slot. The
/// targets listen nowhere (port 1), so every check fails to connect.
fn config(s: &[String], raw_url: bool) -> String {
    let (a, b) = s.split_at(SLOTS);
    format!(
        "global: {{ interval: 1h, timeout: 1s }}\ntargets:\n{}{}checks:\n{}{}",
        group(a, raw_url, "a").0,
        group(b, raw_url, "b").0,
        group(a, raw_url, "a").1,
        group(b, raw_url, "b").1
    )
}

/// One group of targets and checks (names suffixed with `g`).
fn group(s: &[String], raw_url: bool, g: &str) -> (String, String) {
    let enc = |t: &str| {
        percent_encoding::utf8_percent_encode(t, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let targets = format!(
        r#"  web{g}:
    http:
      url: {web_url}
      headers: {{ X-Api-Key: {header} }}
  bearer{g}: {{ http: {{ url: "http://127.0.0.1:1/", bearer_token: {bearer} }} }}
  basic{g}: {{ http: {{ url: "http://127.0.0.1:1/", basic_auth: {{ username: probe, password: {basic} }} }} }}
  pg_url{g}: {{ postgres: {{ url: {pg_url} }} }}
  pg_field{g}: {{ postgres: {{ url: "postgres://monitor@127.0.0.1:1/app", password: {pg_field} }} }}
  my{g}: {{ mysql: {{ url: {my_url} }} }}
  cache{g}: {{ redis: {{ url: {redis_url} }} }}
  keyed{g}: {{ http: {{ url: {keyed_url} }} }}
"#,
        web_url = yaml(&format!(
            "http://{}:{}@127.0.0.1:1/",
            enc(&s[0]),
            enc(&s[1])
        )),
        header = yaml(&s[2]),
        bearer = yaml(&s[3]),
        basic = yaml(&s[4]),
        // Raw, as a user would paste it, the URL may not parse: a config
        // error then, naming the field, never the password.
        pg_url = yaml(&format!(
            "postgres://monitor:{}@127.0.0.1:1/app",
            if raw_url { s[5].clone() } else { enc(&s[5]) }
        )),
        pg_field = yaml(&s[6]),
        my_url = yaml(&format!("mysql://monitor:{}@127.0.0.1:1/app", enc(&s[7]))),
        redis_url = yaml(&format!("redis://:{}@127.0.0.1:1", enc(&s[8]))),
        // A credential query parameter the redactor registers by its name.
        keyed_url = yaml(&format!("http://127.0.0.1:1/?api_key={}", enc(&s[11]))),
    );
    let checks = format!(
        r#"  - {{ name: web_health_{g}, kind: http, target: web{g}, params: {{ url: {query_url} }} }}
  - {{ name: bearer_health_{g}, kind: http, target: bearer{g}, params: {{ url: / }} }}
  - {{ name: basic_health_{g}, kind: http, target: basic{g}, params: {{ url: / }} }}
  - {{ name: pg_url_conn_{g}, kind: postgres_connections, target: pg_url{g} }}
  - {{ name: pg_field_conn_{g}, kind: postgres_connections, target: pg_field{g} }}
  - {{ name: my_conn_{g}, kind: mysql_connections, target: my{g} }}
  - {{ name: cache_mem_{g}, kind: redis_memory, target: cache{g} }}
  - {{ name: keyed_health_{g}, kind: http, target: keyed{g} }}
  - {{ name: tool_{g}, kind: command, probe: true, params: {{ argv: ["sh", "-c", "echo token $API_TOKEN >&2; exit 3"], env: {{ API_TOKEN: {env} }} }} }}
"#,
        query_url = yaml(&format!("/health?access_token={}", enc(&s[9]))),
        env = yaml(&s[10]),
    );
    (targets, checks)
}

const SLOTS: usize = 12;

fn assert_clean(secrets: &[String], place: &str, text: &str) {
    for secret in secrets.iter().filter(|s| s.chars().count() >= 8) {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "{place} shows a secret ({form:?}):\n{text}"
            );
        }
    }
}

/// Rounds of secrets, every length class, through every output.
#[tokio::test(flavor = "multi_thread")]
async fn no_output_ever_holds_a_secret() {
    let mut rng = Rng::new(0x5EC2E7);
    let lengths = [8, 9, 12, 16, 24, 33, 48, 64, 96, 128];
    let rounds = 12;
    let mut cases = 0;
    for round in 0..rounds {
        let secrets: Vec<String> = (0..2 * SLOTS)
            .map(|i| secret(&mut rng, lengths[(round + i) % lengths.len()]))
            .collect();
        let raw = ConfigDir::new(&config(&secrets, true));
        let out = run_cli(
            &[
                "validate",
                &format!("--config.file={}", raw.config_path().display()),
            ],
            &[],
        );
        assert_clean(
            &secrets,
            "validate (raw URL)",
            &(stdout(&out) + &stderr(&out)),
        );
        let text = config(&secrets, false);
        let dir = ConfigDir::new(&text);
        let file = format!("--config.file={}", dir.config_path().display());
        let out = run_cli(&["validate", &file], &[]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert_clean(&secrets, "validate", &(stdout(&out) + &stderr(&out)));
        // One gate run writes every report format.
        let report = |f: &str| dir.path(&format!("report.{f}"));
        let outputs: Vec<String> = ["json", "junit", "sarif"]
            .iter()
            .map(|f| format!("{f}={}", report(f).display()))
            .collect();
        // At debug level: the steps of each check (URLs) are logged too.
        let mut args = vec![
            "--log.level=debug",
            "check",
            file.as_str(),
            "--format",
            "table",
        ];
        for o in &outputs {
            args.extend(["--output", o.as_str()]);
        }
        let out = run_cli(&args, &[]);
        assert!(stderr(&out).contains("Check step."), "{}", stderr(&out));
        assert_clean(&secrets, "check (table)", &(stdout(&out) + &stderr(&out)));
        for f in ["json", "junit", "sarif"] {
            let text = std::fs::read_to_string(report(f)).unwrap();
            assert!(text.len() > 100, "{f} report: {text}");
            assert_clean(&secrets, &format!("check --output {f}"), &text);
        }
        // A daemon every few rounds (each start costs a second).
        if round % 4 == 0 {
            let exporter =
                Exporter::start_with(&text, &[], &["--web.enable-lifecycle", "--log.level=debug"]);
            exporter.wait_ready(Duration::from_secs(20)).await;
            let mut pages = vec![
                "/metrics".to_owned(),
                "/".to_owned(),
                "/api/v1/checks".to_owned(),
            ];
            for check in [
                "web_health",
                "bearer_health",
                "basic_health",
                "pg_url_conn",
                "pg_field_conn",
                "my_conn",
                "cache_mem",
                "keyed_health",
                "tool",
            ] {
                for g in ["a", "b"] {
                    pages.push(format!("/probe?check={check}_{g}&debug=true"));
                }
            }
            for page in &pages {
                let (status, body) = exporter.get(page).await;
                assert_eq!(status, 200, "{page}: {body}");
                assert_clean(&secrets, page, &body);
            }
            // An invalid reload: its 500 answer and log lines.
            exporter
                .config
                .write_config(&text.replace("kind: redis_memory", "kind: no_such_kind"));
            let (status, body) = exporter.post("/-/reload").await;
            assert_eq!(status, 500, "{body}");
            assert_clean(&secrets, "reload answer", &body);
            let logs = exporter.logs();
            assert!(
                logs.contains("Check step."),
                "no debug steps logged: {logs}"
            );
            assert_clean(&secrets, "logs", &logs);
        }
        cases += 2 * SLOTS;
    }
    assert!(cases >= 250, "{cases} cases");
}
