//! Target secrets: `*_file` fields read into their values, and every secret
//! registered with the redactor so that none reaches any output.

use std::path::Path;

use super::errors::Problems;
use super::schema::{Secret, TargetSpec};
use crate::redact::Redactor;

/// Reads `*_file` secrets into their fields and registers every secret with
/// the redactor, so that none can leak through later output.
pub(crate) fn resolve_target_secrets(
    spec: &mut TargetSpec,
    place: &str,
    problems: &mut Problems,
    redactor: &mut Redactor,
) {
    match spec {
        TargetSpec::Http(h)
        | TargetSpec::Prometheus(h)
        | TargetSpec::Alertmanager(h)
        | TargetSpec::Loki(h) => {
            redactor.add_url_password(&h.url);
            if let Some(proxy) = &h.proxy_url {
                redactor.add_url_password(proxy);
            }
            if let Some(auth) = &mut h.basic_auth {
                read_secret_file(
                    &mut auth.password,
                    auth.password_file.as_deref(),
                    place,
                    "basic_auth.password_file",
                    problems,
                );
                if let Some(p) = &auth.password {
                    redactor.add(p.expose());
                }
            }
            read_secret_file(
                &mut h.bearer_token,
                h.bearer_token_file.as_deref(),
                place,
                "bearer_token_file",
                problems,
            );
            if let Some(t) = &h.bearer_token {
                redactor.add(t.expose());
            }
            for (name, value) in &h.headers {
                if is_sensitive_header(name) {
                    redactor.add(value);
                    if let Some((_, credential)) = value.split_once(' ') {
                        redactor.add(credential);
                    }
                }
            }
        }
        TargetSpec::Postgres(d) | TargetSpec::Mysql(d) | TargetSpec::Redis(d) => {
            redactor.add_url_password(&d.url);
            read_secret_file(
                &mut d.password,
                d.password_file.as_deref(),
                place,
                "password_file",
                problems,
            );
            if let Some(p) = &d.password {
                redactor.add(p.expose());
            }
        }
        TargetSpec::Path(_) => {}
    }
}

/// Header names whose values are credentials.
pub fn is_sensitive_header(name: &str) -> bool {
    crate::redact::is_credential_name(name)
}

fn read_secret_file(
    slot: &mut Option<Secret>,
    file: Option<&Path>,
    place: &str,
    field: &str,
    problems: &mut Problems,
) {
    let Some(file) = file else { return };
    if slot.is_some() {
        let inline = field.trim_end_matches("_file");
        problems.push(
            place,
            field,
            format!("set either {inline} or {field}, not both"),
        );
        return;
    }
    match std::fs::read_to_string(file) {
        Ok(text) => *slot = Some(Secret::new(text.trim_end_matches(['\r', '\n']).to_owned())),
        Err(e) => problems.push(
            place,
            field,
            format!("cannot read secret file {}: {e}", file.display()),
        ),
    }
}
