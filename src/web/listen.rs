//! Listen addresses as the Prometheus exporters read them: `host:port`,
//! `[v6]:port`, and `:port` for every local address, IPv6 and IPv4 (a
//! dual-stack socket; IPv4 alone where the host has no IPv6).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Socket, Type};

/// Binds `address` and listens on it.
pub fn listen(address: &str) -> Result<tokio::net::TcpListener, String> {
    let listener = match address.strip_prefix(':') {
        Some(port) => {
            let port: u16 = port.parse().map_err(|_| {
                format!("{address:?}: the port after `:` is not a number from 0 to 65535")
            })?;
            dual_stack(port).or_else(|v6| {
                std::net::TcpListener::bind((Ipv4Addr::UNSPECIFIED, port))
                    .map_err(|v4| format!("{v6}; IPv4 0.0.0.0:{port}: {v4}"))
            })?
        }
        None => std::net::TcpListener::bind(address).map_err(|e| e.to_string())?,
    };
    adopt(listener)
}

/// A listening socket made by someone else (systemd), for tokio.
pub fn adopt(listener: std::net::TcpListener) -> Result<tokio::net::TcpListener, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())
}

/// The TCP sockets systemd passed to this process (`LISTEN_FDS` from fd 3
/// on, `LISTEN_PID` naming it), as `sd_listen_fds` reads them; an error
/// when there are none or one is not a listening TCP socket. Reading them
/// removes the two variables from the environment, so call it before
/// threads start.
pub fn systemd_sockets() -> Result<Vec<std::net::TcpListener>, String> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() == 0 {
        return Err(
            "no socket was passed (LISTEN_FDS is unset or zero, or LISTEN_PID names another process): start the exporter from a systemd .socket unit".to_owned(),
        );
    }
    (0..fds.len())
        .map(|i| {
            fds.take_tcp_listener(i)
                .map_err(|e| format!("fd {}: {e}", 3 + i))?
                .ok_or_else(|| format!("fd {}: already taken", 3 + i))
        })
        .collect()
}

/// `[::]:port` accepting IPv4 too (IPV6_V6ONLY off, whatever the sysctl).
fn dual_stack(port: u16) -> Result<std::net::TcpListener, String> {
    let at = SocketAddr::from((Ipv6Addr::UNSPECIFIED, port));
    let socket = Socket::new(Domain::IPV6, Type::STREAM, None)
        .map_err(|e| format!("IPv6 [::]:{port}: {e}"))?;
    socket
        .set_only_v6(false)
        .map_err(|e| format!("IPv6 [::]:{port}: {e}"))?;
    socket
        .set_reuse_address(true)
        .map_err(|e| format!("IPv6 [::]:{port}: {e}"))?;
    socket
        .bind(&at.into())
        .map_err(|e| format!("IPv6 [::]:{port}: {e}"))?;
    socket
        .listen(1024)
        .map_err(|e| format!("IPv6 [::]:{port}: {e}"))?;
    Ok(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn colon_port_listens_on_ipv4_and_ipv6_loopback() {
        let listener = listen(":0").unwrap();
        let port = listener.local_addr().unwrap().port();
        for at in ["127.0.0.1", "[::1]"] {
            // ::1 may be absent on a host without IPv6; IPv4 must work.
            let connected = tokio::net::TcpStream::connect(format!("{at}:{port}")).await;
            assert!(connected.is_ok() || at == "[::1]", "{at}: {connected:?}");
        }
        assert!(listen(":http").unwrap_err().contains("not a number"));
        assert!(listen("127.0.0.1:0").is_ok());
    }
}
