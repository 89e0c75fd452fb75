//! Subscribing, unsubscribing, dying and routing at once, on two worker threads: the table ends empty and consistent.

use std::sync::Arc;

use foundation_signal_router::SubscribeOptions;

use super::support::{Probe, eventually, signal, supervised_router};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_on_two_threads_leaves_nothing_behind() {
    const TASKS: usize = 4;
    const ROUNDS: usize = 200;
    let (router, monitors, _tree) = supervised_router().await;
    let router = Arc::new(router);

    let publisher = {
        let router = router.clone();
        // audit:allow(FND001) the test's publisher, joined below
        tokio::spawn(async move {
            let mut delivered = 0;
            for round in 0..ROUNDS * TASKS {
                delivered += router
                    .route(signal(&format!("churn.{}.x", round % 8), 1))
                    .delivered;
                tokio::task::yield_now().await;
            }
            delivered
        })
    };
    let churners: Vec<_> = (0..TASKS)
        .map(|task| {
            let router = router.clone();
            // audit:allow(FND001) a churning subscriber task, joined below
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    let probe = Probe::start().await;
                    let pattern = format!("churn.{}.*", round % 8);
                    let options = if round % 3 == 0 {
                        SubscribeOptions::new().queue(format!("group-{task}"))
                    } else {
                        SubscribeOptions::new()
                    };
                    let subscription = router
                        .subscribe_with(&pattern, probe.recipient(), options)
                        .unwrap();
                    match round % 3 {
                        // Unsubscribed by its guard.
                        0 => drop(subscription),
                        // Removed by its monitor.
                        1 => {
                            subscription.detach();
                            probe.actor.kill();
                        }
                        // Both at once, in either order.
                        _ => {
                            probe.actor.kill();
                            drop(subscription);
                        }
                    }
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    for churner in churners {
        churner.await.unwrap();
    }
    publisher.await.unwrap();

    eventually("every subscription is gone", || {
        router.stats().subscriptions == 0
    })
    .await;
    eventually("every monitor is released", || monitors.stats().active == 0).await;
    let stats = monitors.stats();
    assert_eq!(stats.created, stats.cleaned);
    assert!(router.subscriptions().is_empty());
}
