//! The long-running exporter: binds the listener, starts the engine, serves
//! HTTP, handles signals in one place (SIGTERM/SIGINT drain and stop, SIGHUP
//! reloads) and drains in-flight work with a deadline. No flag parsing here.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing::{error, info, warn};

use crate::config::ConfigErrors;
use crate::engine::{load_plan, Engine, Shard};

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

/// Runs the exporter until SIGTERM or SIGINT. `listen_address` overrides
/// `web.listen_address`.
pub async fn serve(
    config_file: &Path,
    listen_address: Option<&str>,
    web: crate::web::WebOptions,
    shard: Option<Shard>,
) -> Result<(), ServeError> {
    let plan = load_plan(config_file).map_err(|errors| {
        for e in &errors.0 {
            error!(error = %e, "Invalid config.");
        }
        ServeError::Config(errors)
    })?;
    let address = listen_address
        .map(str::to_owned)
        .unwrap_or_else(|| plan.config.web.listen_address.clone());
    let listener = tokio::net::TcpListener::bind(&address).await.map_err(|e| {
        error!(address = %address, error = %e, "Cannot listen.");
        ServeError::Listen {
            address: address.clone(),
            reason: e.to_string(),
        }
    })?;
    let bound = listener
        .local_addr()
        .map_or(address.clone(), |a: SocketAddr| a.to_string());
    let engine = Engine::new(config_file, plan, shard);
    engine.start();
    info!(
        address = %bound,
        checks = engine.plan().checks.len(),
        shard = %shard.map_or("none".to_owned(), |s| format!("{}/{}", s.index, s.count)),
        config = %config_file.display(),
        version = crate::build_info::VERSION,
        "Listening."
    );

    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let signals = tokio::spawn(handle_signals(engine.clone(), shutdown_tx));
    let app = crate::web::router(engine.clone(), web);
    let connections = accept_loop(listener, app, web, shutdown_rx).await;
    info!("Shutting down: cancelling checks and draining HTTP connections.");
    engine.stop();
    let drained = tokio::time::timeout(DRAIN_DEADLINE, async {
        let mut connections = connections;
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!("Connections still open after the drain deadline; closing them.");
    }
    signals.abort();
    info!("Stopped.");
    Ok(())
}

/// Accepts connections until shutdown is signalled, each served on its own
/// task with a header-read timeout (a client trickling its headers is cut
/// off) and under a cap on open connections (beyond it a new connection is
/// closed at once). Returns the connection tasks, which finish their
/// in-flight requests after shutdown.
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    web: crate::web::WebOptions,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinSet<()> {
    let open = Arc::new(tokio::sync::Semaphore::new(web.max_connections.max(1)));
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
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off, keep serving.
                warn!(error = %e, "Cannot accept a connection.");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            warn!(
                limit = web.max_connections,
                "Connection limit reached; closing a new connection."
            );
            drop(stream);
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let mut stop = shutdown.clone();
        let header_timeout = web.header_read_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
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
        });
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
