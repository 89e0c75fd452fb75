//! `route_sync`: waits for room up to a timeout and counts the mailboxes that took the signal, with each subscriber's outcome.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{ActorOptions, Overflow};
use foundation_signal_router::{Outcome, OverflowPolicy, SubscribeOptions};
use tokio::sync::Semaphore;

use super::support::{Keep, Probe, bare_router, signal};

#[tokio::test]
async fn the_count_is_of_mailboxes_that_accepted() {
    let (router, _monitors) = bare_router();
    let mut a = Probe::start().await;
    let mut b = Probe::start().await;
    let _a = router.subscribe("news.*", a.recipient()).unwrap();
    let _b = router.subscribe("news.>", b.recipient()).unwrap();
    assert_eq!(
        router
            .route_sync(signal("news.today", 1), Duration::from_secs(1))
            .await,
        2
    );
    assert_eq!(
        router
            .route_sync(signal("news.today.late", 2), Duration::from_secs(1))
            .await,
        1
    );
    assert_eq!(
        router
            .route_sync(signal("weather", 3), Duration::from_secs(1))
            .await,
        0
    );
    assert_eq!(a.drain().await.len(), 1);
    assert_eq!(b.drain().await.len(), 2);
}

/// A full mailbox that drains in time gets the signal: `route_sync`
/// waits where `route` would drop.
#[tokio::test]
async fn a_full_mailbox_that_drains_in_time_is_delivered() {
    let (router, _monitors) = bare_router();
    let mut probe = Probe::start_with(ActorOptions::new().capacity(1), None).await;
    let subscription = router.subscribe("ticks", probe.recipient()).unwrap();
    assert_eq!(router.route(signal("ticks", 1)).delivered, 1);
    assert_eq!(
        router
            .route_sync(signal("ticks", 2), Duration::from_secs(5))
            .await,
        1
    );
    assert_eq!(subscription.dropped(), 0);
    assert_eq!(probe.drain().await.len(), 2);
}

/// Per-subscriber outcomes: one delivered, one stuck past the timeout,
/// one refusing when full, one exited. Paused time makes the timeout
/// elapse as soon as everything is idle.
#[tokio::test(start_paused = true)]
async fn each_subscriber_has_its_outcome_on_request() {
    let (router, _monitors) = bare_router();
    let kept = Arc::new(Keep::default());
    let closed_gate = Arc::new(Semaphore::new(0));
    let mut fine = Probe::start().await;
    let stuck = Probe::start_with(
        ActorOptions::new().capacity(1).dead_letters(kept.clone()),
        Some(closed_gate.clone()),
    )
    .await;
    let refusing = Probe::start_with(
        ActorOptions::new().capacity(1).overflow(Overflow::Reject),
        Some(closed_gate),
    )
    .await;
    let dead = Probe::start().await;
    let _fine = router.subscribe("ticks", fine.recipient()).unwrap();
    let stuck_guard = router.subscribe("ticks", stuck.recipient()).unwrap();
    let refusing_guard = router
        .subscribe_with(
            "ticks",
            refusing.recipient(),
            SubscribeOptions::new().on_overflow(OverflowPolicy::Unsubscribe),
        )
        .unwrap();
    let _dead = router.subscribe("ticks", dead.recipient()).unwrap();
    dead.actor.kill();
    // Fill the two gated mailboxes: each handler holds one signal at the
    // gate, and one more waits in the mailbox of one.
    let mut stuck = stuck;
    let mut refusing = refusing;
    assert_eq!(
        router
            .route_sync(signal("ticks", 0), Duration::from_secs(1))
            .await,
        3
    );
    assert_eq!(stuck.next().await.1, 0);
    assert_eq!(refusing.next().await.1, 0);
    assert_eq!(router.route(signal("ticks", 1)).delivered, 3);

    let report = router
        .route_sync_report(signal("ticks", 9), Duration::from_millis(100))
        .await;
    assert_eq!(report.delivered(), 1);
    assert!(!report.all_delivered());
    assert_eq!(
        report.outcome_for(fine.actor.pid()),
        Some(Outcome::Delivered)
    );
    assert_eq!(
        report.outcome_for(stuck.actor.pid()),
        Some(Outcome::TimedOut)
    );
    assert_eq!(
        report.outcome_for(refusing.actor.pid()),
        Some(Outcome::Refused)
    );
    assert_eq!(
        report.outcome_for(dead.actor.pid()),
        Some(Outcome::NoProcess)
    );
    assert_eq!(report.outcomes().len(), 4);

    // The timed-out signal was dropped for its subscriber: counted and dead-lettered.
    assert_eq!(stuck_guard.dropped(), 1);
    assert!(
        kept.0
            .lock()
            .unwrap()
            .iter()
            .any(|letter| letter.message.is::<super::support::Seen>())
    );
    // The refusing one's policy cut it off.
    assert!(!refusing_guard.is_active());
    assert_eq!(fine.drain().await.len(), 3);
}
