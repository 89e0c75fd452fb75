//! Queue groups: each signal to one member, in turn, skipping members that exited.

use foundation_signal_router::SubscribeOptions;

use super::support::{Probe, bare_router, signal};

fn group() -> SubscribeOptions {
    SubscribeOptions::new().queue("workers")
}

#[tokio::test]
async fn each_signal_goes_to_one_member_in_turn() {
    let (router, _monitors) = bare_router();
    let mut members = Vec::new();
    let mut guards = Vec::new();
    for _ in 0..3 {
        let probe = Probe::start().await;
        guards.push(
            router
                .subscribe_with("jobs.*", probe.recipient(), group())
                .unwrap(),
        );
        members.push(probe);
    }
    for job in 0..30 {
        let routed = router.route(signal("jobs.resize", job));
        assert_eq!((routed.matched, routed.delivered), (3, 1));
    }
    for member in &mut members {
        assert_eq!(member.drain().await.len(), 10);
    }
    for guard in &guards {
        assert_eq!(guard.delivered(), 10);
    }
}

#[tokio::test]
async fn a_group_spans_patterns_and_sits_beside_plain_subscribers() {
    let (router, _monitors) = bare_router();
    let mut a = Probe::start().await;
    let mut b = Probe::start().await;
    let mut audit = Probe::start().await;
    let _a = router
        .subscribe_with("jobs.*", a.recipient(), group())
        .unwrap();
    let _b = router
        .subscribe_with("jobs.>", b.recipient(), group())
        .unwrap();
    let _other_group = router
        .subscribe_with(
            "jobs.>",
            audit.recipient(),
            SubscribeOptions::new().queue("audit"),
        )
        .unwrap();
    for job in 0..4 {
        assert_eq!(router.route(signal("jobs.resize", job)).delivered, 2);
    }
    // Only `jobs.>` matches a longer topic: that member takes it, in its turn or not.
    assert_eq!(router.route(signal("jobs.resize.big", 9)).delivered, 2);
    assert_eq!(a.drain().await.len() + b.drain().await.len(), 5);
    assert_eq!(audit.drain().await.len(), 5);
}

/// With no router process, an exited member stays in the table: the
/// group skips it at routing time, losing no signal.
#[tokio::test]
async fn an_exited_member_is_skipped() {
    let (router, _monitors) = bare_router();
    let mut live = Probe::start().await;
    let dead = Probe::start().await;
    let _live = router
        .subscribe_with("jobs", live.recipient(), group())
        .unwrap();
    let _dead = router
        .subscribe_with("jobs", dead.recipient(), group())
        .unwrap();
    dead.actor.kill();
    for job in 0..6 {
        let routed = router.route(signal("jobs", job));
        assert_eq!(
            (routed.matched, routed.delivered, routed.no_process),
            (2, 1, 0)
        );
    }
    assert_eq!(live.drain().await.len(), 6);

    live.actor.kill();
    let routed = router.route(signal("jobs", 7));
    assert_eq!((routed.delivered, routed.no_process), (0, 1));
}

/// A member with a full mailbox passes its turn to one with room.
#[tokio::test]
async fn a_full_member_passes_the_signal_to_one_with_room() {
    let (router, _monitors) = bare_router();
    let full = Probe::start_with(foundation_mailbox::ActorOptions::new().capacity(1), None).await;
    let mut roomy = Probe::start().await;
    let full_guard = router
        .subscribe_with("jobs", full.recipient(), group())
        .unwrap();
    let _roomy = router
        .subscribe_with("jobs", roomy.recipient(), group())
        .unwrap();
    for job in 0..6 {
        assert_eq!(router.route(signal("jobs", job)).delivered, 1);
    }
    assert_eq!((full_guard.delivered(), full_guard.dropped()), (1, 0));
    assert_eq!(roomy.drain().await.len(), 5);
}
