//! Loom models of the DOWN-exactly-once / flush-on-drop state machine and the registry shards.
//!
//! The models drive the same `delivery` functions and `Registry` the crate
//! ships, with a small stand-in for the watcher's mailbox (a locked queue
//! that a watcher's exit closes, as the real one does). The models of a
//! monitor's creation and of links drive the shipped protocols on a
//! stand-in process (`stand_in`), through the `Exits` trait.

mod creation;
mod links;
mod stand_in;

use foundation_mailbox::{Down, ExitReason, Pid, Reference};
use loom::{sync::Arc, thread};

use crate::{
    delivery::{self, Delivery, DownSink, Release},
    registry::{Registry, SlotKey},
    sync::{Mutex, lock},
};

/// The watcher's system lane: DOWNs queue until flushed or the watcher exits.
#[derive(Debug, Default)]
struct Lane {
    state: Mutex<(bool, Vec<Down>)>,
}

impl Lane {
    /// The watcher exits: its queue goes, and nothing is accepted after.
    fn close(&self) {
        let mut state = lock(&self.state);
        state.0 = true;
        state.1.clear();
    }

    fn pending(&self) -> usize {
        lock(&self.state).1.len()
    }

    /// The reasons of the DOWNs queued, oldest first.
    fn reasons(&self) -> Vec<ExitReason> {
        lock(&self.state)
            .1
            .iter()
            .map(|down| down.reason.clone())
            .collect()
    }
}

impl DownSink for Lane {
    fn push(&self, down: Down) {
        let mut state = lock(&self.state);
        if !state.0 {
            state.1.push(down);
        }
    }

    fn flush(&self, reference: Reference) {
        lock(&self.state)
            .1
            .retain(|down| down.reference != reference);
    }
}

/// One monitor, registered, as `MonitorManager::create` leaves it.
struct Setup {
    delivery: Delivery,
    lane: Lane,
    registry: Registry<u32>,
    reference: Reference,
    slot: SlotKey,
}

fn setup() -> Arc<Setup> {
    let registry = Registry::new(2);
    let reference = Reference::new();
    let slot = registry.insert_with(reference.as_u64(), |slot| (0, slot));
    Arc::new(Setup {
        delivery: Delivery::new(),
        lane: Lane::default(),
        registry,
        reference,
        slot,
    })
}

// Free functions rather than methods: loom's `Arc` cannot be a receiver.

/// The target exits on a thread of its own; joins with whether it pushed
/// the DOWN.
fn spawn_target_exit(monitor: &Arc<Setup>) -> thread::JoinHandle<bool> {
    let monitor = monitor.clone();
    thread::spawn(move || {
        let down = Down {
            pid: Pid::new(),
            reference: monitor.reference,
            reason: ExitReason::Killed,
        };
        delivery::target_exited(
            &monitor.delivery,
            &monitor.lane,
            &monitor.registry,
            monitor.slot,
            down,
        )
    })
}

/// The watcher exits on a thread of its own, its lane closing first when
/// `close_lane`; joins with whether it cancelled the monitor.
fn spawn_watcher_exit(monitor: &Arc<Setup>, close_lane: bool) -> thread::JoinHandle<bool> {
    let monitor = monitor.clone();
    thread::spawn(move || {
        if close_lane {
            monitor.lane.close();
        }
        delivery::watcher_exited(&monitor.delivery, &monitor.registry, monitor.slot)
    })
}

impl Setup {
    /// The guard is dropped on this thread.
    fn release(&self) -> Release {
        delivery::release(
            &self.delivery,
            &self.lane,
            &self.registry,
            self.slot,
            self.reference,
        )
    }
}

/// A guard dropped while its target exits: after the drop returns, no DOWN
/// is pending and none is pushed later; the monitor is cleaned exactly once.
#[test]
fn a_drop_racing_the_target_exit_leaves_no_down() {
    loom::model(|| {
        let monitor = setup();
        let target = spawn_target_exit(&monitor);
        let released = monitor.release();
        let pending_after_drop = monitor.lane.pending();
        let pushed = target.join().unwrap();
        assert_eq!(pending_after_drop, 0, "a DOWN survived the drop");
        assert_eq!(monitor.lane.pending(), 0, "a DOWN arrived after the drop");
        assert_eq!(pushed, released == Release::Delivered);
        assert_eq!(monitor.registry.counts(), (1, 1));
        assert_eq!(monitor.registry.len(), 0);
    });
}

/// The watcher and the target exit together while the guard is dropped:
/// exactly one of them claims the monitor, it is cleaned exactly once, and
/// nothing is left in an open lane.
#[test]
fn watcher_and_target_exiting_together_clean_exactly_once() {
    loom::model(|| {
        let monitor = setup();
        let target = spawn_target_exit(&monitor);
        let watcher = spawn_watcher_exit(&monitor, true);
        let delivered = target.join().unwrap();
        let cancelled = watcher.join().unwrap();
        assert_eq!(
            usize::from(delivered) + usize::from(cancelled),
            1,
            "the DOWN and the cancellation must exclude each other"
        );
        assert_eq!(monitor.registry.counts(), (1, 1));
        assert_eq!(monitor.registry.len(), 0);
        // The guard goes last, as the watcher's state is dropped.
        let released = monitor.release();
        assert_ne!(released, Release::Cancelled);
        assert_eq!(monitor.lane.pending(), 0);
        assert_eq!(monitor.registry.counts(), (1, 1));
    });
}

/// The guard's drop, the watcher's exit and the target's exit all at once:
/// one claim, one cleanup, no DOWN left behind.
#[test]
fn drop_watcher_exit_and_target_exit_together_claim_once() {
    loom::model(|| {
        let monitor = setup();
        let target = spawn_target_exit(&monitor);
        let watcher = spawn_watcher_exit(&monitor, false);
        let released = monitor.release();
        let pending_after_drop = monitor.lane.pending();
        let delivered = target.join().unwrap();
        let cancelled = watcher.join().unwrap();
        let claims = usize::from(delivered)
            + usize::from(cancelled)
            + usize::from(released == Release::Cancelled);
        assert_eq!(claims, 1);
        assert_eq!(pending_after_drop, 0);
        assert_eq!(monitor.lane.pending(), 0);
        assert_eq!(monitor.registry.counts(), (1, 1));
    });
}

/// Monitors made and dropped on two threads in one shard, reusing each
/// other's freed slots: every entry comes back exactly once, by its own key,
/// and the counters add up.
#[test]
fn concurrent_creates_and_drops_keep_the_shards_consistent() {
    loom::model(|| {
        let registry = Arc::new(Registry::<u32>::new(1));
        let other = {
            let registry = registry.clone();
            thread::spawn(move || {
                let slot = registry.insert_with(1, |slot| (1, slot));
                assert_eq!(registry.remove(slot), Some(1));
                assert_eq!(registry.remove(slot), None);
            })
        };
        let first = registry.insert_with(2, |slot| (2, slot));
        assert_eq!(registry.remove(first), Some(2));
        let second = registry.insert_with(3, |slot| (3, slot));
        let third = registry.insert_with(4, |slot| (4, slot));
        assert_eq!(registry.remove(second), Some(3));
        assert_eq!(registry.remove(third), Some(4));
        other.join().unwrap();
        assert_eq!(registry.counts(), (4, 4));
        assert_eq!(registry.len(), 0);
    });
}

/// A watcher's mailbox whose push drops the monitor's guard on the pushing
/// thread, as a DOWN that ends a watcher whose runtime has shut down does
/// (the watcher's state, holding the guard, goes inside the push).
struct DropsGuardInPush<'a> {
    monitor: &'a Setup,
    released: Mutex<Option<Release>>,
}

impl DownSink for DropsGuardInPush<'_> {
    fn push(&self, down: Down) {
        self.monitor.lane.push(down);
        *lock(&self.released) = Some(self.monitor.release());
    }

    fn flush(&self, reference: Reference) {
        self.monitor.lane.flush(reference);
    }
}

/// A guard dropped inside its own DOWN's push, while the watcher's exit
/// races: the drop returns without waiting for the push it is inside, and
/// once the delivery returns no DOWN is left; the monitor is cleaned once.
#[test]
fn a_guard_dropped_inside_its_own_push_returns_and_leaves_no_down() {
    loom::model(|| {
        let monitor = setup();
        let watcher = spawn_watcher_exit(&monitor, false);
        let sink = DropsGuardInPush {
            monitor: &monitor,
            released: Mutex::new(None),
        };
        let down = Down {
            pid: Pid::new(),
            reference: monitor.reference,
            reason: ExitReason::Killed,
        };
        let pushed = delivery::target_exited(
            &monitor.delivery,
            &sink,
            &monitor.registry,
            monitor.slot,
            down,
        );
        let cancelled = watcher.join().unwrap();
        assert_eq!(usize::from(pushed) + usize::from(cancelled), 1);
        let released = *lock(&sink.released);
        assert_eq!(released.is_some(), pushed);
        assert_eq!(monitor.lane.pending(), 0, "a DOWN outlived its guard");
        assert_eq!(monitor.registry.counts(), (1, 1));
    });
}

/// Two DOWNs pushed at once on two threads, each push dropping the other
/// monitor's guard (two watchers on shut-down runtimes, each holding the
/// other's guard): neither drop waits for the other push, both finish.
#[test]
fn two_pushes_dropping_each_others_guards_both_finish() {
    loom::model(|| {
        let first = setup();
        let second = setup();
        let pushing = {
            let (first, second) = (first.clone(), second.clone());
            thread::spawn(move || push_dropping(&first, &second))
        };
        push_dropping(&second, &first);
        pushing.join().unwrap();
        for monitor in [&first, &second] {
            assert_eq!(monitor.lane.pending(), 0);
            assert_eq!(monitor.registry.counts(), (1, 1));
        }
    });
}

/// Delivers `monitor`'s DOWN through a push that drops `other`'s guard.
fn push_dropping(monitor: &Setup, other: &Setup) {
    struct DropsOther<'a> {
        lane: &'a Lane,
        other: &'a Setup,
    }
    impl DownSink for DropsOther<'_> {
        fn push(&self, down: Down) {
            self.lane.push(down);
            self.other.release();
        }
        fn flush(&self, reference: Reference) {
            self.lane.flush(reference);
        }
    }
    let sink = DropsOther {
        lane: &monitor.lane,
        other,
    };
    let down = Down {
        pid: Pid::new(),
        reference: monitor.reference,
        reason: ExitReason::Killed,
    };
    // The other thread's push may have dropped this guard first: then no
    // DOWN is pushed, and the other guard goes outside any push.
    let pushed = delivery::target_exited(
        &monitor.delivery,
        &sink,
        &monitor.registry,
        monitor.slot,
        down,
    );
    if !pushed {
        other.release();
    }
}
