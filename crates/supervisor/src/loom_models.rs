//! Loom models of the dynamic supervisor's registry protocol
//! (`cargo xtask loom`).

use foundation_mailbox::Pid;
use loom::{sync::Arc, thread};

use crate::registry::{Refused, Registry};

/// A start racing the supervisor's shutdown: the child ends up in exactly
/// one hand, drained by the shutdown or given back to its starter.
#[test]
fn a_start_racing_shutdown_leaves_the_child_in_exactly_one_hand() {
    start_racing_shutdown(8);
}

/// The same race without a `max_children`, where a start counts no slot
/// and only the closed mark and the insert's lock stand between them.
#[test]
fn an_uncounted_start_racing_shutdown_leaves_the_child_in_exactly_one_hand() {
    start_racing_shutdown(usize::MAX);
}

fn start_racing_shutdown(max_children: usize) {
    loom::model(move || {
        let registry = Arc::new(Registry::<u32>::new(max_children));
        let starter = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || match registry.reserve() {
                // Started, then registered or handed back.
                Ok(slot) => Some(registry.insert(slot, Pid::new(), 1, |_| {}).err()),
                // Refused before starting: there is no child.
                Err(refused) => {
                    assert_eq!(refused, Refused::Closed);
                    None
                }
            })
        };
        let drained = registry.close();
        match starter.join().unwrap() {
            None => assert!(drained.is_empty()),
            Some(given_back) => {
                assert_eq!(drained.len() + usize::from(given_back.is_some()), 1);
            }
        }
        assert_eq!(registry.len(), 0);
        assert_eq!(registry.reserved(), 0, "a slot leaked");
    });
}

/// Two starts racing for the last slot: exactly one gets it.
#[test]
fn two_starts_race_for_the_last_slot() {
    loom::model(|| {
        let registry = Arc::new(Registry::<u32>::new(1));
        let other = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || {
                registry
                    .reserve()
                    .map(|slot| registry.insert(slot, Pid::new(), 2, |_| {}).is_ok())
            })
        };
        let mine = registry
            .reserve()
            .map(|slot| registry.insert(slot, Pid::new(), 1, |_| {}).is_ok());
        let theirs = other.join().unwrap();
        assert!(mine.is_ok() != theirs.is_ok(), "{mine:?} {theirs:?}");
        assert_eq!(registry.len(), 1);
    });
}

/// A child leaving (its exit handled) while another start reserves at the
/// limit: the start gets the freed slot or is refused as full, and the
/// limit is never exceeded.
#[test]
fn a_slot_freed_by_an_exit_goes_to_at_most_one_start() {
    loom::model(|| {
        let registry = Arc::new(Registry::<u32>::new(1));
        let leaving = Pid::new();
        let slot = registry.reserve().unwrap();
        registry.insert(slot, leaving, 1, |_| {}).unwrap();
        let starter = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || match registry.reserve() {
                Ok(slot) => registry.insert(slot, Pid::new(), 2, |_| {}).is_ok(),
                Err(refused) => {
                    assert_eq!(refused, Refused::Full(1));
                    false
                }
            })
        };
        assert_eq!(registry.remove(leaving), Some(1));
        let started = starter.join().unwrap();
        assert_eq!(registry.len(), usize::from(started));
        assert!(registry.len() <= 1);
    });
}

/// A restart racing a start at the limit that is cancelled if it got a
/// slot. A restarting child keeps its slot throughout (its entry stays,
/// marked restarting, until `replace` moves it to the new pid), so the
/// racing start is refused and the limit holds. The design this replaced
/// took the child out on its exit and reclaimed a slot for the restart
/// (`reclaim`, even at the limit): a start in between took the freed slot
/// and the restart then went one over `max_children`.
#[test]
fn a_restart_keeps_its_slot_against_a_cancelled_start_at_the_limit() {
    loom::model(|| {
        let registry = Arc::new(Registry::<u32>::new(1));
        let old = Pid::new();
        let slot = registry.reserve().unwrap();
        registry.insert(slot, old, 1, |_| {}).unwrap();
        let starter = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || match registry.reserve() {
                Ok(slot) => {
                    // The start is cancelled: its future, and the guard
                    // holding the slot, dropped.
                    drop(registry.guard(slot));
                    true
                }
                Err(refused) => {
                    assert_eq!(refused, Refused::Full(1));
                    false
                }
            })
        };
        // The supervisor handles the exit, then the restarted child starts.
        assert_eq!(registry.update(old, |entry| *entry), Some(1));
        assert!(registry.replace(old, Pid::new(), 2, |_| {}).is_ok());
        assert!(registry.reserved() <= 1, "one over max_children");
        let got_a_slot = starter.join().unwrap();
        assert!(!got_a_slot, "a start took the restarting child's slot");
        assert_eq!((registry.len(), registry.reserved()), (1, 1));
    });
}

/// A restart's `replace` racing `terminate_child` of the restarting
/// child's old pid: either the terminate takes the old entry and the
/// restart is refused (it stops its new child), or the restart moves the
/// entry to the new pid first and the terminate finds no such pid. The
/// new child is in exactly one hand and slots match children.
#[test]
fn a_restarts_replace_racing_terminate_child_leaves_one_owner() {
    loom::model(|| {
        let registry = Arc::new(Registry::<u32>::new(4));
        let old = Pid::new();
        let slot = registry.reserve().unwrap();
        registry.insert(slot, old, 1, |_| {}).unwrap();
        let terminator = {
            let registry = Arc::clone(&registry);
            thread::spawn(move || registry.remove(old))
        };
        let replaced = registry.replace(old, Pid::new(), 2, |_| {});
        let terminated = terminator.join().unwrap();
        match (terminated, replaced) {
            // Terminated first: the restart's child comes back to be stopped.
            (Some(1), Err(2)) => assert_eq!(registry.len(), 0),
            // Restarted first: the old pid is gone, the new child runs.
            (None, Ok(())) => assert_eq!(registry.len(), 1),
            other => panic!("both or neither took the child: {other:?}"),
        }
        assert_eq!(
            registry.reserved(),
            registry.len(),
            "a slot leaked or freed twice"
        );
    });
}
