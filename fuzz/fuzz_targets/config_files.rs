//! Any bytes as the exporter's config file and as a web config file: a
//! config error or a config, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prodready_exporter::config::Config;
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
});
