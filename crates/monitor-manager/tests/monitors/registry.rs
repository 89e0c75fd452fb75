//! The registry: list, stats, leaks, and `active` back at its baseline after churn.

use std::time::Duration;

use foundation_monitor_manager::MonitorManager;

use super::support::{PATIENCE, Watched, eventually};

#[tokio::test]
async fn list_and_find_leaks_name_the_tag_and_the_source_location() {
    let monitors = MonitorManager::new().with_leak_age(Duration::ZERO);
    let watcher = Watched::start().await;
    let target = Watched::start().await;
    let line = line!() + 1;
    let held = monitors.monitor(&watcher.process, &target.process, "held-too-long");
    let listed = monitors.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].tag, "held-too-long");
    assert_eq!(listed[0].target, target.process.pid());
    assert_eq!(listed[0].watcher, Some(watcher.process.pid()));
    assert_eq!(listed[0].location.line(), line);
    assert!(listed[0].location.file().ends_with("registry.rs"));

    let leaks = monitors.find_leaks(Duration::ZERO);
    assert_eq!(leaks.total(), 1);
    assert_eq!(leaks.groups[0].tag, "held-too-long");
    assert_eq!(leaks.groups[0].location.line(), line);
    assert!(leaks.to_string().contains("registry.rs"));
    assert_eq!(monitors.stats().suspected_leaks, 1);
    // Too young for an hour's threshold.
    assert!(monitors.find_leaks(Duration::from_secs(3600)).is_empty());

    // A monitor whose target has exited is not a leak: its DOWN cleans it.
    target.process.kill();
    target.process.wait_for_exit(PATIENCE).await.expect("exits");
    assert!(monitors.find_leaks(Duration::ZERO).is_empty());
    drop(held);
}

#[tokio::test]
async fn leaks_are_grouped_by_tag_and_location() {
    let monitors = MonitorManager::new();
    let target = Watched::start().await;
    let mut guards = Vec::new();
    for _ in 0..3 {
        guards.push(monitors.watch(&target.process, "loop"));
    }
    guards.push(monitors.watch(&target.process, "single"));
    let report = monitors.find_leaks(Duration::ZERO);
    assert_eq!(report.groups.len(), 2);
    assert_eq!(
        (report.groups[0].tag, report.groups[0].monitors.len()),
        ("loop", 3)
    );
    assert_eq!(
        (report.groups[1].tag, report.groups[1].monitors.len()),
        ("single", 1)
    );
    drop(guards);
    assert!(monitors.find_leaks(Duration::ZERO).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_monitors_over_ten_thousand_short_lived_targets_leave_none_active() {
    let monitors = MonitorManager::new();
    let watcher = Watched::start().await;
    let mut kept = Vec::new();
    for round in 0..10_000 {
        let target = Watched::start().await;
        for index in 0..10 {
            // Half are held until the target exits, half dropped at once;
            // every other target's DOWNs go to the guard instead of a mailbox.
            let monitor = if round % 2 == 0 {
                monitors.monitor(&watcher.process, &target.process, "churn")
            } else {
                monitors.watch(&target.process, "churn")
            };
            if index % 2 == 0 {
                kept.push(monitor);
            }
        }
        assert!(target.process.kill());
        target.process.wait_for_exit(PATIENCE).await.expect("exits");
        kept.clear();
    }
    eventually("every monitor cleaned", || monitors.stats().active == 0).await;
    let stats = monitors.stats();
    assert_eq!((stats.created, stats.cleaned), (100_000, 100_000));
    assert!(monitors.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_threads_creating_and_dropping_monitors_on_one_target() {
    let monitors = MonitorManager::new();
    let target = Watched::start().await;
    let watchers = [Watched::start().await, Watched::start().await];
    std::thread::scope(|scope| {
        for watcher in &watchers {
            let monitors = &monitors;
            let target = &target.process;
            scope.spawn(move || {
                for _ in 0..10_000 {
                    let monitor = monitors.monitor(&watcher.process, target, "contended");
                    assert!(monitor.is_active());
                    drop(monitor);
                }
            });
        }
    });
    assert_eq!(monitors.stats().active, 0);
    let stats = monitors.stats();
    assert_eq!((stats.created, stats.cleaned), (20_000, 20_000));

    // And the same while the target exits midway: every monitor is cleaned,
    // and no watcher sees a DOWN for a monitor it dropped.
    for watcher in &watchers {
        watcher.hold().await;
    }
    let killer = target.process.clone();
    std::thread::scope(|scope| {
        for watcher in &watchers {
            let monitors = &monitors;
            let target = &target.process;
            scope.spawn(move || {
                for _ in 0..2_000 {
                    drop(monitors.monitor(&watcher.process, target, "contended"));
                }
            });
        }
        scope.spawn(move || assert!(killer.kill()));
    });
    target.process.wait_for_exit(PATIENCE).await.expect("exits");
    for mut watcher in watchers {
        watcher.release();
        watcher.assert_quiet().await;
    }
    eventually("every monitor cleaned", || monitors.stats().active == 0).await;
}
