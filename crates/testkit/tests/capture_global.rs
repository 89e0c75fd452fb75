//! `EventCapture::global`: every thread's events, once per process (a test binary of its own).

use foundation_testkit::{EventCapture, EventMatcher, GlobalCaptureError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_capture_sees_worker_threads_and_cannot_be_set_twice() {
    let capture = EventCapture::global().unwrap();
    assert_eq!(EventCapture::global().unwrap_err(), GlobalCaptureError);

    let on_a_worker = tokio::task::spawn_blocking(|| {
        tracing::info!(target: "app::worker", job = 3, "job finished");
    });
    on_a_worker.await.unwrap();
    let finished = capture.assert_emitted(
        &EventMatcher::new()
            .target("app")
            .message_contains("finished"),
    );
    assert_eq!(finished.field("job"), Some("3"));
}
