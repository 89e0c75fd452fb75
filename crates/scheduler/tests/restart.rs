//! Jobs live in the store: a scheduler started again on the same store
//! (by hand, or by its supervisor after a crash) has every job back and
//! fires it on time. And the test kit's manual clock drives a scheduler.

#[path = "support/recorder.rs"]
mod support;

use std::{
    collections::BTreeMap,
    time::{Duration, SystemTime},
};

use foundation_persistence::{MemoryStore, Store};
use foundation_scheduler::{Config, Job, Scheduler, SchedulerActor, TokioClock};
use foundation_supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use foundation_testkit::ManualClock;
use support::{Hold, advance_by, recorder, schedule_beat, seen, settle, stop_scheduler, target};

const STEP: Duration = Duration::from_millis(100);

async fn arrivals_by_key(
    inbox: &foundation_mailbox::ActorRef<support::Recorder>,
) -> BTreeMap<String, Vec<u128>> {
    let mut by_key: BTreeMap<String, Vec<u128>> = BTreeMap::new();
    for (at, key) in seen(inbox).await {
        by_key.entry(key).or_default().push(at.as_millis());
    }
    by_key
}

#[tokio::test(start_paused = true)]
async fn every_kind_of_job_comes_back_from_the_store_and_fires_on_time() {
    let inbox = recorder(Hold::No).await;
    // 2026-01-01T00:00:00Z, so the cron job's ticks are at 10 s, 20 s, …
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let config = Config::new(target(&inbox))
        .store(Store::new(MemoryStore::new()), "jobs/")
        .clock(TokioClock::starting_at(wall));
    let (first, _actor) = Scheduler::start(config.clone()).await.unwrap();
    let job = |key: &str| key.to_string();
    first
        .schedule(Job::after("once", Duration::from_secs(5), job("once")))
        .await
        .unwrap();
    first
        .schedule(Job::fixed_rate("rate", Duration::from_secs(4), job("rate")))
        .await
        .unwrap();
    first
        .schedule(Job::fixed_delay(
            "delay",
            Duration::from_secs(6),
            job("delay"),
        ))
        .await
        .unwrap();
    first
        .schedule(Job::cron("cron", "*/10 * * * * *", job("cron")))
        .await
        .unwrap();
    advance_by(Duration::from_millis(500), STEP).await;
    stop_scheduler(&first).await;

    let (second, _actor) = Scheduler::start(config).await.unwrap();
    let mut keys = second.keys().await.unwrap();
    keys.sort();
    assert_eq!(keys, ["cron", "delay", "once", "rate"]);
    assert_eq!(second.stats().await.unwrap().loaded, 4);
    advance_by(Duration::from_millis(12_100), STEP).await;
    let expected: BTreeMap<String, Vec<u128>> = [
        ("once", vec![5_000]),
        ("rate", vec![4_000, 8_000, 12_000]),
        ("delay", vec![6_000, 12_000]),
        ("cron", vec![10_000]),
    ]
    .into_iter()
    .map(|(key, at)| (key.to_owned(), at))
    .collect();
    assert_eq!(arrivals_by_key(&inbox).await, expected);
}

#[tokio::test(start_paused = true)]
async fn a_supervised_scheduler_that_crashes_comes_back_with_its_jobs() {
    let inbox = recorder(Hold::No).await;
    let config = Config::new(target(&inbox))
        .store(Store::new(MemoryStore::new()), "jobs/")
        .clock(TokioClock::new());
    let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(
        ChildSpec::actor::<SchedulerActor<String>>("scheduler", config),
    ))
    .await
    .unwrap();
    let child = tree
        .child_ref::<SchedulerActor<String>>("scheduler")
        .unwrap();
    let scheduler = Scheduler::supervised(child, Duration::from_secs(5));
    schedule_beat(&scheduler).await;
    advance_by(Duration::from_millis(1_500), STEP).await;

    let crashed = scheduler.actor().unwrap();
    assert!(crashed.kill());
    settle().await;
    let info = scheduler
        .job("beat")
        .await
        .unwrap()
        .expect("reloaded from the store");
    assert!(
        scheduler.actor().unwrap().pid() != crashed.pid(),
        "a new incarnation"
    );
    assert!(info.next_due.is_some());
    advance_by(Duration::from_secs(2), STEP).await;
    let arrivals: Vec<u128> = seen(&inbox)
        .await
        .iter()
        .map(|(at, _)| at.as_millis())
        .collect();
    assert_eq!(arrivals, [1_000, 2_000, 3_000]);
}

#[tokio::test(start_paused = true)]
async fn the_test_kits_manual_clock_drives_a_scheduler() {
    let inbox = recorder(Hold::No).await;
    let clock = ManualClock::new();
    let config = Config::new(target(&inbox)).clock(clock.clone());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(Job::after(
            "manual",
            Duration::from_secs(3600),
            "manual".to_string(),
        ))
        .await
        .unwrap();
    let due = scheduler.job("manual").await.unwrap().unwrap().next_due;
    assert_eq!(due, Some(clock.wall_now() + Duration::from_secs(3600)));

    // Tokio's time moves (the sleep looks at the manual clock), the manual
    // clock does not: nothing fires.
    advance_by(Duration::from_millis(50), Duration::from_millis(1)).await;
    assert!(seen(&inbox).await.is_empty());
    clock.advance(Duration::from_secs(3600));
    advance_by(Duration::from_millis(5), Duration::from_millis(1)).await;
    assert_eq!(seen(&inbox).await.len(), 1);
}
