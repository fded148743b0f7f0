//! The long-running exporter: binds the listener, starts the engine, serves
//! HTTP, handles signals in one place (SIGTERM/SIGINT drain and stop, SIGHUP
//! reloads) and drains in-flight work with a deadline. No flag parsing here.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, error, info, warn};

use crate::config::ConfigErrors;
use crate::engine::{load_plan, Engine, Shard};
use crate::web::web_config::{self, client_san_allowed};
use crate::web::Access;

/// How long in-flight HTTP requests may take to finish at shutdown.
const DRAIN_DEADLINE: Duration = Duration::from_secs(10);

/// Why the daemon could not start or stopped badly.
#[derive(Debug)]
pub enum ServeError {
    /// The config is invalid; nothing was started.
    Config(ConfigErrors),
    /// The listen address cannot be bound.
    Listen { address: String, reason: String },
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Config(errors) => write!(f, "{errors}"),
            ServeError::Listen { address, reason } => {
                write!(f, "cannot listen on {address}: {reason}")
            }
        }
    }
}

impl std::error::Error for ServeError {}

/// Where and how to listen, from the command line.
#[derive(Debug, Default)]
pub struct Listen {
    /// `--web.listen-address`, repeatable; empty means `web.listen_address`.
    pub addresses: Vec<String>,
    /// `--web.systemd-socket`: the sockets systemd passed, used instead of
    /// any address.
    pub systemd_sockets: Option<Vec<std::net::TcpListener>>,
    /// `--web.config.file`; `None` means `web.config_file` (if set).
    pub web_config: Option<std::path::PathBuf>,
}

type Listeners = (Vec<tokio::net::TcpListener>, Vec<String>);

/// Makes a listener of each source (an address to bind, or a socket systemd
/// passed), named for the log and errors; the first failure stops.
fn open_listeners<T>(
    sources: Vec<(String, T)>,
    open: impl Fn(T) -> Result<tokio::net::TcpListener, String>,
) -> Result<Listeners, ServeError> {
    let mut listeners = Vec::new();
    let mut names = Vec::new();
    for (name, source) in sources {
        let listener = open(source).map_err(|e| {
            error!(address = %name, error = %e, "Cannot listen.");
            ServeError::Listen {
                address: name.clone(),
                reason: e,
            }
        })?;
        listeners.push(listener);
        names.push(name);
    }
    Ok((listeners, names))
}

/// Runs the exporter until SIGTERM or SIGINT.
pub async fn serve(
    config_file: &Path,
    listen: Listen,
    web: crate::web::WebOptions,
    shard: Option<Shard>,
) -> Result<(), ServeError> {
    let plan = load_plan(config_file).map_err(|errors| {
        for e in &errors.0 {
            error!(error = %e, "Invalid config.");
        }
        ServeError::Config(errors)
    })?;
    let web_config = web_config::chosen_file(listen.web_config.as_deref(), &plan.config);
    let access = match &web_config {
        None => Access::open_access(),
        Some(path) => Access::load(path).map_err(|errors| {
            for e in &errors.0 {
                error!(error = %e, "Invalid web config.");
            }
            ServeError::Config(errors)
        })?,
    };
    let (listeners, addresses) = match listen.systemd_sockets {
        Some(sockets) => {
            if !listen.addresses.is_empty() {
                info!("--web.systemd-socket: listening on the sockets systemd passed, not on --web.listen-address.");
            }
            let named = sockets
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("systemd socket {i} (fd {})", 3 + i), s));
            open_listeners(named.collect(), crate::web::listen::adopt)?
        }
        None => {
            let addresses = if listen.addresses.is_empty() {
                vec![plan.config.web.listen_address.clone()]
            } else {
                listen.addresses
            };
            let named = addresses.into_iter().map(|a| (a.clone(), a));
            open_listeners(named.collect(), |a: String| crate::web::listen::listen(&a))?
        }
    };
    let engine = Engine::new(config_file, plan, shard);
    engine.set_web_config(listen.web_config.clone(), web_config.clone());
    engine.start();
    let watcher = tokio::spawn(engine.clone().watch_target_files());

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn(handle_signals(engine.clone(), shutdown_tx));
    let app = crate::web::router(engine.clone(), web.clone(), access.clone());
    let open = Arc::new(tokio::sync::Semaphore::new(web.max_connections.max(1)));
    let mut loops = tokio::task::JoinSet::new();
    for (listener, address) in listeners.into_iter().zip(&addresses) {
        let bound = listener
            .local_addr()
            .map_or(address.clone(), |a: SocketAddr| a.to_string());
        info!(
            address = %bound,
            tls = access.tls(),
            checks = engine.plan().checks.len(),
            shard = %shard.map_or("none".to_owned(), |s| format!("{}/{}", s.index, s.count)),
            config = %config_file.display(),
            version = crate::build_info::VERSION,
            "Listening."
        );
        loops.spawn(accept_loop(
            listener,
            Server {
                app: app.clone(),
                access: access.clone(),
                header_timeout: web.header_read_timeout,
                max_connections: web.max_connections,
                open: open.clone(),
            },
            shutdown_rx.clone(),
        ));
    }
    let mut connections = Vec::new();
    while let Some(done) = loops.join_next().await {
        if let Ok(set) = done {
            connections.push(set);
        }
    }
    info!("Shutting down: cancelling checks and draining HTTP connections.");
    watcher.abort();
    engine.stop();
    let drained = tokio::time::timeout(DRAIN_DEADLINE, async {
        for mut set in connections {
            while set.join_next().await.is_some() {}
        }
    })
    .await;
    if drained.is_err() {
        warn!("Connections still open after the drain deadline; closing them.");
    }
    signals.abort();
    info!("Stopped.");
    Ok(())
}

/// What every accepted connection is served with.
#[derive(Clone)]
struct Server {
    app: axum::Router,
    access: Arc<Access>,
    header_timeout: Duration,
    max_connections: usize,
    /// Open-connection permits, shared by all listeners.
    open: Arc<tokio::sync::Semaphore>,
}

/// Accepts connections until shutdown is signalled, each served on its own
/// task with a header-read timeout (a client trickling its headers is cut
/// off) and under a cap on open connections (beyond it a new connection is
/// closed at once). With TLS, the handshake must finish within the same
/// timeout and the client's certificate must carry an allowed SAN when the
/// web config lists some. Returns the connection tasks, which finish their
/// in-flight requests after shutdown.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    server: Server,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinSet<()> {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            stopped = shutdown.wait_for(|stop| *stop) => {
                drop(stopped);
                return connections;
            }
        };
        // Reap finished connection tasks so the set does not grow.
        while connections.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                warn!(error = %e, "Cannot accept a connection.");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = server.open.clone().try_acquire_owned() else {
            warn!(
                limit = server.max_connections,
                "Connection limit reached; closing a new connection."
            );
            drop(stream);
            continue;
        };
        let server = server.clone();
        let stop = shutdown.clone();
        connections.spawn(async move {
            let _permit = permit;
            let service = hyper_util::service::TowerToHyperService::new(server.app.clone());
            if !server.access.tls() {
                serve_connection(stream, service, server.header_timeout, stop).await;
                return;
            }
            let config = server.access.current();
            let Some(tls) = &config.tls else {
                return;
            };
            let handshake =
                tokio::time::timeout(server.header_timeout, tls.acceptor.accept(stream)).await;
            let stream = match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    debug!(peer = %peer, error = %e, "TLS handshake failed.");
                    return;
                }
                Err(_) => {
                    debug!(peer = %peer, "TLS handshake timed out.");
                    return;
                }
            };
            if !tls.allowed_sans.is_empty() {
                let allowed = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .and_then(|certs| certs.first())
                    .is_some_and(|cert| client_san_allowed(cert, &tls.allowed_sans));
                if !allowed {
                    warn!(peer = %peer, "Client certificate has no allowed SAN; closing the connection.");
                    return;
                }
            }
            serve_connection(stream, service, server.header_timeout, stop).await;
        });
    }
}

/// Serves HTTP/1.1 on one connection until it closes or shutdown asks it to
/// finish its in-flight request.
async fn serve_connection<I>(
    io: I,
    service: hyper_util::service::TowerToHyperService<axum::Router>,
    header_timeout: Duration,
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    tokio::pin!(conn);
    let stopping = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::select! {
        _ = conn.as_mut() => {}
        () = stopping => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// SIGTERM/SIGINT start a graceful shutdown; SIGHUP reloads the config.
async fn handle_signals(engine: Arc<Engine>, shutdown: tokio::sync::watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
    ) else {
        error!("Cannot install signal handlers.");
        return;
    };
    loop {
        tokio::select! {
            _ = term.recv() => { info!(signal = "SIGTERM", "Received signal."); break; }
            _ = int.recv() => { info!(signal = "SIGINT", "Received signal."); break; }
            _ = hup.recv() => {
                info!(signal = "SIGHUP", "Received signal; reloading the config.");
                let _ = engine.reload().await;
            }
        }
    }
    let _ = shutdown.send(true);
}
