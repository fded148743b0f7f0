//! Who may use the exporter's endpoints, per the web config: basic auth
//! against bcrypt hashes, the rate limit and the extra response headers,
//! applied to every endpoint. The web config is re-read when it or a file it
//! names changes (checked at most once a second), like the exporter toolkit;
//! a changed file that is invalid is refused and the running config stays.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use tracing::{error, info, warn};

use super::web_config::{self, WebConfig};
use crate::config::ConfigErrors;
use crate::files::version as file_version;

/// How often the files are looked at for changes.
const RECHECK: Duration = Duration::from_secs(1);
/// Most remembered basic-auth results (successes and failures).
const AUTH_CACHE: usize = 1024;
/// Most bcrypt comparisons at once: each costs tens of milliseconds of CPU.
const BCRYPT_SLOTS: usize = 2;

/// What identifies a file's version: modification time and length.
type Stamp = Vec<Option<(SystemTime, u64)>>;

fn stamp(files: &[PathBuf]) -> Stamp {
    files.iter().map(|f| file_version(f)).collect()
}

struct Watch {
    checked: Instant,
    stamp: Stamp,
}

/// The live web config and the state that outlives its reloads.
pub struct Access {
    path: Option<PathBuf>,
    current: RwLock<Arc<WebConfig>>,
    watch: Mutex<Watch>,
    /// Whether the listener speaks TLS; fixed at start, as in the toolkit.
    tls: bool,
    bucket: Mutex<Bucket>,
    verified: Mutex<HashMap<[u8; 32], bool>>,
    bcrypt_slots: tokio::sync::Semaphore,
    /// Per-instance random key for the auth cache, so the cache keys are not
    /// plain hashes of passwords.
    cache_key: ring::hmac::Key,
}

struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Access {
    /// No web config: plain HTTP, no authentication.
    pub fn open_access() -> Arc<Access> {
        Self::with(None, WebConfig::default())
    }

    /// Reads the web config at `path` (an error names the file and field).
    pub fn load(path: &Path) -> Result<Arc<Access>, ConfigErrors> {
        let config = web_config::load(path)?;
        Ok(Self::with(Some(path.to_owned()), config))
    }

    fn with(path: Option<PathBuf>, config: WebConfig) -> Arc<Access> {
        Arc::new(Access {
            path,
            tls: config.tls.is_some(),
            watch: Mutex::new(Watch {
                checked: Instant::now(),
                stamp: stamp(&config.files),
            }),
            current: RwLock::new(Arc::new(config)),
            bucket: Mutex::new(Bucket {
                tokens: f64::MAX,
                last: Instant::now(),
            }),
            verified: Mutex::new(HashMap::new()),
            bcrypt_slots: tokio::sync::Semaphore::new(BCRYPT_SLOTS),
            cache_key: crate::redact::random_hmac_key(),
        })
    }

    /// Whether connections are TLS.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The web config in force, re-read first if its files changed.
    pub fn current(&self) -> Arc<WebConfig> {
        if let Some(path) = &self.path {
            self.recheck(path);
        }
        self.loaded()
    }

    /// The web config in force, as last loaded.
    fn loaded(&self) -> Arc<WebConfig> {
        self.current
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    fn recheck(&self, path: &Path) {
        let Ok(mut watch) = self.watch.try_lock() else {
            return; // another request is looking right now
        };
        if watch.checked.elapsed() < RECHECK {
            return;
        }
        watch.checked = Instant::now();
        let now = stamp(&self.loaded().files);
        if now == watch.stamp {
            return;
        }
        watch.stamp = now;
        let emptied = std::fs::read_to_string(path).is_ok_and(|t| t.trim().is_empty());
        match web_config::load(path) {
            Ok(_) if emptied && !self.loaded().users.is_empty() => {
                // Stricter than the Go toolkit: an emptied file (a botched
                // deploy, a truncated write) must not open the endpoints.
                error!(
                    file = %path.display(),
                    "Web config change refused: the file is empty while basic authentication is on; the running web config stays."
                );
            }
            Ok(config) if config.tls.is_some() != self.tls => {
                error!(
                    file = %path.display(),
                    "Web config change refused: turning TLS on or off needs a restart; the running web config stays."
                );
            }
            Ok(config) => {
                watch.stamp = stamp(&config.files);
                info!(file = %path.display(), users = config.users.len(), tls = self.tls, "Web config reloaded.");
                if let Ok(mut current) = self.current.write() {
                    *current = Arc::new(config);
                }
            }
            Err(errors) => {
                for e in &errors.0 {
                    error!(error = %e, "Web config change refused; the running web config stays.");
                }
            }
        }
    }

    /// Takes one token from the rate-limit bucket.
    fn admit(&self, limit: Option<web_config::RateLimit>) -> bool {
        let Some(limit) = limit else {
            return true;
        };
        let Ok(mut bucket) = self.bucket.lock() else {
            return true;
        };
        let now = Instant::now();
        let refill = now.duration_since(bucket.last).as_secs_f64() / limit.interval.as_secs_f64();
        bucket.tokens = (bucket.tokens + refill).min(f64::from(limit.burst));
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether `user`/`password` match the configured bcrypt hash.
    async fn authenticate(&self, config: &WebConfig, user: &str, password: &str) -> bool {
        let hash = config.users.get(user).map(|h| h.expose().to_owned());
        let mut ctx = ring::hmac::Context::with_key(&self.cache_key);
        for part in [user, password, hash.as_deref().unwrap_or("")] {
            ctx.update(part.as_bytes());
            ctx.update(&[0]);
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&ctx.sign().as_ref()[..32]);
        if let Some(known) = self.verified.lock().ok().and_then(|m| m.get(&key).copied()) {
            return known;
        }
        let Ok(_slot) = self.bcrypt_slots.acquire().await else {
            return false;
        };
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => bcrypt::verify(password, &hash).unwrap_or(false),
            // An unknown user costs as much as a known one, so response times
            // do not tell which user names exist.
            None => {
                let _ = bcrypt::verify(password, dummy_hash());
                false
            }
        })
        .await
        .unwrap_or(false);
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= AUTH_CACHE {
                cache.clear();
            }
            cache.insert(key, ok);
        }
        ok
    }
}

fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| bcrypt::hash("prodready-exporter", 10).unwrap_or_default())
}

/// `user`, `password` from an `Authorization: Basic` header.
fn basic_credentials(req: &Request) -> Option<(String, String)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The middleware in front of every endpoint.
pub async fn guard(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    let config = access.current();
    let mut response = if !access.admit(config.rate_limit) {
        (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests\n").into_response()
    } else if config.users.is_empty() {
        next.run(req).await
    } else {
        let allowed = match basic_credentials(&req) {
            Some((user, password)) => {
                let ok = access.authenticate(&config, &user, &password).await;
                if !ok {
                    warn!(path = %req.uri().path(), "Basic authentication failed.");
                }
                ok
            }
            None => false,
        };
        if allowed {
            next.run(req).await
        } else {
            let mut r = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"prodready-exporter\""),
            );
            r
        }
    };
    for (name, value) in &config.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}
