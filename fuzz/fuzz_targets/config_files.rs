//! Any bytes as the exporter's config file, as a web config file, and as a
//! gitleaks config (loaded and its rules compiled under RE2's limits) and
//! `.gitleaksignore`: an error or a config, never a panic, and within the
//! run's `-rss_limit_mb`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prodready_exporter::config::Config;
use prodready_exporter::scan::secrets::{compile_rule_set, gitleaks};
use prodready_exporter::web::web_config;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let file = dir.path().join("config.yaml");
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let env = vec![("FUZZ_VALUE".to_owned(), "x".to_owned())];
    let _ = Config::load_with_env(&file, &env);
    let _ = web_config::load(&file);
    let toml = dir.path().join("gitleaks.toml");
    if std::fs::write(&toml, data).is_ok() {
        if let Ok(config) = gitleaks::load(&toml) {
            let _ = compile_rule_set(&[], &[], Some(config));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = gitleaks::parse_ignore(text);
    }
});
