//! `route` never waits: a full mailbox costs that subscriber the signal, counted, dead-lettered, and its policy applied.

use std::sync::Arc;

use foundation_mailbox::{ActorOptions, DeadLetterReason, Overflow};
use foundation_signal_router::{OverflowPolicy, Signal, SubscribeOptions};

use super::support::{
    Fragile, FragileSink, Keep, POISON, Probe, bare_router, signal, supervised_router,
};

/// On one thread the subscribers cannot run while the test routes, so a
/// mailbox of two holds exactly two signals.
#[tokio::test]
async fn a_full_mailbox_drops_for_that_subscriber_only_and_counts_it() {
    let (router, _monitors) = bare_router();
    let kept = Arc::new(Keep::default());
    let mut slow = Probe::start_with(
        ActorOptions::new().capacity(2).dead_letters(kept.clone()),
        None,
    )
    .await;
    let mut fast = Probe::start().await;
    let slow_subscription = router.subscribe("ticks", slow.recipient()).unwrap();
    let fast_subscription = router.subscribe("ticks", fast.recipient()).unwrap();

    let mut dropped = 0;
    for tick in 0..5 {
        let routed = router.route(signal("ticks", tick));
        assert_eq!(routed.matched, 2);
        dropped += routed.dropped;
    }
    assert_eq!(dropped, 3);
    assert_eq!(
        (slow_subscription.delivered(), slow_subscription.dropped()),
        (2, 3)
    );
    assert_eq!(
        (fast_subscription.delivered(), fast_subscription.dropped()),
        (5, 0)
    );
    let stats = router.stats();
    assert_eq!((stats.routed, stats.delivered, stats.dropped), (5, 7, 3));
    assert!(
        slow_subscription.is_active(),
        "DropSignal keeps the subscription"
    );

    // Each drop reached the slow subscriber's own dead-letter sink.
    {
        let letters = kept.0.lock().unwrap();
        assert_eq!(letters.len(), 3);
        for letter in letters.iter() {
            assert_eq!(letter.recipient, slow.actor.pid());
            assert_eq!(letter.reason, DeadLetterReason::Overflow);
        }
        assert!(letters[0].message.is::<super::support::Seen>());
    }
    assert_eq!(slow.drain().await.len(), 2);
    assert_eq!(fast.drain().await.len(), 5);
    // Room again: the next signal gets through.
    assert_eq!(router.route(signal("ticks", 9)).delivered, 2);
    let listed = router.subscriptions();
    assert_eq!((listed[0].delivered, listed[0].dropped), (3, 3));
}

#[tokio::test]
async fn the_unsubscribe_policy_cuts_off_a_slow_subscriber() {
    let (router, monitors, _tree) = supervised_router().await;
    let slow = Probe::start_with(ActorOptions::new().capacity(1), None).await;
    let options = SubscribeOptions::new().on_overflow(OverflowPolicy::Unsubscribe);
    let subscription = router
        .subscribe_with("ticks", slow.recipient(), options)
        .unwrap();
    assert_eq!(router.route(signal("ticks", 1)).delivered, 1);
    assert_eq!(router.route(signal("ticks", 2)).dropped, 1);
    assert!(!subscription.is_active());
    assert_eq!(subscription.dropped(), 1);
    assert_eq!(router.stats().subscriptions, 0);
    assert_eq!(monitors.stats().active, 0, "its monitor went with it");
    assert_eq!(router.route(signal("ticks", 3)).matched, 0);
}

/// A mailbox whose own policy drops never reports full: it keeps its
/// promise (the send succeeds) and dead-letters through its own sink.
#[tokio::test]
async fn a_mailbox_that_drops_on_its_own_is_left_to_its_policy() {
    let (router, _monitors) = bare_router();
    let kept = Arc::new(Keep::default());
    let options = ActorOptions::new()
        .capacity(1)
        .overflow(Overflow::DropNewest)
        .dead_letters(kept.clone());
    let mut probe = Probe::start_with(options, None).await;
    let subscription = router.subscribe("ticks", probe.recipient()).unwrap();
    for tick in 0..3 {
        assert_eq!(router.route(signal("ticks", tick)).delivered, 1);
    }
    assert_eq!(subscription.dropped(), 0);
    assert_eq!(probe.actor.mailbox_stats().dropped, 2);
    assert_eq!(kept.0.lock().unwrap().len(), 2);
    assert_eq!(probe.next().await, ("ticks".to_string(), 0));
}

/// A conversion into the subscriber's message is user code: its panic is
/// that subscriber's dropped signal, not the publisher's problem.
#[tokio::test]
async fn a_panicking_conversion_is_a_drop_for_that_subscriber() {
    let (router, _monitors) = bare_router();
    let mut first = Probe::start().await;
    let mut second = Probe::start().await;
    let first_subscription = router.subscribe("ticks", first.recipient()).unwrap();
    let _second = router.subscribe("ticks", second.recipient()).unwrap();
    let routed = router.route(signal("ticks", POISON));
    assert_eq!((routed.delivered, routed.dropped), (0, 2));
    assert_eq!(first_subscription.dropped(), 1);
    assert_eq!(router.route(signal("ticks", 1)).delivered, 2);
    assert_eq!(first.drain().await, [("ticks".to_string(), 1)]);
    assert_eq!(second.drain().await, [("ticks".to_string(), 1)]);
}

#[tokio::test]
async fn a_panicking_clone_is_a_drop_and_the_rest_still_get_the_signal() {
    use foundation_mailbox::start;

    let router = foundation_signal_router::SignalRouter::<Fragile>::with_options(
        foundation_signal_router::RouterOptions::new()
            .monitors(foundation_monitor_manager::MonitorManager::new()),
    );
    let (a, _a) = start::<FragileSink>(()).await.unwrap();
    let (b, _b) = start::<FragileSink>(()).await.unwrap();
    let sa = router.subscribe("x", a.recipient()).unwrap();
    let sb = router.subscribe("x", b.recipient()).unwrap();
    // The first target gets a clone (which panics), the last the original.
    let routed = router.route(Signal::parse("x", Fragile(POISON)).unwrap());
    assert_eq!((routed.delivered, routed.dropped), (1, 1));
    assert_eq!((sa.dropped(), sb.delivered()), (1, 1));
}
