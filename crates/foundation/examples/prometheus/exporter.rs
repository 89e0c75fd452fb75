//! A minimal Prometheus scrape endpoint: each connection gets the recorder's
//! text exposition, once, over HTTP/1.1. Enough for Prometheus and `curl`;
//! a service with an HTTP stack serves `PrometheusHandle::render` from it.

use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// How long one scrape may take before its connection is dropped.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers one connection with the current metrics.
pub(crate) async fn answer(
    mut stream: TcpStream,
    handle: &PrometheusHandle,
) -> std::io::Result<()> {
    let scrape = async {
        // The request itself does not matter: every path is the metrics.
        let mut request = [0_u8; 1024];
        let _read = stream.read(&mut request).await?;
        let body = handle.render();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.shutdown().await
    };
    tokio::time::timeout(SCRAPE_TIMEOUT, scrape)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// Answers `scrapes` connections on `listener`, one after another.
pub(crate) async fn serve(
    listener: TcpListener,
    handle: PrometheusHandle,
    scrapes: usize,
) -> std::io::Result<()> {
    for _ in 0..scrapes {
        let (stream, _) = listener.accept().await?;
        answer(stream, &handle).await?;
    }
    Ok(())
}

/// Scrapes `address` the way Prometheus would, and returns the body.
pub(crate) async fn scrape(address: std::net::SocketAddr) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(address).await?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nhost: localhost\r\n\r\n")
        .await?;
    let mut response = String::new();
    tokio::time::timeout(SCRAPE_TIMEOUT, stream.read_to_string(&mut response))
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))?;
    let (_, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no HTTP body"))?;
    Ok(body.to_owned())
}
