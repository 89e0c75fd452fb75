//! The `metrics` feature, end to end: Foundation's counters reach a
//! Prometheus recorder and are scraped over a loopback port.

#[path = "../examples/prometheus/exporter.rs"]
mod exporter;
#[path = "../examples/prometheus/workload.rs"]
mod workload;

use metrics_exporter_prometheus::PrometheusBuilder;
use tokio::net::TcpListener;

/// The value of the sample whose name and labels are `series`.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test(flavor = "current_thread")]
async fn foundation_metrics_are_scraped_with_their_values() {
    let handle = PrometheusBuilder::new().install_recorder().unwrap();
    workload::run().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (served, body) = tokio::join!(
        exporter::serve(listener, handle, 1),
        exporter::scrape(address)
    );
    served.unwrap();
    let body = body.unwrap();
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&body, series), Some(value), "{series} in:\n{body}");
    };
    expect(
        "foundation_rate_limiter_admitted_total{limiter=\"api\"}",
        2.0,
    );
    expect("foundation_rate_limiter_denied_total{limiter=\"api\"}", 1.0);
    expect(
        "foundation_mailbox_dropped_total{actor=\"metrics::workload::Worker\"}",
        2.0,
    );
    expect(
        "foundation_dead_letters_total{reason=\"overflow\",kind=\"cast\"}",
        2.0,
    );
    expect(
        "foundation_dead_letters_total{reason=\"exited\",kind=\"cast\"}",
        1.0,
    );
    expect(
        "foundation_supervisor_restarts_total{child=\"worker\"}",
        1.0,
    );
    expect(
        "foundation_actor_exits_total{actor=\"metrics::workload::Worker\",reason=\"panic\"}",
        1.0,
    );
    expect(
        "foundation_actor_exits_total{actor=\"metrics::workload::Worker\",reason=\"killed\"}",
        1.0,
    );
    expect("foundation_monitors_created_total", 1.0);
    expect("foundation_monitors_cleaned_total", 1.0);
    expect("foundation_persistence_save_seconds_count", 2.0);
    assert_eq!(
        sample(&body, "foundation_persistence_save_failures_total"),
        None,
        "{body}"
    );
    // A histogram is a summary in the default exposition: its count is the
    // number of batches the actors took.
    assert!(
        sample(
            &body,
            "foundation_mailbox_depth_count{actor=\"metrics::workload::Worker\"}"
        )
        .is_some_and(|batches| batches >= 1.0),
        "{body}"
    );
}
