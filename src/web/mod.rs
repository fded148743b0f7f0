//! The HTTP server: status page, /metrics, the JSON API, /probe and the
//! lifecycle endpoints. Handlers only read the store (except /probe, which
//! evaluates one *configured* check by name, and /-/reload).

mod access;
pub mod listen;
mod metrics_cache;
mod negotiate;
pub mod openapi;
pub mod runbooks;
mod status_page;
pub mod web_config;
mod web_tls;

pub use access::Access;

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::engine::{Engine, ProbeRefusal};
use crate::exposition::{render_probe, Format};
use crate::report::{CheckView, Summary};
use metrics_cache::MetricsCache;

/// How the exporter's own endpoints behave.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// Where the metrics are served (`--web.telemetry-path`, `/metrics`).
    pub telemetry_path: String,
    /// Every endpoint is served under this path (`--web.route-prefix`):
    /// `""` for none, else `/prefix` (no trailing slash).
    pub route_prefix: String,
    /// `POST /-/reload` is allowed (Prometheus' `--web.enable-lifecycle`);
    /// otherwise it answers 403 and only SIGHUP reloads.
    pub enable_lifecycle: bool,
    /// Most `/probe` evaluations at once; more answer 429.
    pub max_probes: usize,
    /// Most open connections; a new one beyond is closed at once.
    pub max_connections: usize,
    /// A client must send its request headers within this time.
    pub header_read_timeout: std::time::Duration,
}

impl Default for WebOptions {
    fn default() -> Self {
        WebOptions {
            telemetry_path: "/metrics".into(),
            route_prefix: String::new(),
            enable_lifecycle: false,
            max_probes: 4,
            max_connections: 1024,
            header_read_timeout: std::time::Duration::from_secs(10),
        }
    }
}

/// The exporter's endpoints besides the metrics path, under the route prefix.
const ENDPOINTS: [&str; 8] = [
    "/",
    "/api/v1/checks",
    "/api/v1/openapi.json",
    "/runbooks",
    "/probe",
    "/-/healthy",
    "/-/ready",
    "/-/reload",
];

/// A metrics path: absolute, not one of the exporter's other endpoints.
pub fn parse_telemetry_path(text: &str) -> Result<String, String> {
    // `{`, `}` and `*` would make it a pattern of the router's, not a path.
    if !text.starts_with('/') || text.len() < 2 || text.contains(['?', '#', ' ', '{', '}', '*']) {
        return Err("must be an absolute path such as /metrics".into());
    }
    let path = text.trim_end_matches('/');
    if ENDPOINTS.contains(&path) || path.is_empty() {
        return Err(format!("{text} is another endpoint of the exporter"));
    }
    Ok(text.to_owned())
}

/// Builds the router over a running engine; `access` (the web config) guards
/// every endpoint.
pub fn router(engine: Arc<Engine>, options: WebOptions, access: Arc<Access>) -> Router {
    let cache = Arc::new(MetricsCache::default());
    let probes = Arc::new(tokio::sync::Semaphore::new(options.max_probes.max(1)));
    let telemetry = options.telemetry_path.clone();
    // Every path under the route prefix (`/prefix/` for the page, whose
    // links are relative; `/prefix` redirects there).
    let prefix = options.route_prefix.clone();
    let at = |path: &str| format!("{prefix}{path}");
    let mut app = Router::new()
        .route(
            &at("/"),
            get(move |State(engine): State<Arc<Engine>>| {
                let telemetry = telemetry.clone();
                async move { Html(status_page::render(&engine, &telemetry)) }
            }),
        )
        .route(
            &at(&options.telemetry_path),
            get(move |state: State<Arc<Engine>>, headers: HeaderMap| {
                metrics(state, headers, cache.clone())
            }),
        )
        .route(&at("/api/v1/checks"), get(api_checks))
        .route(&at("/api/v1/openapi.json"), {
            let document = Arc::new(openapi::document(&prefix));
            get(move || async move { Json(document.as_ref().clone()) })
        })
        .route(&at("/runbooks"), get(|| async { Html(runbooks::render()) }))
        .route(
            &at("/probe"),
            get(move |state, headers, query| probe(state, headers, query, probes.clone())),
        )
        .route(&at("/-/healthy"), get(healthy))
        .route(&at("/-/ready"), get(ready))
        .route(
            &at("/-/reload"),
            post(move |state| reload(state, options.enable_lifecycle)),
        );
    if !prefix.is_empty() {
        let page = at("/");
        app = app.route(
            &prefix,
            get(move || async move { axum::response::Redirect::permanent(&page) }),
        );
    }
    let app = app.with_state(engine);
    app.layer(axum::middleware::from_fn_with_state(access, access::guard))
}

/// `--web.external-url`: an absolute http(s) URL.
pub fn parse_external_url(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(
            "must be an http or https URL with a host, such as https://ops.example.com/prodready/"
                .into(),
        );
    }
    Ok(url)
}

/// A route prefix as `--web.route-prefix` takes it (`/prodready`,
/// `prodready/`): empty for `/`, else `/prefix` without a trailing slash.
pub fn parse_route_prefix(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_matches('/');
    if trimmed.contains(['?', '#', ' ']) {
        return Err("must be a path such as /prodready".into());
    }
    Ok(if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    })
}

/// An error in Prometheus' HTTP API envelope:
/// `{"status": "error", "errorType": ..., "error": ...}`.
fn api_error(status: StatusCode, error_type: &str, error: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "status": "error", "errorType": error_type, "error": error })),
    )
        .into_response()
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn format_of(headers: &HeaderMap) -> Format {
    negotiate::format(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()))
}

async fn metrics(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    cache: Arc<MetricsCache>,
) -> Response {
    let format = format_of(&headers);
    let gzipped = negotiate::accepts_gzip(
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok()),
    );
    let page = cache.page(&engine, format, gzipped).await;
    // A streamed page has no size of its own: say it, so that no chunked
    // transfer encoding is needed.
    let length = page.len().to_string();
    let mut response = (
        [
            (header::CONTENT_TYPE, format.content_type()),
            (header::VARY, "Accept-Encoding"),
            (header::CONTENT_LENGTH, length.as_str()),
        ],
        page.into_body(),
    )
        .into_response();
    if gzipped {
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            axum::http::HeaderValue::from_static("gzip"),
        );
    }
    response
}

#[derive(Debug, Deserialize)]
struct ChecksQuery {
    /// Only this check.
    check: Option<String>,
}

async fn api_checks(
    State(engine): State<Arc<Engine>>,
    query: Result<Query<ChecksQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "bad_data", &e.body_text()),
    };
    let mut records = engine.store.snapshot();
    if let Some(name) = &q.check {
        records.retain(|r| r.meta.name() == name);
        if records.is_empty() {
            // As /probe does, and in Prometheus' API error envelope.
            return api_error(
                StatusCode::NOT_FOUND,
                "not_found",
                "no configured check by that name; see /api/v1/checks",
            );
        }
    }
    let checks: Vec<CheckView> = records.iter().map(CheckView::from_record).collect();
    Json(serde_json::json!({
        "status": "success",
        "data": {
            "checks": checks,
            "summary": Summary::of(&records),
            "ready": engine.store.first_round_done(),
            "config_reload_successful": engine.reload_status.successful(),
        }
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct ProbeQuery {
    check: Option<String>,
    #[serde(default)]
    debug: bool,
}

async fn probe(
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    query: Result<Query<ProbeQuery>, axum::extract::rejection::QueryRejection>,
    probes: Arc<tokio::sync::Semaphore>,
) -> Response {
    // Probes run checks on demand (active probes, scans): bounded, so a
    // flood of requests cannot multiply the load on targets.
    let Ok(_permit) = probes.try_acquire() else {
        return text(
            StatusCode::TOO_MANY_REQUESTS,
            "too many probes in flight; retry later\n",
        );
    };
    let Ok(Query(query)) = query else {
        return text(
            StatusCode::BAD_REQUEST,
            "bad query; use /probe?check=NAME[&debug=true]\n",
        );
    };
    let Some(name) = query.check.filter(|c| !c.is_empty()) else {
        return text(
            StatusCode::BAD_REQUEST,
            "missing parameter check; use /probe?check=NAME[&debug=true]\n",
        );
    };
    let (meta, evaluation) = match engine.probe(&name, scrape_deadline(&headers)).await {
        Ok(done) => done,
        Err(ProbeRefusal::NoSuchCheck) => {
            return text(
                StatusCode::NOT_FOUND,
                "no configured check by that name; see /api/v1/checks\n",
            )
        }
        Err(ProbeRefusal::GateOnly) => return text(
            StatusCode::FORBIDDEN,
            "the check is gate_only: it runs in `check` (the deployment gate), never on demand\n",
        ),
        Err(ProbeRefusal::SideEffects(what)) => {
            return text(
                StatusCode::FORBIDDEN,
                format!("{what}: /probe runs it only when the check sets `probe: true`\n"),
            )
        }
    };
    if query.debug {
        let mut out = format!(
            "Check {} (kind {}, target {:?})\nState: {}\nMessage: {}\nDuration: {:.3}s\n\nTrace:\n",
            meta.name(),
            meta.kind(),
            meta.target(),
            evaluation.outcome.state,
            evaluation.outcome.message,
            evaluation.duration.as_secs_f64()
        );
        for line in &evaluation.trace {
            out.push_str(&format!("  {line}\n"));
        }
        out.push_str("\nEvidence:\n");
        for (k, v) in &evaluation.outcome.evidence {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        out.push_str("\nMetrics:\n");
        out.push_str(&render_probe(&meta, &evaluation, Format::Prometheus));
        return text(StatusCode::OK, out);
    }
    let format = format_of(&headers);
    (
        [(header::CONTENT_TYPE, format.content_type())],
        render_probe(&meta, &evaluation, format),
    )
        .into_response()
}

/// How long a `/probe` may take: Prometheus' scrape timeout (its
/// `X-Prometheus-Scrape-Timeout-Seconds` header) less half a second for the
/// answer to travel, as blackbox_exporter does. No header: the check's own
/// timeout.
fn scrape_deadline(headers: &HeaderMap) -> Option<std::time::Duration> {
    const OFFSET: f64 = 0.5;
    let seconds: f64 = headers
        .get("x-prometheus-scrape-timeout-seconds")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0)?;
    let usable = if seconds > 2.0 * OFFSET {
        seconds - OFFSET
    } else {
        seconds
    };
    Some(std::time::Duration::from_secs_f64(usable.min(86_400.0)))
}

async fn healthy() -> Response {
    text(StatusCode::OK, "Healthy.\n")
}

async fn ready(State(engine): State<Arc<Engine>>) -> Response {
    if engine.store.first_round_done() {
        text(StatusCode::OK, "Ready.\n")
    } else {
        text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not ready: the first round of checks is still running.\n",
        )
    }
}

async fn reload(State(engine): State<Arc<Engine>>, enabled: bool) -> Response {
    if !enabled {
        return text(
            StatusCode::FORBIDDEN,
            "Lifecycle APIs are not enabled: start with --web.enable-lifecycle, or send SIGHUP.\n",
        );
    }
    match engine.reload().await {
        Ok(count) => text(StatusCode::OK, format!("Reloaded: {count} checks.\n")),
        Err(errors) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Reload rejected; the running config stays:\n{errors}\n"),
        ),
    }
}
