//! GCRA: a burst of at most the limit, then the sustained rate; never a 2×
//! burst across a window boundary.

use std::time::Duration;

use foundation_rate_limiter::{
    Config, ConfigError, Decision, DirectLimiter, ManualClock, RateLimiter,
};

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

#[test]
fn a_window_too_long_for_exact_arithmetic_is_refused_at_construction() {
    // A window near u64::MAX nanoseconds pushed the theoretical arrival time
    // past u64::MAX, where it saturated and every check was admitted.
    let clock = ManualClock::new();
    clock.advance(SECOND);
    let window = Duration::from_nanos(u64::MAX - 1);
    assert_eq!(
        DirectLimiter::with_clock(Config::gcra(1, window), clock.clone()).unwrap_err(),
        ConfigError::WindowTooLong
    );
    assert_eq!(
        RateLimiter::<u8, _>::with_clock(Config::gcra(1, window), clock).unwrap_err(),
        ConfigError::WindowTooLong
    );
}

#[test]
fn a_clock_past_the_exact_range_denies_instead_of_admitting_everything() {
    // The arrival time of an admission would not fit in 64 bits: the limiter
    // cannot record it, so it refuses rather than admit without counting.
    let clock = ManualClock::new();
    let limiter = DirectLimiter::with_clock(Config::gcra(1, SECOND), clock.clone()).unwrap();
    clock.set_nanos(u64::MAX - 10);
    let admitted = (0..3).filter(|_| limiter.check().is_allowed()).count();
    assert_eq!(admitted, 0);
    assert_eq!(
        limiter.check(),
        Decision::Denied {
            retry_after: Duration::MAX
        }
    );
    // Asking for nothing consumes nothing and still answers.
    assert!(limiter.check_n(0).is_allowed());
}

#[test]
fn the_longest_accepted_window_is_exact() {
    let clock = ManualClock::new();
    let limiter =
        DirectLimiter::with_clock(Config::gcra(1, Config::MAX_WINDOW), clock.clone()).unwrap();
    assert_eq!(
        limiter.check(),
        Decision::Allowed {
            remaining: 0,
            reset_after: Config::MAX_WINDOW
        }
    );
    assert_eq!(
        limiter.check(),
        Decision::Denied {
            retry_after: Config::MAX_WINDOW
        }
    );
    clock.advance(Config::MAX_WINDOW - Duration::from_nanos(1));
    assert_eq!(
        limiter.check(),
        Decision::Denied {
            retry_after: Duration::from_nanos(1)
        }
    );
    // The clock now reads `MAX_WINDOW`; the arrival time this admission
    // records, `2 × MAX_WINDOW`, still fits in 64 bits.
    clock.advance(Duration::from_nanos(1));
    assert!(limiter.check().is_allowed());

    // The largest limit too: its burst span, rounded up to whole intervals,
    // is longer than the window and must not saturate.
    let limiter = DirectLimiter::with_clock(
        Config::gcra(u32::MAX, Config::MAX_WINDOW),
        ManualClock::new(),
    )
    .unwrap();
    assert!(matches!(
        limiter.check_n(u32::MAX),
        Decision::Allowed { remaining: 0, .. }
    ));
    assert!(!limiter.check().is_allowed());
}

#[test]
fn a_denial_far_ahead_reports_the_exact_wait() {
    // After a full burst the theoretical arrival time is a burst span ahead;
    // asking for a whole burst again adds another: more than 64 bits of
    // nanoseconds in all, which must not saturate into a wrong wait.
    let limiter = DirectLimiter::with_clock(
        Config::gcra(u32::MAX, Config::MAX_WINDOW),
        ManualClock::new(),
    )
    .unwrap();
    assert!(limiter.check_n(u32::MAX).is_allowed());
    // The interval is ⌈(2^63 - 1) / (2^32 - 1)⌉ = 2^31 + 1 ns, so the burst
    // span is (2^31 + 1)(2^32 - 1) = 2^63 + 2^31 - 1 ns.
    let burst_span = (1u64 << 63) + (1u64 << 31) - 1;
    assert_eq!(
        limiter.check_n(u32::MAX),
        Decision::Denied {
            retry_after: Duration::from_nanos(burst_span)
        }
    );
}
