//! DOWN exactly once with the right reason; nothing after drop; at once for a dead target.

use std::time::Duration;

use foundation_mailbox::{ActorOptions, Down, ExitReason, SystemMessage};
use foundation_monitor_manager::{DownError, MonitorManager};

use super::support::{Cast, PATIENCE, ProbeFailed, Watched, eventually};

/// Ends `target` one way, and says which reason that gives.
#[derive(Debug, Clone, Copy)]
enum ExitKind {
    NormalStop,
    Shutdown,
    SelfStop,
    Panic,
    Error,
    Kill,
}

impl ExitKind {
    const ALL: [ExitKind; 6] = [
        Self::NormalStop,
        Self::Shutdown,
        Self::SelfStop,
        Self::Panic,
        Self::Error,
        Self::Kill,
    ];

    async fn end(self, target: &Watched) -> ExitReason {
        match self {
            Self::NormalStop => {
                let reason = target.process.stop(ExitReason::Normal, PATIENCE).await;
                assert_eq!(reason, Ok(ExitReason::Normal));
            }
            Self::Shutdown => {
                let reason = target.process.stop(ExitReason::shutdown(), PATIENCE).await;
                assert_eq!(reason, Ok(ExitReason::shutdown()));
            }
            Self::SelfStop => {
                target
                    .cast(Cast::StopWith(ExitReason::shutdown_because("done")))
                    .await
            }
            Self::Panic => target.cast(Cast::Panic).await,
            Self::Error => target.cast(Cast::Fail).await,
            Self::Kill => assert!(target.process.kill()),
        }
        target
            .process
            .wait_for_exit(PATIENCE)
            .await
            .expect("the target exits")
    }

    fn expected(self) -> ExitReason {
        match self {
            Self::NormalStop => ExitReason::Normal,
            Self::Shutdown => ExitReason::shutdown(),
            Self::SelfStop => ExitReason::shutdown_because("done"),
            Self::Panic => ExitReason::panic("probe panicked on purpose"),
            Self::Error => ExitReason::error(ProbeFailed),
            Self::Kill => ExitReason::Killed,
        }
    }
}

#[tokio::test]
async fn a_watcher_gets_exactly_one_down_with_the_reason_for_each_exit_kind() {
    let monitors = MonitorManager::new();
    for kind in ExitKind::ALL {
        let mut watcher = Watched::start().await;
        let target = Watched::start().await;
        let monitor = monitors.monitor(&watcher.process, &target.process, "exit-kind");
        let reason = kind.end(&target).await;
        assert_eq!(reason, kind.expected(), "{kind:?}");
        let down = watcher.next().await;
        assert_eq!(
            down,
            SystemMessage::Down(Down {
                pid: target.process.pid(),
                reference: monitor.reference(),
                reason: kind.expected(),
            }),
            "{kind:?}"
        );
        watcher.assert_quiet().await;
        assert_eq!(monitors.stats().active, 0, "{kind:?}");
        drop(monitor);
        watcher.assert_quiet().await;
    }
    let stats = monitors.stats();
    assert_eq!((stats.created, stats.cleaned), (6, 6));
}

#[tokio::test]
async fn a_guard_awaits_its_down_for_each_exit_kind() {
    let monitors = MonitorManager::new();
    for kind in ExitKind::ALL {
        let target = Watched::start().await;
        let mut monitor = monitors.watch(&target.process, "awaited");
        assert_eq!(monitor.try_down(), Ok(None));
        kind.end(&target).await;
        let down = monitor.down(PATIENCE).await.expect("a DOWN");
        assert_eq!(down.reason, kind.expected(), "{kind:?}");
        assert_eq!(down.reference, monitor.reference());
        // Exactly once: the DOWN was taken.
        assert_eq!(monitor.down(PATIENCE).await, Err(DownError::Taken));
    }
    assert_eq!(monitors.stats().active, 0);
}

#[tokio::test(start_paused = true)]
async fn waiting_for_a_down_is_bounded() {
    let monitors = MonitorManager::new();
    let target = Watched::start().await;
    let mut monitor = monitors.watch(&target.process, "bounded");
    let timeout = Duration::from_millis(50);
    assert_eq!(
        monitor.down(timeout).await,
        Err(DownError::Timeout(timeout))
    );
    let watcher = Watched::start().await;
    let mut in_mailbox = monitors.monitor(&watcher.process, &target.process, "mailbox");
    assert_eq!(in_mailbox.down(timeout).await, Err(DownError::InMailbox));
}

#[tokio::test]
async fn no_down_arrives_after_the_guard_is_dropped() {
    let monitors = MonitorManager::new();
    let mut watcher = Watched::start().await;
    let target = Watched::start().await;
    let monitor = monitors.monitor(&watcher.process, &target.process, "dropped");
    drop(monitor);
    assert_eq!(monitors.stats().active, 0);
    target.process.kill();
    target.process.wait_for_exit(PATIENCE).await.expect("exits");
    watcher.assert_quiet().await;
}

#[tokio::test]
async fn a_down_pending_in_the_mailbox_is_flushed_by_the_drop() {
    let monitors = MonitorManager::new();
    let mut watcher = Watched::start().await;
    let target = Watched::start().await;
    let monitor = monitors.monitor(&watcher.process, &target.process, "flushed");
    // On this one thread the target's exit hook pushes the DOWN, and the
    // watcher cannot run before the drop below: the DOWN is pending.
    assert!(target.process.kill());
    assert!(!monitor.is_active());
    drop(monitor);
    watcher.assert_quiet().await;
    assert_eq!(monitors.stats().active, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_down_after_a_drop_that_races_the_target_exit() {
    let monitors = MonitorManager::new();
    let mut watcher = Watched::start().await;
    for _ in 0..200 {
        let target = Watched::start().await;
        watcher.hold().await;
        let monitor = monitors.monitor(&watcher.process, &target.process, "racing");
        let killer = target.process.clone();
        std::thread::scope(|scope| {
            scope.spawn(move || assert!(killer.kill()));
            scope.spawn(move || drop(monitor));
        });
        target.process.wait_for_exit(PATIENCE).await.expect("exits");
        watcher.release();
        watcher.assert_quiet().await;
    }
    watcher.assert_quiet().await;
    eventually("every monitor cleaned", || monitors.stats().active == 0).await;
}

#[tokio::test]
async fn a_dead_target_gives_a_down_at_once_with_no_process() {
    let monitors = MonitorManager::new();
    let mut watcher = Watched::start().await;
    let target = Watched::start().await;
    target.process.kill();
    target.process.wait_for_exit(PATIENCE).await.expect("exits");

    let monitor = monitors.monitor(&watcher.process, &target.process, "late");
    assert_eq!(
        watcher.next().await,
        SystemMessage::Down(Down {
            pid: target.process.pid(),
            reference: monitor.reference(),
            reason: ExitReason::NoProcess,
        })
    );
    let mut awaited = monitors.watch(&target.process, "late");
    let down = awaited.try_down().expect("a slot").expect("a DOWN at once");
    assert_eq!(down.reason, ExitReason::NoProcess);
    assert_eq!(monitors.stats().active, 0);
}

#[tokio::test]
async fn a_watcher_exit_cleans_all_its_monitors() {
    let monitors = MonitorManager::new();
    let watcher = Watched::start().await;
    let targets = futures::future::join_all((0..10).map(|_| Watched::start())).await;
    // The guards outlive the watcher here, so only the watcher's exit can clean.
    let guards: Vec<_> = targets
        .iter()
        .flat_map(|target| {
            [
                monitors.monitor(&watcher.process, &target.process, "a"),
                monitors.monitor(&watcher.process, &target.process, "b"),
            ]
        })
        .collect();
    let other = Watched::start().await;
    let kept = monitors.monitor(&other.process, &targets[0].process, "kept");
    assert_eq!(monitors.stats().active, 21);

    watcher.process.kill();
    watcher
        .process
        .wait_for_exit(PATIENCE)
        .await
        .expect("exits");
    eventually("the watcher's monitors cleaned", || {
        monitors.stats().active == 1
    })
    .await;
    assert!(guards.iter().all(|guard| !guard.is_active()));
    assert_eq!(monitors.list()[0].reference, kept.reference());
    drop(guards);
    drop(kept);
    assert_eq!(monitors.stats().active, 0);
}

#[tokio::test]
async fn a_scoped_monitor_is_released_on_every_path_out() {
    let monitors = MonitorManager::new();
    let target = Watched::start().await;

    let seen = monitors
        .scoped(&target.process, "scoped", async |monitor| {
            assert!(monitor.is_active());
            monitors.stats().active
        })
        .await;
    assert_eq!(seen, 1);
    assert_eq!(monitors.stats().active, 0);

    // An early return through `?` releases it too.
    let failed: Result<(), DownError> = monitors
        .scoped(&target.process, "scoped", async |monitor| {
            monitor.down(Duration::ZERO).await?;
            Ok(())
        })
        .await;
    assert!(failed.is_err());
    assert_eq!(monitors.stats().active, 0);

    // And so does dropping the future unfinished.
    let pending = monitors.scoped(&target.process, "scoped", async |monitor| {
        monitor.down(PATIENCE).await
    });
    assert_eq!(monitors.stats().active, 1);
    drop(pending);
    assert_eq!(monitors.stats().active, 0);
}

/// A burst of exits far larger than the watcher's mailbox, arriving while it
/// is busy: every monitor still delivers its one DOWN (OTP never drops a
/// DOWN), and none is counted as dropped.
#[tokio::test]
async fn a_burst_of_downs_larger_than_the_watchers_mailbox_loses_none() {
    const TARGETS: usize = 50;
    let monitors = MonitorManager::new();
    let mut watcher = Watched::start_with(ActorOptions::new().capacity(4)).await;
    let mut targets = Vec::new();
    let mut guards = Vec::new();
    for _ in 0..TARGETS {
        let target = Watched::start().await;
        guards.push(monitors.monitor(&watcher.process, &target.process, "burst"));
        targets.push(target);
    }
    watcher.hold().await;
    for target in &targets {
        assert!(target.actor.kill());
    }
    for target in &targets {
        target.process.wait_for_exit(PATIENCE).await.unwrap();
    }
    watcher.release();
    let mut downs = 0;
    while downs < TARGETS {
        if let SystemMessage::Down(_) = watcher.next().await {
            downs += 1;
        }
    }
    watcher.assert_quiet().await;
    assert_eq!(watcher.actor.mailbox_stats().dropped, 0);
    drop(guards);
}
