//! `EventCapture`: what Foundation's own crates emit can be asserted after the fact.

use foundation_mailbox::{Actor, Context};
use foundation_supervisor::{ChildSpec, Strategy, SupervisorSpec};
use foundation_testkit::{EventCapture, EventMatcher, start_tree};
use tracing::Level;

#[derive(Debug)]
struct Worker;

impl Actor for Worker {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker)
    }

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[tokio::test]
async fn the_supervisors_start_and_shutdown_events_are_seen() {
    let capture = EventCapture::start();
    let tree = start_tree(
        SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ())),
    )
    .await
    .unwrap();
    tree.shutdown().await.unwrap();

    let started = capture.assert_emitted(
        &EventMatcher::new()
            .target("foundation::supervisor")
            .message_contains("system started"),
    );
    assert_eq!(started.level, Level::INFO);
    capture.assert_emitted(
        &EventMatcher::new()
            .target("foundation")
            .message_contains("shutting down"),
    );
}

#[test]
fn a_missing_event_is_an_error_that_shows_the_matcher_and_the_last_events() {
    let capture = EventCapture::start();
    tracing::info!(target: "app::orders", order = 7, "order placed");
    tracing::warn!(target: "app::orders", order = 7, reason = %"no stock", "order refused");

    let refused = EventMatcher::new()
        .target("app")
        .level(Level::WARN)
        .field("reason", "no stock");
    assert_eq!(capture.find(&refused).unwrap().field("order"), Some("7"));
    assert_eq!(capture.count(&EventMatcher::new().field("order", "7")), 2);

    let error = capture
        .check_emitted(&EventMatcher::new().target("app::billing"))
        .unwrap_err();
    assert_eq!(error.captured, 2);
    let message = error.to_string();
    assert!(message.contains("target=app::billing"), "{message}");
    assert!(message.contains("\"order refused\""), "{message}");
    // A prefix matches whole segments only.
    assert!(
        capture
            .find(&EventMatcher::new().target("app::ord"))
            .is_none()
    );
}

#[test]
fn events_after_the_capture_ends_are_not_seen_by_it() {
    let first = EventCapture::start();
    tracing::info!("before");
    let kept = first.events();
    drop(first);
    tracing::info!("after");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].message.as_deref(), Some("before"));
}
