//! Connections to database and cache targets: one small lazily-connected
//! pool (PostgreSQL, MySQL) or one connection manager (Redis) per target,
//! shared by every check of that target. Building never contacts a server.

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};

use crate::config::DatabaseTargetSpec;
use crate::redact::mask_url_passwords;

const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
const DEFAULT_POOL_SIZE: u32 = 2;
const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);

/// Describes a sqlx error for users, without connection strings.
pub fn describe_sql_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_owned(),
        },
        sqlx::Error::PoolTimedOut => {
            "no connection within 5s (server down or pool exhausted)".into()
        }
        sqlx::Error::Io(e) => format!("connection failed: {}", refused_in_words(&e.to_string())),
        sqlx::Error::Tls(e) => format!("TLS failed: {e}"),
        sqlx::Error::Protocol(p) => format!("protocol error: {p}"),
        other => other.to_string(),
    }
}

/// Returns `pool` once it hands out a connection. When it cannot, one direct
/// connection attempt (`connect`) says why: refused, authentication, TLS ...
async fn checked_pool<DB, F, Fut>(
    pool: sqlx::Pool<DB>,
    display_url: &str,
    pool_size: u32,
    connect: F,
) -> Result<sqlx::Pool<DB>, String>
where
    DB: sqlx::Database,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<DB::Connection, sqlx::Error>>,
{
    let acquire = pool.acquire();
    tokio::pin!(acquire);
    // The pool retries a refused connection until its timeout, which a
    // check's own timeout may cut first; a direct attempt started alongside
    // says why within moments (refused, authentication, TLS ...).
    let probe = async {
        tokio::time::sleep(PROBE_AFTER).await;
        tokio::time::timeout(ACQUIRE_TIMEOUT, connect()).await
    };
    let acquired = tokio::select! {
        acquired = &mut acquire => acquired,
        probed = probe => match probed {
            Ok(Err(e)) => {
                return Err(format!(
                    "cannot connect to {display_url}: {}",
                    describe_sql_error(&e)
                ))
            }
            Ok(Ok(_)) | Err(_) => (&mut acquire).await,
        },
    };
    match acquired {
        Ok(_) => Ok(pool),
        Err(sqlx::Error::PoolTimedOut) => Err(format!(
            "no connection to {display_url} within {}s (pool of {pool_size} busy, or the server too slow to accept)",
            ACQUIRE_TIMEOUT.as_secs()
        )),
        Err(e) => Err(format!(
            "cannot connect to {display_url}: {}",
            describe_sql_error(&e)
        )),
    }
}

/// How long the pool may try before a direct attempt says why it cannot.
const PROBE_AFTER: Duration = Duration::from_millis(300);

/// A PostgreSQL target: connect options and its pool, made on first use.
pub struct PgTarget {
    pub display_url: String,
    pub host: String,
    pub port: u16,
    options: PgConnectOptions,
    pool_size: u32,
    pool: OnceLock<PgPool>,
}

impl PgTarget {
    pub fn build(spec: &DatabaseTargetSpec) -> Result<PgTarget, (String, String)> {
        let display_url = mask_url_passwords(&spec.url);
        no_tls_block(spec, "PostgreSQL")?;
        let mut options = PgConnectOptions::from_str(&spec.url).map_err(|e| {
            (
                "url".to_owned(),
                format!("invalid PostgreSQL URL {display_url:?}: {e}"),
            )
        })?;
        if let Some(p) = &spec.password {
            options = options.password(p.expose());
        }
        let timeout = spec
            .statement_timeout
            .map_or(DEFAULT_STATEMENT_TIMEOUT, |d| d.0);
        options = options.application_name("prodready-exporter").options([
            ("statement_timeout", format!("{}", timeout.as_millis())),
            ("default_transaction_read_only", "on".to_owned()),
        ]);
        Ok(PgTarget {
            display_url,
            host: options.get_host().to_owned(),
            port: options.get_port(),
            options,
            pool_size: spec.pool_size.unwrap_or(DEFAULT_POOL_SIZE).max(1),
            pool: OnceLock::new(),
        })
    }

    /// The shared pool, checked to hand out a connection (see `checked_pool`).
    pub async fn ready_pool(&self) -> Result<PgPool, String> {
        checked_pool(self.pool(), &self.display_url, self.pool_size, || {
            sqlx::PgConnection::connect_with(&self.options)
        })
        .await
    }

    /// The shared pool (at most `pool_size` connections, read-only sessions
    /// with a statement timeout). Must be called inside the runtime.
    pub fn pool(&self) -> PgPool {
        self.pool
            .get_or_init(|| {
                PgPoolOptions::new()
                    .max_connections(self.pool_size)
                    .min_connections(0)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .idle_timeout(Some(IDLE_TIMEOUT))
                    .connect_lazy_with(self.options.clone())
            })
            .clone()
    }
}

/// A MySQL/MariaDB target.
pub struct MySqlTarget {
    pub display_url: String,
    options: MySqlConnectOptions,
    pool_size: u32,
    statement_timeout: Duration,
    pool: OnceLock<MySqlPool>,
}

impl MySqlTarget {
    pub fn build(spec: &DatabaseTargetSpec) -> Result<MySqlTarget, (String, String)> {
        let display_url = mask_url_passwords(&spec.url);
        no_tls_block(spec, "MySQL")?;
        let mut options = MySqlConnectOptions::from_str(&spec.url).map_err(|e| {
            (
                "url".to_owned(),
                format!("invalid MySQL URL {display_url:?}: {e}"),
            )
        })?;
        if let Some(p) = &spec.password {
            options = options.password(p.expose());
        }
        Ok(MySqlTarget {
            display_url,
            options,
            pool_size: spec.pool_size.unwrap_or(DEFAULT_POOL_SIZE).max(1),
            statement_timeout: spec
                .statement_timeout
                .map_or(DEFAULT_STATEMENT_TIMEOUT, |d| d.0),
            pool: OnceLock::new(),
        })
    }

    /// The shared pool, checked to hand out a connection (see `checked_pool`).
    pub async fn ready_pool(&self) -> Result<MySqlPool, String> {
        checked_pool(self.pool(), &self.display_url, self.pool_size, || {
            sqlx::MySqlConnection::connect_with(&self.options)
        })
        .await
    }

    /// The shared pool; sessions are read-only with a statement time limit
    /// (`max_statement_time` on MariaDB, `max_execution_time` on MySQL).
    pub fn pool(&self) -> MySqlPool {
        let timeout = self.statement_timeout;
        self.pool
            .get_or_init(|| {
                MySqlPoolOptions::new()
                    .max_connections(self.pool_size)
                    .min_connections(0)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .idle_timeout(Some(IDLE_TIMEOUT))
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
                            let mariadb = format!(
                                "SET SESSION max_statement_time = {}",
                                timeout.as_secs_f64()
                            );
                            if conn.execute(sqlx::AssertSqlSafe(mariadb)).await.is_err() {
                                let mysql = format!(
                                    "SET SESSION max_execution_time = {}",
                                    timeout.as_millis()
                                );
                                let _ = conn.execute(sqlx::AssertSqlSafe(mysql)).await;
                            }
                            Ok(())
                        })
                    })
                    .connect_lazy_with(self.options.clone())
            })
            .clone()
    }
}

/// `tls:` is for Redis; the SQL servers take their TLS settings in the URL.
fn no_tls_block(spec: &DatabaseTargetSpec, server: &str) -> Result<(), (String, String)> {
    match spec.tls {
        Some(_) => Err((
            "tls".to_owned(),
            format!(
                "applies to rediss:// targets; {server} takes its TLS settings in the URL (sslmode/sslrootcert for PostgreSQL, ssl-mode/ssl-ca for MySQL)"
            ),
        )),
        None => Ok(()),
    }
}

/// A Redis target: a client and a connection manager made on first use.
pub struct RedisTarget {
    pub display_url: String,
    client: redis::Client,
    manager: tokio::sync::OnceCell<redis::aio::ConnectionManager>,
}

impl RedisTarget {
    pub fn build(spec: &DatabaseTargetSpec) -> Result<RedisTarget, (String, String)> {
        let display_url = mask_url_passwords(&spec.url);
        let url_error = |e: redis::RedisError| {
            (
                "url".to_owned(),
                format!(
                    "invalid Redis URL {display_url:?}: {}",
                    e.detail().unwrap_or("cannot parse")
                ),
            )
        };
        let mut info = redis::IntoConnectionInfo::into_connection_info(spec.url.as_str())
            .map_err(url_error)?;
        if let Some(p) = &spec.password {
            let settings = info.redis_settings().clone().set_password(p.expose());
            info = info.set_redis_settings(settings);
        }
        // rustls, for rediss:// with or without a `tls:` block.
        crate::targets::tls::install_crypto_provider();
        let client = match &spec.tls {
            None => redis::Client::open(info).map_err(url_error)?,
            Some(tls) => tls_client(info, tls, &display_url)?,
        };
        Ok(RedisTarget {
            display_url,
            client,
            manager: tokio::sync::OnceCell::new(),
        })
    }

    /// The shared connection manager (reconnects by itself once made).
    pub async fn connection(&self) -> Result<redis::aio::ConnectionManager, String> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)))
            .set_number_of_retries(1);
        self.manager
            .get_or_try_init(|| {
                redis::aio::ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
            .map_err(|e| {
                format!(
                    "cannot connect to {}: {}",
                    self.display_url,
                    describe_redis_error(&e)
                )
            })
    }
}

/// A `rediss://` client with the target's CA, client certificate or
/// verification choice. Errors name the field and file, never the content.
fn tls_client(
    info: redis::ConnectionInfo,
    tls: &crate::config::TlsSpec,
    display_url: &str,
) -> Result<redis::Client, (String, String)> {
    let redis::ConnectionAddr::TcpTls { host, port, .. } = info.addr().clone() else {
        return Err((
            "tls".to_owned(),
            format!("applies to rediss:// URLs, and {display_url} is not one: use rediss:// to connect over TLS"),
        ));
    };
    let info = info.set_addr(redis::ConnectionAddr::TcpTls {
        host,
        port,
        insecure: tls.insecure_skip_verify,
        tls_params: None,
    });
    let root_cert = crate::targets::http::ca_bundle(tls)?.map(|(pem, _)| pem);
    let client_tls = crate::targets::http::client_cert(tls)?.map(|c| redis::ClientTlsConfig {
        client_cert: c.chain_pem,
        client_key: c.key_pem,
    });
    let built = if root_cert.is_none() && client_tls.is_none() {
        redis::Client::open(info)
    } else {
        redis::Client::build_with_tls(
            info,
            redis::TlsCertificates {
                client_tls,
                root_cert,
            },
        )
    };
    built.map_err(|e| {
        (
            "tls".to_owned(),
            format!(
                "cannot set up TLS for {display_url}: {}",
                describe_redis_error(&e)
            ),
        )
    })
}

/// A Redis error without connection details.
pub fn describe_redis_error(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code}: {detail}"),
        _ if e.kind() == redis::ErrorKind::Parse => {
            "the server did not answer in the Redis protocol (is this a Redis port?)".to_owned()
        }
        _ => refused_in_words(&e.to_string()),
    }
}

/// The operating system's refusal in words.
pub(crate) fn refused_in_words(text: &str) -> String {
    text.replace(
        "Connection refused (os error 111)",
        "connection refused (nothing listens there)",
    )
}

// Connect options and clients hold the password: the targets' Debug shows
// only what messages show.
macro_rules! debug_as_display_url {
    ($($target:ty),*) => {$(
        impl std::fmt::Debug for $target {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($target))
                    .field("display_url", &self.display_url)
                    .finish_non_exhaustive()
            }
        }
    )*};
}
debug_as_display_url!(PgTarget, MySqlTarget, RedisTarget);
