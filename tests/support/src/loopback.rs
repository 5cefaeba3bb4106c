//! Loopback TCP helpers: free ports, and forwarding a connection to another
//! port (a host whose sshd is reached through a gate the test controls).

use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

/// A loopback port nobody listens on right now (bound to :0 and released,
/// so another process may still take it before the caller does).
pub(crate) fn try_free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind loopback: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read bound port: {e}"))
}

/// [`try_free_port`] for tests, which cannot go on without one.
pub fn free_loopback_port() -> u16 {
    try_free_port().unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// Connects an accepted `client` to 127.0.0.1:`to` and copies bytes both
/// ways in background threads. Returns handles on both ends, so that the
/// caller can cut the connection later (a host going down); empty when the
/// target does not answer (the client is then dropped, as a refused
/// connection would be).
pub fn forward(client: TcpStream, to: u16) -> Vec<TcpStream> {
    // An accepted socket inherits the listener's non-blocking mode; the copy
    // threads want blocking reads.
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else {
        return Vec::new();
    };
    let handles = match (client.try_clone(), server.try_clone()) {
        (Ok(c), Ok(s)) => vec![c, s],
        _ => Vec::new(),
    };
    pipe(client, server);
    handles
}

/// Copies bytes both ways until either side closes.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let one_way = |mut from: TcpStream, mut to: TcpStream| {
        thread::spawn(move || {
            let _ = std::io::copy(&mut from, &mut to);
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
        });
    };
    one_way(a, b2);
    one_way(b, a2);
}
