//! One manual clock drives the rate limiter, the circuit breaker and the dead-letter queue together, on a multi-thread runtime.

use std::{sync::Arc, time::Duration};

use foundation_circuit_breaker::{CircuitBreaker, Config as BreakerConfig, State, Window};
use foundation_dead_letter::{Config as QueueConfig, DeadLetterQueue, Letter, Reason};
use foundation_mailbox::Pid;
use foundation_rate_limiter::{Config as LimitConfig, DirectLimiter};
use foundation_testkit::ManualClock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_advance_moves_every_crate_that_reads_a_clock() {
    let clock = ManualClock::new();

    let limiter = DirectLimiter::with_clock(
        LimitConfig::fixed_window(1, Duration::from_secs(1)),
        clock.clone(),
    )
    .unwrap();
    let breaker_config = BreakerConfig {
        window: Window::Count(2),
        minimum_calls: 2,
        ..BreakerConfig::default()
    };
    let breaker = CircuitBreaker::<()>::new(breaker_config)
        .unwrap()
        .with_clock(clock.clone());
    let queue = DeadLetterQueue::new(
        QueueConfig::default()
            .max_age(Some(Duration::from_secs(60)))
            .clock(clock.clone()),
    )
    .unwrap();

    assert!(limiter.check().is_allowed());
    assert!(!limiter.check().is_allowed());
    for _ in 0..2 {
        assert!(
            breaker
                .call(|| async { Err::<(), _>("down") })
                .await
                .is_err()
        );
    }
    assert_eq!(breaker.state(), State::Open);
    let id = queue
        .append(Letter::new(
            Pid::new(),
            1_u32,
            Reason::Undeliverable("test".into()),
        ))
        .await
        .unwrap();
    assert_eq!(queue.get(id).unwrap().first_failure, clock.wall_start());

    clock.advance(Duration::from_secs(61));

    assert!(limiter.check().is_allowed(), "the window moved on");
    assert_eq!(breaker.state(), State::HalfOpen, "the open period passed");
    assert_eq!(queue.prune(), 1, "the entry aged out");
}

#[test]
fn clones_share_the_time_across_threads_and_it_never_goes_back() {
    let clock = ManualClock::new();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let clock = clock.clone();
            std::thread::Builder::new()
                .spawn(move || {
                    for _ in 0..1000 {
                        clock.advance(Duration::from_nanos(1));
                    }
                })
                .unwrap()
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(clock.elapsed(), Duration::from_nanos(4000));

    clock.set_elapsed(Duration::from_nanos(10));
    assert_eq!(
        clock.elapsed(),
        Duration::from_nanos(4000),
        "an earlier time is ignored"
    );
    clock.advance(Duration::MAX);
    assert_eq!(
        clock.elapsed(),
        Duration::from_nanos(u64::MAX),
        "saturates instead of wrapping"
    );
    let _shared: Arc<dyn foundation_rate_limiter::Clock> = Arc::new(clock);
}
