//! A subscription ends when its guard drops or its subscriber exits, and takes its monitor with it.

use foundation_mailbox::ExitReason;

use super::support::{Probe, eventually, signal, supervised_router};

#[tokio::test]
async fn dropping_the_guard_unsubscribes_and_releases_the_monitor() {
    let (router, monitors, _tree) = supervised_router().await;
    let mut probe = Probe::start().await;
    let subscription = router.subscribe("a.b", probe.recipient()).unwrap();
    assert!(subscription.is_active());
    assert_eq!(monitors.stats().active, 1);
    assert_eq!(router.stats().monitored, 1);
    assert_eq!(router.route(signal("a.b", 1)).delivered, 1);
    assert_eq!(subscription.delivered(), 1);

    drop(subscription);
    assert_eq!(monitors.stats().active, 0);
    assert_eq!(router.stats().subscriptions, 0);
    assert_eq!(router.route(signal("a.b", 2)).matched, 0);
    assert_eq!(probe.drain().await, [("a.b".to_string(), 1)]);
}

#[tokio::test]
async fn a_subscriber_that_exits_is_removed_through_its_monitor() {
    let (router, monitors, _tree) = supervised_router().await;
    let probe = Probe::start().await;
    let subscription = router.subscribe("a.*", probe.recipient()).unwrap();
    probe
        .actor
        .stop(ExitReason::Normal, super::support::PATIENCE)
        .await
        .unwrap();
    eventually("the dead subscriber is removed", || {
        router.stats().subscriptions == 0
    })
    .await;
    assert!(!subscription.is_active());
    assert_eq!(router.stats().removed_dead, 1);
    assert_eq!(monitors.stats().active, 0);
    // The guard's drop finds nothing left to do.
    drop(subscription);
    assert_eq!(monitors.stats().created, 1);
}

/// The origin system leaked a monitor per subscriber; here 10,000
/// subscribers that come and go leave nothing behind.
#[tokio::test]
async fn ten_thousand_short_lived_subscribers_leave_no_subscription_and_no_monitor() {
    const SUBSCRIBERS: usize = 10_000;
    let (router, monitors, _tree) = supervised_router().await;
    let mut probe = Probe::start().await;
    let _watching = router.subscribe("load.>", probe.recipient()).unwrap();
    let baseline = monitors.stats().active;

    let mut subscribers = Vec::with_capacity(SUBSCRIBERS);
    for index in 0..SUBSCRIBERS {
        let subscriber = Probe::start().await;
        let pattern = format!("load.{}.*", index % 100);
        // Half keep their guard until after they exit; half detach theirs
        // and rely on the monitor alone.
        let subscription = router.subscribe(&pattern, subscriber.recipient()).unwrap();
        let guard = if index % 2 == 0 {
            Some(subscription)
        } else {
            subscription.detach();
            None
        };
        subscribers.push((subscriber, guard));
    }
    assert_eq!(router.stats().subscriptions, SUBSCRIBERS + 1);
    assert_eq!(monitors.stats().active, baseline + SUBSCRIBERS as u64);
    assert_eq!(
        router.route(signal("load.7.x", 1)).delivered,
        SUBSCRIBERS / 100 + 1
    );

    for (subscriber, _) in &subscribers {
        subscriber.actor.kill();
    }
    eventually("every dead subscriber is removed", || {
        router.stats().subscriptions == 1
    })
    .await;
    drop(subscribers);

    let stats = monitors.stats();
    assert_eq!(stats.active, baseline);
    assert_eq!(stats.created, stats.cleaned + baseline);
    assert_eq!(router.stats().removed_dead, SUBSCRIBERS as u64);
    assert_eq!(router.route(signal("load.7.x", 2)).delivered, 1);
    assert_eq!(probe.drain().await.len(), 2);
}

#[tokio::test]
async fn a_detached_subscription_is_ended_by_id() {
    let (router, monitors, _tree) = supervised_router().await;
    let probe = Probe::start().await;
    let id = router.subscribe("a", probe.recipient()).unwrap().detach();
    assert_eq!(router.stats().subscriptions, 1);
    let listed = router.subscriptions();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id, listed[0].subscriber, listed[0].monitored),
        (id, probe.actor.pid(), true)
    );
    assert!(router.unsubscribe(id));
    assert!(!router.unsubscribe(id));
    assert_eq!(monitors.stats().active, 0);
}

#[tokio::test]
async fn a_guard_outliving_its_router_does_nothing_on_drop() {
    let (router, _monitors) = super::support::bare_router();
    let probe = Probe::start().await;
    let subscription = router.subscribe("a", probe.recipient()).unwrap();
    drop(router);
    drop(subscription);
}

/// A burst of exits far beyond the router process's mailbox: a monitor's
/// DOWN is not bounded by the watcher's capacity, so none is dropped and
/// every dead subscriber is removed by its own DOWN.
#[tokio::test]
async fn a_burst_of_exits_beyond_the_router_mailbox_loses_no_down() {
    let options = foundation_signal_router::RouterOptions::new().mailbox_capacity(8);
    let (router, monitors, tree) = super::support::supervised_router_with(options).await;
    let mut subscribers = Vec::new();
    for _ in 0..100 {
        let subscriber = Probe::start().await;
        router
            .subscribe("burst", subscriber.recipient())
            .unwrap()
            .detach();
        subscribers.push(subscriber);
    }
    for subscriber in &subscribers {
        subscriber.actor.kill();
    }
    eventually("every dead subscriber is removed", || {
        router.stats().subscriptions == 0
    })
    .await;
    assert_eq!(router.stats().removed_dead, 100);
    assert_eq!(monitors.stats().active, 0);
    let process = tree.whereis("router").unwrap();
    assert_eq!(
        process.mailbox_stats().dropped,
        0,
        "a DOWN was dropped in the burst"
    );
}
