//! `wait_for` and `wait_for_notified`: they end when the condition holds, and at the bound when it never does.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_testkit::{WaitError, wait_for, wait_for_notified};
use tokio::{sync::Notify, time::Instant};

#[tokio::test(start_paused = true)]
async fn a_condition_that_never_holds_fails_exactly_at_the_bound() {
    let began = Instant::now();
    let error = wait_for(|| false, Duration::from_secs(3))
        .await
        .unwrap_err();
    assert_eq!(began.elapsed(), Duration::from_secs(3));
    assert_eq!(error.within, Duration::from_secs(3));
    assert!(error.checks > 1);
    assert!(error.to_string().starts_with("condition not met within 3s"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_set_by_another_task_is_seen() {
    let count = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&count);
    let bump = async move {
        for _ in 0..10 {
            counter.fetch_add(1, Ordering::AcqRel);
            tokio::task::yield_now().await;
        }
    };
    let wait = wait_for(
        || count.load(Ordering::Acquire) == 10,
        Duration::from_secs(10),
    );
    let ((), waited) = tokio::join!(bump, wait);
    waited.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_notified_wait_without_notifications_fails_at_the_bound() {
    let changed = Notify::new();
    let began = Instant::now();
    let error = wait_for_notified(&changed, || false, Duration::from_millis(40))
        .await
        .unwrap_err();
    assert_eq!(began.elapsed(), Duration::from_millis(40));
    assert_eq!(
        error,
        WaitError {
            within: Duration::from_millis(40),
            checks: 2
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notified_wait_checks_once_per_notification() {
    let changed = Arc::new(Notify::new());
    let count = Arc::new(AtomicU32::new(0));
    let (notifier, counter) = (Arc::clone(&changed), Arc::clone(&count));
    let checks = AtomicU32::new(0);
    let bump = async move {
        for _ in 0..5 {
            counter.fetch_add(1, Ordering::AcqRel);
            notifier.notify_waiters();
            tokio::task::yield_now().await;
        }
    };
    let wait = wait_for_notified(
        &changed,
        || {
            checks.fetch_add(1, Ordering::Relaxed);
            count.load(Ordering::Acquire) == 5
        },
        Duration::from_secs(10),
    );
    let ((), waited) = tokio::join!(bump, wait);
    waited.unwrap();
    assert!(
        checks.load(Ordering::Relaxed) <= 6,
        "polled instead of waiting on the notifier"
    );
}
