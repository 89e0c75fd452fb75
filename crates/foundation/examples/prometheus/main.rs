//! Foundation's metrics, exported for Prometheus on a loopback port.
//!
//! ```sh
//! cargo run -p foundation --features metrics --example prometheus            # scrape once, print, exit
//! cargo run -p foundation --features metrics --example prometheus -- --serve # keep serving
//! ```
//!
//! It installs `metrics-exporter-prometheus`'s recorder, runs a small
//! workload (see `workload.rs`), then serves the text exposition on
//! `127.0.0.1` (a port the system picks). Without `--serve` it scrapes
//! itself once and prints Foundation's lines.

mod exporter;
mod workload;

use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let handle = PrometheusBuilder::new().install_recorder()?;
    workload::run().await?;

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    if std::env::args().any(|arg| arg == "--serve") {
        println!("serving metrics on http://{address}/metrics (ctrl-c stops)");
        tokio::select! {
            served = exporter::serve(listener, handle, usize::MAX) => served?,
            stopped = tokio::signal::ctrl_c() => stopped?,
        }
        return Ok(());
    }
    let (served, body) = tokio::join!(
        exporter::serve(listener, handle, 1),
        exporter::scrape(address)
    );
    served?;
    println!("scraped http://{address}/metrics:");
    for line in body?.lines().filter(|line| line.starts_with("foundation_")) {
        println!("  {line}");
    }
    Ok(())
}
