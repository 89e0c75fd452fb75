//! Unit tests of timeout scaling: large factors saturate at `Duration::MAX`
//! ("no limit") instead of panicking, tiny ones shrink.

use std::time::Duration;

use super::{Operation, TimeoutConfig, parse_factor};

const OPERATIONS: [Operation; 5] = [
    Operation::Call,
    Operation::Stop,
    Operation::Start,
    Operation::Shutdown,
    Operation::Delivery,
];

#[test]
fn a_huge_factor_saturates_the_defaults_at_no_limit() {
    let config = TimeoutConfig::new().with_factor(1e20);
    for operation in OPERATIONS {
        assert_eq!(config.timeout(operation), Duration::MAX, "{operation:?}");
    }
    assert_eq!(config.default_timeout(), Duration::MAX);
    assert_eq!(config.long(), Duration::MAX);
}

#[test]
fn the_environment_factor_1e20_saturates_instead_of_panicking() {
    // What `current()` does with `FOUNDATION_TIMEOUT_FACTOR=1e20`, without
    // touching the process's environment.
    let factor = parse_factor(Some(" 1e20 "));
    assert_eq!(factor, 1e20);
    let config = TimeoutConfig::new().with_factor(factor);
    assert_eq!(config.timeout(Operation::Call), Duration::MAX);
    assert_eq!(config.long(), Duration::MAX);
}

#[test]
fn the_environment_factor_ignores_what_is_not_finite_and_positive() {
    for text in [
        None,
        Some(""),
        Some("fast"),
        Some("0"),
        Some("-2"),
        Some("inf"),
        Some("NaN"),
    ] {
        assert_eq!(parse_factor(text), 1.0, "{text:?}");
    }
    assert_eq!(parse_factor(Some("2.5")), 2.5);
}

#[test]
fn duration_max_stays_max_when_scaled_up() {
    let config = TimeoutConfig::new()
        .with_override(Operation::Call, Duration::MAX)
        .with_default(Duration::MAX)
        .with_long(Duration::MAX)
        .with_factor(2.0);
    assert_eq!(config.timeout(Operation::Call), Duration::MAX);
    assert_eq!(config.timeout(Operation::Stop), Duration::MAX);
    assert_eq!(config.default_timeout(), Duration::MAX);
    assert_eq!(config.long(), Duration::MAX);
    // Even a factor barely above 1.
    let config = TimeoutConfig::new()
        .with_override(Operation::Delivery, Duration::MAX)
        .with_factor(1.000_000_1);
    assert_eq!(config.timeout(Operation::Delivery), Duration::MAX);
}

#[test]
fn a_large_timeout_that_still_fits_is_scaled_not_saturated() {
    let quarter = Duration::from_secs(u64::MAX / 4);
    let config = TimeoutConfig::new()
        .with_override(Operation::Call, quarter)
        .with_factor(2.0);
    let scaled = config.timeout(Operation::Call);
    assert!(scaled < Duration::MAX);
    assert!(
        scaled >= Duration::from_secs(u64::MAX / 2 - 1)
            && scaled <= Duration::from_secs(u64::MAX / 2 + 1)
    );
}

#[test]
fn tiny_factors_shrink_timeouts_without_panicking() {
    let config = TimeoutConfig::new().with_factor(1e-9);
    assert_eq!(config.timeout(Operation::Call), Duration::from_nanos(5));
    assert_eq!(config.long(), Duration::from_nanos(30));
    // Below a nanosecond, a timeout rounds to zero: it times out at once.
    for factor in [1e-12, f64::MIN_POSITIVE, 5e-324] {
        let config = TimeoutConfig::new().with_factor(factor);
        assert_eq!(
            config.timeout(Operation::Start),
            Duration::ZERO,
            "{factor:e}"
        );
        assert_eq!(config.long(), Duration::ZERO, "{factor:e}");
    }
    // `Duration::MAX` scaled down is a finite timeout: about 18.4 billion
    // seconds for a factor of 1e-9.
    let config = TimeoutConfig::new()
        .with_override(Operation::Stop, Duration::MAX)
        .with_factor(1e-9);
    let scaled = config.timeout(Operation::Stop);
    assert!(scaled > Duration::from_secs(18_000_000_000), "{scaled:?}");
    assert!(scaled < Duration::from_secs(19_000_000_000), "{scaled:?}");
}

#[test]
fn factor_one_and_ignored_factors_leave_timeouts_unchanged() {
    for factor in [1.0, 0.0, -1.0, f64::NAN, f64::INFINITY] {
        let config = TimeoutConfig::new()
            .with_override(Operation::Call, Duration::MAX)
            .with_factor(factor);
        assert_eq!(config.timeout(Operation::Call), Duration::MAX, "{factor}");
        assert_eq!(
            config.timeout(Operation::Stop),
            Duration::from_secs(5),
            "{factor}"
        );
    }
}
