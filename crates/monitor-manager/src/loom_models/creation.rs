//! Loom models of a monitor created while its target or its watcher exits: the shipped `hook_exits` on stand-in processes.

use foundation_mailbox::{Down, ExitReason};
use loom::{sync::Arc, thread};

use super::{Setup, setup, stand_in::StandIn};
use crate::{
    delivery::{self, Claims},
    exits::Exits,
};

/// What the monitor's exit hooks hold: the monitor, as `Arc<Cell>` is.
#[derive(Clone)]
struct Claim(Arc<Setup>);

impl Claims for Claim {
    fn target_exited(&self, reason: ExitReason) {
        let down = Down {
            pid: foundation_mailbox::Pid::new(),
            reference: self.0.reference,
            reason,
        };
        delivery::target_exited(
            &self.0.delivery,
            &self.0.lane,
            &self.0.registry,
            self.0.slot,
            down,
        );
    }

    fn watcher_exited(&self) {
        delivery::watcher_exited(&self.0.delivery, &self.0.registry, self.0.slot);
    }
}

/// Creates the monitor's hooks, as `MonitorManager::create` does after
/// registering it.
fn create(monitor: &Arc<Setup>, watcher: &StandIn, target: &StandIn) -> (Option<u64>, Option<u64>) {
    delivery::hook_exits(&Claim(monitor.clone()), Some(watcher), target)
}

/// Drops the guard, as `Monitor::drop` does.
fn drop_guard(
    monitor: &Setup,
    watcher: &StandIn,
    target: &StandIn,
    (watcher_hook, target_hook): (Option<u64>, Option<u64>),
) {
    monitor.release();
    if let Some(hook) = target_hook {
        target.cancel_exit_hook(hook);
    }
    if let Some(hook) = watcher_hook {
        watcher.cancel_exit_hook(hook);
    }
}

/// A monitor created while its target exits gets exactly one DOWN: the
/// exit's reason if its hook was in time, `NoProcess` if the exit was
/// already published. It is cleaned once, and its drop leaves no hook on
/// the live watcher.
#[test]
fn a_monitor_created_while_its_target_exits_gets_exactly_one_down() {
    loom::model(|| {
        let monitor = setup();
        let watcher = StandIn::new();
        let target = StandIn::new();
        let exiting = {
            let target = target.clone();
            thread::spawn(move || target.exit(ExitReason::Killed))
        };
        let hooks = create(&monitor, &watcher, &target);
        exiting.join().unwrap();
        let reasons = monitor.lane.reasons();
        assert_eq!(reasons.len(), 1, "exactly one DOWN, got {reasons:?}");
        assert!(matches!(
            reasons[0],
            ExitReason::Killed | ExitReason::NoProcess
        ));
        assert_eq!(monitor.registry.counts(), (1, 1));
        assert_eq!(monitor.registry.len(), 0);
        drop_guard(&monitor, &watcher, &target, hooks);
        assert_eq!(watcher.hooks_left(), 0, "a hook left on the live watcher");
        assert_eq!(target.hooks_left(), 0);
        assert_eq!(monitor.lane.pending(), 0, "the drop flushes the DOWN");
    });
}

/// A monitor created while its watcher exits is cleaned exactly once (by
/// the watcher's hook, or at once if the watcher was gone), no DOWN is
/// left, and its drop leaves no hook on the live target.
#[test]
fn a_monitor_created_while_its_watcher_exits_is_cleaned_and_leaves_no_hook() {
    loom::model(|| {
        let monitor = setup();
        let watcher = StandIn::new();
        let target = StandIn::new();
        let exiting = {
            let (monitor, watcher) = (monitor.clone(), watcher.clone());
            thread::spawn(move || {
                // The mailbox closes before its hooks run.
                monitor.lane.close();
                watcher.exit(ExitReason::Killed);
            })
        };
        let hooks = create(&monitor, &watcher, &target);
        exiting.join().unwrap();
        assert!(!monitor.delivery.is_active());
        assert_eq!(monitor.registry.counts(), (1, 1));
        assert_eq!(monitor.registry.len(), 0);
        drop_guard(&monitor, &watcher, &target, hooks);
        assert_eq!(target.hooks_left(), 0, "a hook left on the live target");
        assert_eq!(monitor.lane.pending(), 0);
        assert_eq!(monitor.registry.counts(), (1, 1));
    });
}
