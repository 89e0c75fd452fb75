//! Loom models of the dynamic supervisor's registry protocol
//! (`cargo xtask loom`).

use foundation_mailbox::Pid;
use loom::{sync::Arc, thread};

use crate::registry::{Refused, Registry};

/// A start racing the supervisor's shutdown: the child ends up in exactly
/// one hand, drained by the shutdown or given back to its starter.
#[test]
fn a_start_racing_shutdown_leaves_the_child_in_exactly_one_hand() {
    loom::model(|| {
        let registry = Arc::new(Registry::<u32>::new(8));
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
