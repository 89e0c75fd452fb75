//! Loom models: every interleaving of a few threads racing on a limiter,
//! checked to never admit more than the limit.
//!
//! Run with `RUSTFLAGS="--cfg foundation_loom" LOOM_MAX_PREEMPTIONS=2 cargo
//! test --profile loom -p foundation-rate-limiter --lib loom_models`.

use std::time::Duration;

use loom::{sync::Arc, thread};

use crate::{Config, Decision, DirectLimiter, ManualClock, RateLimiter};

const WINDOW: Duration = Duration::from_nanos(10);

fn admitted(decisions: &[Decision]) -> usize {
    decisions.iter().filter(|d| d.is_allowed()).count()
}

/// `threads` threads race for the last slot of a window: exactly one wins.
fn race_for_the_last_slot(config: Config, threads: usize) {
    loom::model(move || {
        let limiter = Arc::new(DirectLimiter::with_clock(config, ManualClock::new()).unwrap());
        // Use all but one slot up front.
        assert!(limiter.check_n(config.limit() - 1).is_allowed());
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                thread::spawn(move || limiter.check())
            })
            .collect();
        let decisions: Vec<Decision> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(admitted(&decisions), 1, "{decisions:?}");
        assert_eq!(limiter.denied(), threads as u64 - 1);
    });
}

#[test]
fn two_threads_race_for_the_last_fixed_window_slot() {
    race_for_the_last_slot(Config::fixed_window(2, WINDOW), 2);
}

#[test]
fn three_threads_race_for_the_last_fixed_window_slot() {
    race_for_the_last_slot(Config::fixed_window(2, WINDOW), 3);
}

#[test]
fn two_threads_race_for_the_last_gcra_slot() {
    race_for_the_last_slot(Config::gcra(2, WINDOW), 2);
}

#[test]
fn three_threads_race_for_the_last_gcra_slot() {
    race_for_the_last_slot(Config::gcra(2, WINDOW), 3);
}

/// Two threads check while a third moves the clock into the next window. A
/// check that read the old window is never counted in it once the next has
/// begun in the state, so window 0 admits at most 1 and the whole run at
/// most 2 (one per window).
#[test]
fn window_rolls_over_while_threads_check() {
    loom::model(|| {
        let clock = ManualClock::new();
        let limiter = Arc::new(
            DirectLimiter::with_clock(Config::fixed_window(1, WINDOW), clock.clone()).unwrap(),
        );
        let checkers: Vec<_> = (0..2)
            .map(|_| {
                let limiter = Arc::clone(&limiter);
                thread::spawn(move || limiter.check())
            })
            .collect();
        let roller = thread::spawn(move || clock.advance(WINDOW));
        roller.join().unwrap();
        let decisions: Vec<Decision> = checkers.into_iter().map(|h| h.join().unwrap()).collect();
        // A probe in window 1 is admitted only if no racing check was counted
        // there. A check that moved the state back to window 0 would let the
        // probe through as well: 3.
        let probe = limiter.check();
        let total = admitted(&decisions) + usize::from(probe.is_allowed());
        assert!(total <= 2, "{decisions:?} then {probe:?}");
    });
}

/// A check on a key races a sweep that reclaims it as the window ends. The
/// key used window 0's only slot before; the racing check must never get a
/// second slot in window 0, so over the racing check and a probe in window 1
/// exactly one is admitted.
#[test]
fn reclaim_races_a_check() {
    loom::model(|| {
        let clock = ManualClock::new();
        let limiter = Arc::new(
            RateLimiter::<u8, _>::with_clock(Config::fixed_window(1, WINDOW), clock.clone())
                .unwrap(),
        );
        clock.advance(Duration::from_nanos(5));
        assert!(limiter.check(&1).is_allowed());

        let checker = {
            let limiter = Arc::clone(&limiter);
            thread::spawn(move || limiter.check(&1))
        };
        let sweeper = {
            let limiter = Arc::clone(&limiter);
            thread::spawn(move || {
                clock.advance(Duration::from_nanos(5));
                limiter.retain_idle()
            })
        };
        let raced = checker.join().unwrap();
        let removed = sweeper.join().unwrap();
        let probe = limiter.check(&1);
        assert_eq!(
            usize::from(raced.is_allowed()) + usize::from(probe.is_allowed()),
            1,
            "raced {raced:?}, removed {removed}, probe {probe:?}"
        );
    });
}

/// Two threads check the same key that no entry exists for yet: both miss
/// under the read lock and race for the write lock to insert it. The second
/// must find the first's entry and decide on it, not insert a fresh state
/// over it, so exactly one of them gets the key's only slot and the key has
/// one entry.
#[test]
fn two_threads_insert_the_same_new_key() {
    for config in [Config::fixed_window(1, WINDOW), Config::gcra(1, WINDOW)] {
        loom::model(move || {
            let limiter =
                Arc::new(RateLimiter::<u8, _>::with_clock(config, ManualClock::new()).unwrap());
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let limiter = Arc::clone(&limiter);
                    thread::spawn(move || limiter.check(&7))
                })
                .collect();
            let decisions: Vec<Decision> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            assert_eq!(admitted(&decisions), 1, "{config:?}: {decisions:?}");
            assert_eq!(limiter.len(), 1);
            assert_eq!(limiter.denied(), 1);
        });
    }
}
