//! A TCP proxy on loopback whose network the test can cut and restore.

use std::sync::{Arc, Mutex};

use tokio::{
    net::{TcpListener, TcpSocket, TcpStream},
    task::AbortHandle,
};

/// Forwards connections on a loopback port to `upstream`.
pub(super) struct Proxy {
    port: u16,
    upstream: String,
    /// The accept loop and every forwarding task: aborted by [`cut`](Self::cut).
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Proxy {
    pub(super) async fn start(upstream: String) -> Self {
        let proxy = Self {
            port: 0,
            upstream,
            tasks: Arc::default(),
        };
        let listener = bind(0);
        let port = listener.local_addr().unwrap().port();
        let proxy = Self { port, ..proxy };
        proxy.serve(listener);
        proxy
    }

    pub(super) fn port(&self) -> u16 {
        self.port
    }

    /// Closes every forwarded connection and the port: the network is cut.
    pub(super) fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens on the same port again.
    pub(super) async fn resume(&self) {
        self.serve(bind(self.port));
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let tasks = Arc::clone(&self.tasks);
        // audit:allow(FND001) the test's proxy: aborted by `cut`, and with the test's runtime
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                // audit:allow(FND001) one forwarded connection, aborted by `cut`
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _closed = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(forward.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }
}

/// A listener on `127.0.0.1:port` that can take the port again at once.
fn bind(port: u16) -> TcpListener {
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_reuseaddr(true).unwrap();
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap();
    socket.listen(64).unwrap()
}
