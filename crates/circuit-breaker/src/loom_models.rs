//! Loom models of the admission word: a closed breaker admits calls from
//! one atomic load, without its lock, while other threads trip, probe and
//! close it under the lock.
//!
//! Run with `cargo xtask loom` (or `RUSTFLAGS="--cfg foundation_loom"
//! cargo test --profile loom -p foundation-circuit-breaker --lib loom_models`).

use std::time::Duration;

use loom::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
};

use crate::{CircuitBreaker, Config, ManualClock, State, Window};

const OPEN: Duration = Duration::from_secs(1);

/// One failure in a window of one trips; one probe decides half-open.
fn config() -> Config {
    Config {
        window: Window::Count(1),
        minimum_calls: 1,
        failure_rate: 1.0,
        half_open_probes: 1,
        open_base: OPEN,
        open_max: OPEN,
        jitter: 0.0,
        ..Config::default()
    }
}

/// A breaker on [`config`] to share between threads, and its manual clock.
fn shared_breaker() -> (Arc<CircuitBreaker<()>>, ManualClock) {
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::new(config())
        .unwrap()
        .with_clock(clock.clone());
    (Arc::new(breaker), clock)
}

/// A success admitted from the closed word while another thread's failure
/// trips the breaker counts in no later phase: the breaker stays open, and
/// it is counted as a call. A caller that knows of the trip (here through a
/// flag set after it) is never admitted from a stale word.
#[test]
fn a_success_admitted_without_the_lock_while_the_breaker_trips_does_not_close_it() {
    loom::model(|| {
        let breaker = Arc::new(CircuitBreaker::<()>::new(config()).unwrap());
        let tripped = Arc::new(AtomicBool::new(false));
        let (racing, told) = (Arc::clone(&breaker), Arc::clone(&tripped));
        let succeeding = thread::spawn(move || {
            let knew_of_the_trip = told.load(Ordering::Acquire);
            let admitted = match racing.try_acquire() {
                Ok(permit) => {
                    permit.success();
                    true
                }
                Err(_) => false,
            };
            assert!(!(knew_of_the_trip && admitted), "admitted after the trip");
            admitted
        });
        breaker.try_acquire().unwrap().failure();
        tripped.store(true, Ordering::Release);
        let admitted = succeeding.join().unwrap();
        assert_eq!(breaker.state(), State::Open);
        let stats = breaker.stats();
        assert_eq!(stats.trips, 1);
        assert_eq!(stats.calls, 1 + u64::from(admitted));
        assert_eq!(stats.rejected, u64::from(!admitted));
    });
}

/// A permit admitted while closed and dropped unreported after the breaker
/// tripped and went half-open does not give back the probe slot another
/// caller holds: at any moment exactly the probes handed out are taken.
#[test]
fn a_stale_permit_dropped_in_half_open_frees_no_probe_slot() {
    loom::model(|| {
        let (breaker, clock) = shared_breaker();
        let racing = Arc::clone(&breaker);
        let abandoning = thread::spawn(move || {
            // Admitted (closed, or as the probe) or rejected; dropped unreported.
            drop(racing.try_acquire());
        });
        breaker.trip();
        clock.advance(OPEN);
        let probe = breaker.try_acquire();
        let probe_taken = probe.is_ok();
        if let Ok(permit) = probe {
            // Held for the rest of the model: its slot stays taken.
            std::mem::forget(permit);
        }
        abandoning.join().unwrap();
        assert_eq!(breaker.state(), State::HalfOpen);
        // The one slot is free exactly when this thread did not take it.
        assert_eq!(breaker.try_acquire().is_ok(), !probe_taken);
    });
}

/// A success reported without the lock (the window was a full window of
/// successes when it was admitted) never stands in for the half-open probe
/// that follows a trip: the probe's own success must close the breaker,
/// whoever holds it.
#[test]
fn a_success_without_the_lock_never_stands_in_for_a_probe() {
    loom::model(|| {
        let (breaker, clock) = shared_breaker();
        // A window of one success: quiet.
        breaker.try_acquire().unwrap().success();
        let racing = Arc::clone(&breaker);
        let succeeding =
            thread::spawn(move || racing.try_acquire().map(|permit| permit.success()).is_ok());
        breaker.trip();
        clock.advance(OPEN);
        let probed = breaker.try_acquire().map(|probe| probe.success()).is_ok();
        let admitted = succeeding.join().unwrap();
        assert!(probed || admitted, "someone held the probe slot");
        assert_eq!(
            breaker.state(),
            State::Closed,
            "a probe's success closed it"
        );
        let calls = 1 + u64::from(probed) + u64::from(admitted);
        assert_eq!(breaker.stats().calls, calls);
    });
}

/// A success reported by a caller that knows a failure was recorded before
/// it counts after that failure, lock or no lock: it ages the failure out
/// of a window of two, so a second failure does not trip.
#[test]
fn a_success_after_a_failure_is_counted_after_it() {
    loom::model(|| {
        let config = Config {
            window: Window::Count(2),
            minimum_calls: 2,
            ..config()
        };
        let breaker = Arc::new(CircuitBreaker::<()>::new(config).unwrap());
        for _ in 0..2 {
            breaker.try_acquire().unwrap().success();
        }
        let failed = Arc::new(AtomicBool::new(false));
        let (racing, told) = (Arc::clone(&breaker), Arc::clone(&failed));
        let succeeding = thread::spawn(move || {
            let knew_of_the_failure = told.load(Ordering::Acquire);
            racing.try_acquire().unwrap().success();
            knew_of_the_failure
        });
        breaker.try_acquire().unwrap().failure();
        failed.store(true, Ordering::Release);
        let knew_of_the_failure = succeeding.join().unwrap();
        breaker.try_acquire().unwrap().failure();
        if knew_of_the_failure {
            assert_eq!(
                breaker.state(),
                State::Closed,
                "the success aged the first failure out"
            );
        }
        assert_eq!(breaker.stats().calls, 5);
    });
}
