//! One test per behaviour the issue names, each on a manual clock or
//! tokio's paused time: trips, probes, open periods, the buffer, operators,
//! events and stats.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use foundation_circuit_breaker::{
    CallError, CircuitBreaker, Config, ConfigError, Drain, ManualClock, State, TokioClock, Window,
};
use foundation_mailbox::{DeadLetter, DeadLetterReason, DeadLetterSink, Pid};

fn config() -> Config {
    Config {
        window: Window::Count(10),
        minimum_calls: 4,
        failure_rate: 0.5,
        slow_call_rate: 0.5,
        slow_call_threshold: Duration::from_millis(100),
        half_open_probes: 2,
        open_base: Duration::from_secs(1),
        open_multiplier: 2,
        open_max: Duration::from_secs(4),
        jitter: 0.0,
        buffer_capacity: 3,
        drain_interval: Duration::from_millis(10),
        ..Config::default()
    }
}

fn breaker<M>(config: Config) -> (CircuitBreaker<M>, ManualClock) {
    let clock = ManualClock::new();
    (
        CircuitBreaker::new(config)
            .unwrap()
            .with_clock(clock.clone()),
        clock,
    )
}

fn outcomes<M>(breaker: &CircuitBreaker<M>, failures: &[bool]) {
    for &failure in failures {
        breaker.try_acquire().unwrap().record(failure);
    }
}

#[test]
fn trips_on_the_failure_rate_only_after_the_minimum_calls() {
    let (breaker, _clock) = breaker::<()>(config());
    outcomes(&breaker, &[true, true, true]);
    assert_eq!(
        breaker.state(),
        State::Closed,
        "3 calls are under the minimum of 4"
    );
    outcomes(&breaker, &[false]);
    assert_eq!(breaker.state(), State::Open, "3 of 4 failed: over 50%");
    assert_eq!(breaker.stats().trips, 1);
}

#[test]
fn stays_closed_under_the_failure_rate() {
    let (breaker, _clock) = breaker::<()>(config());
    outcomes(
        &breaker,
        &[true, false, false, false, true, false, false, false],
    );
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test]
async fn trips_on_the_slow_call_rate() {
    let (breaker, clock) = breaker::<()>(config());
    for _ in 0..4 {
        let answer = breaker
            .call(|| async {
                clock.advance(Duration::from_millis(150));
                Ok::<_, ()>(())
            })
            .await;
        assert!(answer.is_ok());
    }
    assert_eq!(breaker.state(), State::Open);
    assert_eq!(breaker.stats().slow, 4);
    assert_eq!(breaker.stats().failures, 0);
}

#[tokio::test]
async fn the_users_predicate_decides_which_errors_count() {
    let (breaker, _clock) = breaker::<()>(config());
    for _ in 0..6 {
        let result = breaker
            .call_with(|| async { Err::<(), _>(404) }, |status| *status >= 500)
            .await;
        assert!(matches!(result, Err(CallError::Failed(404))));
    }
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.stats().failures, 0);
}

#[test]
fn a_time_window_forgets_old_failures() {
    let (breaker, clock) = breaker::<()>(Config {
        window: Window::Time(Duration::from_secs(10)),
        ..config()
    });
    outcomes(&breaker, &[true, true, true]);
    clock.advance(Duration::from_secs(11));
    outcomes(&breaker, &[true, false, false, false]);
    assert_eq!(
        breaker.state(),
        State::Closed,
        "1 of the 4 calls in the window failed"
    );
}

#[test]
fn half_open_admits_the_probes_and_closes_on_their_success() {
    let (breaker, clock) = breaker::<()>(config());
    breaker.trip();
    let refused = breaker.try_acquire().unwrap_err();
    assert_eq!(refused.state, State::Open);
    assert_eq!(refused.retry_after, Some(Duration::from_secs(1)));

    clock.advance(Duration::from_secs(1));
    let first = breaker.try_acquire().unwrap();
    let second = breaker.try_acquire().unwrap();
    assert_eq!(
        breaker.try_acquire().unwrap_err().state,
        State::HalfOpen,
        "only 2 probes"
    );
    first.success();
    assert_eq!(breaker.state(), State::HalfOpen);
    second.success();
    assert_eq!(breaker.state(), State::Closed);
}

#[test]
fn a_cancelled_probe_gives_its_slot_back() {
    let (breaker, clock) = breaker::<()>(config());
    breaker.trip();
    clock.advance(Duration::from_secs(1));
    let kept = breaker.try_acquire().unwrap();
    drop(breaker.try_acquire().unwrap());
    let again = breaker
        .try_acquire()
        .expect("the dropped probe's slot is free");
    kept.success();
    again.success();
    assert_eq!(breaker.state(), State::Closed);
    assert_eq!(breaker.stats().abandoned, 1);
}

/// A `call` (or `call_with`) future dropped while its operation is pending
/// holds the only probe slot at that moment; dropping it must give the slot
/// back and count the call as abandoned, not as an outcome.
#[test]
fn a_call_dropped_at_its_await_gives_its_probe_slot_back() {
    let (breaker, clock) = breaker::<()>(Config {
        half_open_probes: 1,
        ..config()
    });
    breaker.trip();
    clock.advance(Duration::from_secs(1));
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    for with_predicate in [false, true] {
        {
            let operation = || std::future::pending::<Result<(), ()>>();
            let mut call: std::pin::Pin<Box<dyn std::future::Future<Output = _>>> =
                if with_predicate {
                    Box::pin(breaker.call_with(operation, |_| true))
                } else {
                    Box::pin(breaker.call(operation))
                };
            assert!(call.as_mut().poll(&mut context).is_pending());
            assert!(
                breaker.try_acquire().is_err(),
                "the pending call holds the one probe slot"
            );
        }
        assert_eq!(breaker.state(), State::HalfOpen);
        assert!(
            breaker.try_acquire().is_ok(),
            "the dropped call gave its slot back"
        );
    }
    let stats = breaker.stats();
    assert_eq!((stats.calls, stats.abandoned), (0, 4));
}

/// A full window of successes lets a success report without the lock. The
/// first failure must end that, or a later success would not age it out;
/// and a trip must end it, or the half-open probe's success would not count.
#[test]
fn successes_without_the_lock_stop_at_the_first_failure_and_at_a_trip() {
    let (breaker, clock) = breaker::<()>(Config {
        window: Window::Count(2),
        minimum_calls: 2,
        failure_rate: 1.0,
        half_open_probes: 1,
        ..config()
    });
    for _ in 0..3 {
        breaker.try_acquire().unwrap().success();
    }
    breaker.try_acquire().unwrap().failure();
    breaker.try_acquire().unwrap().success();
    breaker.try_acquire().unwrap().failure();
    assert_eq!(
        breaker.state(),
        State::Closed,
        "a success sat between the failures"
    );
    breaker.try_acquire().unwrap().success();
    breaker.try_acquire().unwrap().success();
    breaker.trip();
    clock.advance(Duration::from_secs(1));
    breaker.try_acquire().unwrap().success();
    assert_eq!(
        breaker.state(),
        State::Closed,
        "the probe's success counted"
    );
    assert_eq!(breaker.stats().calls, 9);
}

/// The open periods of five trips in a row, each probe failing.
fn open_periods(config: Config) -> Vec<Duration> {
    let (breaker, clock) = breaker::<()>(Config {
        half_open_probes: 1,
        ..config
    });
    breaker.trip();
    let mut periods = Vec::new();
    for _ in 0..5 {
        let period = breaker.try_acquire().unwrap_err().retry_after.unwrap();
        periods.push(period);
        clock.advance(period);
        breaker.try_acquire().unwrap().failure();
    }
    periods
}

#[test]
fn the_open_period_doubles_on_each_trip_up_to_the_cap() {
    let secs: Vec<u64> = open_periods(config())
        .iter()
        .map(Duration::as_secs)
        .collect();
    assert_eq!(secs, [1, 2, 4, 4, 4]);
}

#[test]
fn jitter_spreads_the_open_period_within_its_bounds() {
    let nominal = [1.0, 2.0, 4.0, 4.0, 4.0];
    let a = open_periods(Config {
        jitter: 0.2,
        jitter_seed: 1,
        ..config()
    });
    let b = open_periods(Config {
        jitter: 0.2,
        jitter_seed: 2,
        ..config()
    });
    assert_ne!(a, b, "different seeds, different periods");
    for (period, nominal) in a.iter().chain(&b).zip(nominal.iter().cycle()) {
        let ratio = period.as_secs_f64() / nominal;
        assert!(
            (0.8..=1.2).contains(&ratio),
            "{period:?} is outside 20% of {nominal} s"
        );
    }
}

#[test]
fn a_failed_probe_opens_again_and_a_success_forgets_the_trips() {
    let (breaker, clock) = breaker::<()>(Config {
        half_open_probes: 1,
        ..config()
    });
    breaker.trip();
    clock.advance(Duration::from_secs(1));
    breaker.try_acquire().unwrap().failure();
    assert_eq!(breaker.state(), State::Open);
    clock.advance(Duration::from_secs(2));
    breaker.try_acquire().unwrap().success();
    assert_eq!(breaker.state(), State::Closed);
    breaker.trip();
    assert_eq!(
        breaker.try_acquire().unwrap_err().retry_after,
        Some(Duration::from_secs(1))
    );
}

#[test]
fn a_full_buffer_rejects_and_gives_the_message_back() {
    let (breaker, _clock) = breaker::<u32>(config());
    breaker.force_open();
    for n in 0..3 {
        assert_eq!(breaker.offer(n).unwrap(), None);
    }
    assert_eq!(breaker.offer(3).unwrap_err().into_inner(), 3);
    assert_eq!(breaker.buffered(), 3);
    assert_eq!(breaker.stats().refused, 1);
}

#[test]
fn a_full_buffer_drops_its_oldest_into_the_sink() {
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&dropped);
    let (breaker, _clock) = breaker::<u32>(config());
    let breaker = breaker.drop_oldest(move |n| sink.lock().unwrap().push(n));
    breaker.force_open();
    for n in 0..5 {
        assert_eq!(breaker.offer(n).unwrap(), None);
    }
    assert_eq!(*dropped.lock().unwrap(), [0, 1]);
    assert_eq!(breaker.stats().dropped, 2);
    breaker.reset();
    assert_eq!(breaker.poll_drain(), Drain::Ready(2));
}

#[derive(Debug, Default)]
struct Keep(Mutex<Vec<DeadLetter>>);

impl DeadLetterSink for Keep {
    fn dead_letter(&self, letter: DeadLetter) {
        self.0.lock().unwrap().push(letter);
    }
}

#[test]
fn a_dropped_message_can_become_a_mailbox_dead_letter() {
    let keep = Arc::new(Keep::default());
    let recipient = Pid::new();
    let (breaker, _clock) = breaker::<String>(config());
    let breaker = breaker.dead_letter_oldest(keep.clone(), recipient);
    breaker.force_open();
    for word in ["a", "b", "c", "d"] {
        breaker.offer(word.to_owned()).unwrap();
    }
    let letters = keep.0.lock().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].recipient, recipient);
    assert_eq!(letters[0].reason, DeadLetterReason::Overflow);
    assert_eq!(letters[0].message.downcast_ref::<String>().unwrap(), "a");
}

#[test]
fn on_closing_the_buffer_drains_in_order_at_a_bounded_rate_before_new_messages() {
    let (breaker, clock) = breaker::<u32>(Config {
        half_open_probes: 1,
        ..config()
    });
    breaker.trip();
    breaker.offer(1).unwrap();
    breaker.offer(2).unwrap();
    assert_eq!(breaker.poll_drain(), Drain::Held(State::Open));
    clock.advance(Duration::from_secs(1));
    assert_eq!(breaker.poll_drain(), Drain::Held(State::HalfOpen));
    breaker.try_acquire().unwrap().success();

    assert_eq!(breaker.poll_drain(), Drain::Ready(1));
    assert_eq!(
        breaker.offer(3).unwrap(),
        None,
        "a new message queues behind the buffer"
    );
    assert_eq!(breaker.poll_drain(), Drain::Wait(Duration::from_millis(10)));
    clock.advance(Duration::from_millis(10));
    assert_eq!(breaker.poll_drain(), Drain::Ready(2));
    clock.advance(Duration::from_millis(10));
    assert_eq!(breaker.poll_drain(), Drain::Ready(3));
    assert_eq!(breaker.poll_drain(), Drain::Empty);
    assert_eq!(
        breaker.offer(4).unwrap(),
        Some(4),
        "empty again: straight through"
    );
    assert_eq!(breaker.stats().drained, 3);
}

#[test]
fn forced_open_refuses_until_reset_and_disabled_admits_everything() {
    let (breaker, _clock) = breaker::<()>(config());
    breaker.force_open();
    let refused = breaker.try_acquire().unwrap_err();
    assert_eq!(
        (refused.state, refused.retry_after),
        (State::ForcedOpen, None)
    );
    breaker.disable();
    outcomes(&breaker, &[true; 20]);
    assert_eq!(breaker.state(), State::Disabled, "disabled counts nothing");
    breaker.reset();
    assert_eq!(breaker.state(), State::Closed);
}

#[tokio::test(start_paused = true)]
async fn subscribers_see_each_change_under_paused_time() {
    let breaker = CircuitBreaker::<()>::new(config())
        .unwrap()
        .with_clock(TokioClock::new());
    let mut changes = breaker.subscribe();
    breaker.trip();
    tokio::time::timeout(Duration::from_secs(1), changes.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(*changes.borrow_and_update(), State::Open);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(breaker.state(), State::HalfOpen);
    assert_eq!(*changes.borrow_and_update(), State::HalfOpen);
}

#[test]
fn bad_configuration_is_named() {
    let error = CircuitBreaker::<()>::new(Config {
        failure_rate: 1.5,
        ..config()
    })
    .unwrap_err();
    assert_eq!(
        error,
        ConfigError::Rate {
            name: "failure_rate",
            rate: 1.5
        }
    );
    assert_eq!(
        error.to_string(),
        "failure_rate is 1.5; it must be in (0, 1]"
    );
    let error = CircuitBreaker::<()>::new(Config {
        buffer_capacity: 0,
        ..config()
    })
    .unwrap_err();
    assert_eq!(error, ConfigError::NoBuffer);
}

#[test]
fn a_probe_that_panics_gives_its_slot_back() {
    let (breaker, clock) = breaker::<()>(Config {
        half_open_probes: 1,
        ..config()
    });
    breaker.trip();
    clock.advance(Duration::from_secs(1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(breaker.call(|| async {
            panic!("the wrapped call panics");
            // The Ok only names the future's output type; the panic comes first.
            #[allow(unreachable_code)]
            Ok::<(), ()>(())
        }))
    }));
    assert!(
        panicked.is_err(),
        "the panic reaches the caller of that call only"
    );
    assert_eq!(breaker.stats().abandoned, 1);
    breaker
        .try_acquire()
        .expect("the probe slot is free again")
        .success();
    assert_eq!(breaker.state(), State::Closed);
}
