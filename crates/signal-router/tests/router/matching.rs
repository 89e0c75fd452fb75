//! Which subscribers a topic reaches: literals, `*`, `>`, the `$` namespace; and subscriptions refused with typed errors.

use foundation_signal_router::{PatternError, SubscribeError, SubscribeOptions};

use super::support::{Probe, bare_router, signal};

#[tokio::test]
async fn a_topic_reaches_exactly_the_patterns_that_match_it() {
    let (router, _monitors) = bare_router();
    let mut exact = Probe::start().await;
    let mut one = Probe::start().await;
    let mut rest = Probe::start().await;
    let mut all = Probe::start().await;
    let _exact = router
        .subscribe("orders.created.eu", exact.recipient())
        .unwrap();
    let _one = router.subscribe("orders.*.eu", one.recipient()).unwrap();
    let _rest = router.subscribe("orders.>", rest.recipient()).unwrap();
    let _all = router.subscribe(">", all.recipient()).unwrap();

    assert_eq!(router.route(signal("orders.created.eu", 1)).delivered, 4);
    assert_eq!(router.route(signal("orders.paid.eu", 2)).delivered, 3);
    assert_eq!(router.route(signal("orders.paid", 3)).delivered, 2);
    assert_eq!(router.route(signal("orders", 4)).delivered, 1);
    let routed = router.route(signal("orders.created.eu.late", 5));
    assert_eq!((routed.matched, routed.delivered), (2, 2));

    let payloads = |seen: Vec<(String, u32)>| {
        seen.into_iter()
            .map(|(_, payload)| payload)
            .collect::<Vec<_>>()
    };
    assert_eq!(payloads(exact.drain().await), [1]);
    assert_eq!(payloads(one.drain().await), [1, 2]);
    assert_eq!(payloads(rest.drain().await), [1, 2, 3, 5]);
    assert_eq!(payloads(all.drain().await), [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_subscriber_learns_the_topic_a_wildcard_matched() {
    let (router, _monitors) = bare_router();
    let mut probe = Probe::start().await;
    let _subscription = router
        .subscribe("sensors.*.temperature", probe.recipient())
        .unwrap();
    router.route(signal("sensors.kitchen.temperature", 21));
    assert_eq!(
        probe.next().await,
        ("sensors.kitchen.temperature".to_string(), 21)
    );
}

#[tokio::test]
async fn wildcards_never_reach_the_system_namespace_but_its_own_name_does() {
    let (router, _monitors) = bare_router();
    let mut everything = Probe::start().await;
    let mut star = Probe::start().await;
    let mut system = Probe::start().await;
    let _everything = router.subscribe(">", everything.recipient()).unwrap();
    let _star = router.subscribe("*.drops", star.recipient()).unwrap();
    let _system = router.subscribe("$sys.>", system.recipient()).unwrap();

    let routed = router.route(signal("$sys.drops", 1));
    assert_eq!((routed.matched, routed.delivered), (1, 1));
    router.route(signal("app.drops", 2));

    assert_eq!(everything.drain().await, [("app.drops".to_string(), 2)]);
    assert_eq!(star.drain().await, [("app.drops".to_string(), 2)]);
    assert_eq!(system.drain().await, [("$sys.drops".to_string(), 1)]);
}

#[tokio::test]
async fn a_subscriber_with_two_matching_subscriptions_gets_the_signal_twice() {
    let (router, _monitors) = bare_router();
    let mut probe = Probe::start().await;
    let _a = router.subscribe("a.*", probe.recipient()).unwrap();
    let _b = router.subscribe("a.>", probe.recipient()).unwrap();
    assert_eq!(router.route(signal("a.b", 7)).delivered, 2);
    assert_eq!(probe.drain().await.len(), 2);
}

#[tokio::test]
async fn nothing_matching_is_not_an_error() {
    let (router, _monitors) = bare_router();
    let routed = router.route(signal("nobody.listens", 1));
    assert_eq!(
        (routed.matched, routed.delivered, routed.dropped),
        (0, 0, 0)
    );
    assert_eq!(router.stats().routed, 1);
}

#[tokio::test]
async fn bad_patterns_queue_names_and_dead_subscribers_are_refused_with_a_reason() {
    let (router, _monitors) = bare_router();
    let probe = Probe::start().await;
    assert_eq!(
        router
            .subscribe("orders.>.eu", probe.recipient())
            .unwrap_err(),
        SubscribeError::Pattern(PatternError::FullWildcardNotLast { index: 1, count: 3 })
    );
    assert_eq!(
        router.subscribe("", probe.recipient()).unwrap_err(),
        SubscribeError::Pattern(PatternError::Empty)
    );
    for name in ["", "two words"] {
        let refused =
            router.subscribe_with("a", probe.recipient(), SubscribeOptions::new().queue(name));
        assert_eq!(
            refused.unwrap_err(),
            SubscribeError::QueueName { name: name.into() }
        );
    }
    probe.actor.kill();
    assert_eq!(
        router.subscribe("a", probe.recipient()).unwrap_err(),
        SubscribeError::NoProcess(probe.actor.pid())
    );
    assert_eq!(router.stats().subscriptions, 0);
    let message = SubscribeError::Pattern(PatternError::FullWildcardNotLast { index: 1, count: 3 })
        .to_string();
    assert_eq!(
        message,
        "invalid pattern: `>` matches the rest of a topic, so it must be the last segment (it is segment 1 of 3)"
    );
}
