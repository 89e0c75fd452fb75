//! Window arithmetic at the boundaries, on a manual clock: fixed windows,
//! `check_n`, and the decisions' `remaining`, `reset_after` and `retry_after`.

use std::time::Duration;

use foundation_rate_limiter::{Config, Decision, DirectLimiter, ManualClock, RateLimiter};

const SECOND: Duration = Duration::from_secs(1);

fn allowed(remaining: u32, reset_after: Duration) -> Decision {
    Decision::Allowed {
        remaining,
        reset_after,
    }
}

fn denied(retry_after: Duration) -> Decision {
    Decision::Denied { retry_after }
}

#[test]
fn fixed_window_resets_exactly_at_the_boundary() {
    let clock = ManualClock::new();
    let limiter = RateLimiter::with_clock(Config::fixed_window(3, SECOND), clock.clone()).unwrap();
    assert_eq!(limiter.check(&"k"), allowed(2, SECOND));
    clock.advance(Duration::from_millis(999));
    assert_eq!(limiter.check(&"k"), allowed(1, Duration::from_millis(1)));
    assert_eq!(limiter.check(&"k"), allowed(0, Duration::from_millis(1)));
    assert_eq!(limiter.check(&"k"), denied(Duration::from_millis(1)));
    clock.advance(Duration::from_nanos(999_999));
    assert_eq!(limiter.check(&"k"), denied(Duration::from_nanos(1)));
    clock.advance(Duration::from_nanos(1));
    assert_eq!(limiter.check(&"k"), allowed(2, SECOND));
}

#[test]
fn fixed_windows_are_aligned_to_the_clock_origin() {
    let clock = ManualClock::new();
    clock.advance(Duration::from_millis(2_500));
    let limiter =
        DirectLimiter::with_clock(Config::fixed_window(1, SECOND), clock.clone()).unwrap();
    assert_eq!(limiter.check(), allowed(0, Duration::from_millis(500)));
    assert_eq!(limiter.check(), denied(Duration::from_millis(500)));
    clock.advance(Duration::from_millis(500));
    assert!(limiter.check().is_allowed());
}

#[test]
fn fixed_window_allows_two_limits_across_a_boundary() {
    // The documented weakness of fixed windows, which GCRA removes.
    let clock = ManualClock::new();
    let limiter =
        DirectLimiter::with_clock(Config::fixed_window(10, SECOND), clock.clone()).unwrap();
    clock.advance(SECOND - Duration::from_nanos(1));
    assert!(limiter.check_n(10).is_allowed());
    clock.advance(Duration::from_nanos(1));
    assert!(limiter.check_n(10).is_allowed());
}

#[test]
fn check_n_above_the_limit_is_denied_without_consuming() {
    for config in [Config::fixed_window(5, SECOND), Config::gcra(5, SECOND)] {
        let limiter = RateLimiter::with_clock(config, ManualClock::new()).unwrap();
        assert_eq!(limiter.check_n(&1u32, 6), denied(Duration::MAX));
        assert_eq!(limiter.denied(), 1);
        // Nothing was consumed, nor even a key created.
        assert!(limiter.is_empty());
        assert!(matches!(
            limiter.check_n(&1u32, 5),
            Decision::Allowed { remaining: 0, .. }
        ));
        assert!(!limiter.check(&1u32).is_allowed());
    }
}

#[test]
fn check_n_is_all_or_nothing() {
    let clock = ManualClock::new();
    let limiter =
        DirectLimiter::with_clock(Config::fixed_window(5, SECOND), clock.clone()).unwrap();
    assert_eq!(limiter.check_n(3), allowed(2, SECOND));
    assert_eq!(limiter.check_n(3), denied(SECOND));
    assert_eq!(limiter.check_n(2), allowed(0, SECOND));
    assert_eq!(limiter.check_n(0), allowed(0, SECOND));
}

#[test]
fn zero_requests_report_without_consuming() {
    let limiter =
        RateLimiter::with_clock(Config::fixed_window(4, SECOND), ManualClock::new()).unwrap();
    assert_eq!(limiter.check_n(&7u8, 0), allowed(4, SECOND));
    assert_eq!(limiter.check_n(&7u8, 4), allowed(0, SECOND));
}

#[test]
fn keys_are_limited_independently() {
    let limiter =
        RateLimiter::<String, _>::with_clock(Config::fixed_window(1, SECOND), ManualClock::new())
            .unwrap();
    assert!(limiter.check("alice").is_allowed());
    assert!(!limiter.check("alice").is_allowed());
    assert!(limiter.check("bob").is_allowed());
    assert_eq!(limiter.len(), 2);
    assert_eq!(limiter.denied(), 1);
}
