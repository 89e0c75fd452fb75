//! GCRA: a burst of at most the limit, then the sustained rate; never a 2×
//! burst across a window boundary.

use std::time::Duration;

use foundation_rate_limiter::{Config, Decision, DirectLimiter, ManualClock};

const SECOND: Duration = Duration::from_secs(1);

#[test]
fn burst_is_the_limit_then_one_per_interval() {
    let clock = ManualClock::new();
    let limiter = DirectLimiter::with_clock(Config::gcra(10, SECOND), clock.clone()).unwrap();
    for remaining in (0..10).rev() {
        assert!(
            matches!(limiter.check(), Decision::Allowed { remaining: r, .. } if r == remaining)
        );
    }
    assert_eq!(
        limiter.check(),
        Decision::Denied {
            retry_after: Duration::from_millis(100)
        }
    );
    clock.advance(Duration::from_millis(99));
    assert!(!limiter.check().is_allowed());
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        limiter.check(),
        Decision::Allowed {
            remaining: 0,
            reset_after: SECOND
        }
    );
}

#[test]
fn no_double_burst_across_a_boundary() {
    // The fixed-window test that admits 20 around a boundary admits 10 here.
    let clock = ManualClock::new();
    let limiter = DirectLimiter::with_clock(Config::gcra(10, SECOND), clock.clone()).unwrap();
    clock.advance(SECOND - Duration::from_nanos(1));
    assert!(limiter.check_n(10).is_allowed());
    clock.advance(Duration::from_nanos(1));
    assert!(!limiter.check_n(10).is_allowed());
    assert!(!limiter.check().is_allowed());
}

#[test]
fn any_interval_admits_at_most_limit_plus_its_length_over_the_interval() {
    // Hammer the limiter every millisecond for 5 s and check the documented
    // bound over every interval of the admissions: at most
    // limit + floor(t / (window / limit)).
    let clock = ManualClock::new();
    let limit = 10u64;
    let limiter = DirectLimiter::with_clock(Config::gcra(10, SECOND), clock.clone()).unwrap();
    let interval = SECOND.as_nanos() as u64 / limit;
    let mut admitted_at = Vec::new();
    for millisecond in 0..5_000u64 {
        while limiter.check().is_allowed() {
            admitted_at.push(millisecond * 1_000_000);
        }
        clock.advance(Duration::from_millis(1));
    }
    // The burst at 0, then one at every 100 ms up to 4.9 s.
    assert_eq!(admitted_at.len() as u64, limit + 49);
    for (i, start) in admitted_at.iter().enumerate() {
        for (j, end) in admitted_at.iter().enumerate().skip(i) {
            let within = (j - i + 1) as u64;
            assert!(within <= limit + (end - start) / interval);
        }
    }
}

#[test]
fn idle_time_refills_up_to_the_limit_only() {
    let clock = ManualClock::new();
    let limiter = DirectLimiter::with_clock(Config::gcra(4, SECOND), clock.clone()).unwrap();
    clock.advance(Duration::from_secs(3600));
    assert!(limiter.check_n(4).is_allowed());
    assert!(!limiter.check().is_allowed());
    clock.advance(Duration::from_millis(500));
    assert!(matches!(
        limiter.check_n(2),
        Decision::Allowed { remaining: 0, .. }
    ));
}
