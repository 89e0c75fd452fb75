//! The router process is supervised: its crash loses no subscription of a live subscriber, and its monitors come back.

use foundation_mailbox::ExitReason;
use foundation_supervisor::{Strategy, Supervisor, SupervisorSpec};

use super::support::{PATIENCE, Probe, bare_router, eventually, signal, supervised_router};

#[tokio::test]
async fn a_router_crash_loses_no_subscription_and_monitoring_resumes() {
    let (router, monitors, tree) = supervised_router().await;
    let mut stays = Probe::start().await;
    let dies_in_the_gap = Probe::start().await;
    let dies_later = Probe::start().await;
    let _stays = router.subscribe("a.>", stays.recipient()).unwrap();
    let gap_guard = router
        .subscribe("a.*", dies_in_the_gap.recipient())
        .unwrap();
    let later_guard = router.subscribe("a.b", dies_later.recipient()).unwrap();
    assert_eq!(monitors.stats().active, 3);

    let first = router.stats().janitor.expect("the router process runs");
    let process = tree.whereis("router").expect("the router child");
    assert_eq!(process.pid(), first);
    process.kill();
    // Exits while no router process runs: nobody watches it now.
    dies_in_the_gap.actor.kill();
    assert_eq!(router.stats().janitor, None);
    assert_eq!(
        router.stats().subscriptions,
        3,
        "the table outlives the process"
    );
    assert_eq!(
        monitors.stats().active,
        0,
        "the monitors ended with their watcher"
    );

    eventually("the supervisor restarts the router process", || {
        router.stats().janitor.is_some_and(|pid| pid != first)
    })
    .await;
    // The restarted process monitored every subscription again, and the
    // subscriber that died in the gap got its DOWN at once.
    eventually("the subscriber that died in the gap is removed", || {
        router.stats().subscriptions == 2
    })
    .await;
    assert!(!gap_guard.is_active());
    assert_eq!(monitors.stats().active, 2);
    assert_eq!(router.stats().monitored, 2);

    dies_later
        .actor
        .stop(ExitReason::Normal, PATIENCE)
        .await
        .unwrap();
    eventually("a subscriber dying after the restart is removed", || {
        router.stats().subscriptions == 1
    })
    .await;
    assert!(!later_guard.is_active());
    assert_eq!(monitors.stats().active, 1);

    assert_eq!(router.route(signal("a.b", 1)).delivered, 1);
    assert_eq!(stays.drain().await, [("a.b".to_string(), 1)]);
    tree.shutdown(PATIENCE).await.unwrap();
    assert_eq!(monitors.stats().active, 0);
}

/// Subscriptions made before the router process exists are monitored
/// when it starts; until then routing works and exited ones are skipped.
#[tokio::test]
async fn subscriptions_made_before_the_process_are_monitored_when_it_starts() {
    let (router, monitors) = bare_router();
    let mut early = Probe::start().await;
    let gone = Probe::start().await;
    let _early = router.subscribe("x", early.recipient()).unwrap();
    let _gone = router.subscribe("x", gone.recipient()).unwrap();
    assert_eq!((router.stats().monitored, monitors.stats().active), (0, 0));
    gone.actor.kill();
    let routed = router.route(signal("x", 1));
    assert_eq!((routed.delivered, routed.no_process), (1, 1));

    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne).child(router.child_spec("router")),
    )
    .await
    .unwrap();
    eventually("the exited subscriber is removed", || {
        router.stats().subscriptions == 1
    })
    .await;
    assert_eq!((router.stats().monitored, monitors.stats().active), (1, 1));
    assert_eq!(early.drain().await.len(), 1);
    tree.shutdown(PATIENCE).await.unwrap();
}
