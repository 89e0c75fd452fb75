//! Unit tests of the admission rule's arithmetic: packing, wrapping, idleness.

use std::time::Duration;

use super::Rule;
use crate::{Config, Decision, sync::AtomicU64};

fn allowed(remaining: u32, reset_after: u64) -> Decision {
    Decision::Allowed {
        remaining,
        reset_after: Duration::from_nanos(reset_after),
    }
}

fn denied(retry_after: u64) -> Decision {
    Decision::Denied {
        retry_after: Duration::from_nanos(retry_after),
    }
}

#[test]
fn fixed_window_counts_and_resets_at_the_boundary() {
    let rule = Rule::new(Config::fixed_window(2, Duration::from_nanos(10)), "t").unwrap();
    let state = AtomicU64::new(rule.fresh_state(0));
    assert_eq!(rule.decide(&state, 0, 1), allowed(1, 10));
    assert_eq!(rule.decide(&state, 9, 1), allowed(0, 1));
    assert_eq!(rule.decide(&state, 9, 1), denied(1));
    assert_eq!(rule.decide(&state, 10, 2), allowed(0, 10));
}

#[test]
fn a_late_clock_reading_counts_in_the_later_window() {
    let rule = Rule::new(Config::fixed_window(1, Duration::from_nanos(10)), "t").unwrap();
    let state = AtomicU64::new(rule.fresh_state(0));
    assert!(rule.decide(&state, 12, 1).is_allowed());
    // A thread that read the clock at 8 (window 0) is counted in window 1,
    // which is full.
    assert_eq!(rule.decide(&state, 8, 1), denied(12));
}

#[test]
fn window_index_wraps_without_confusion() {
    // limit u32::MAX leaves 32 bits for the window index.
    let rule = Rule::new(Config::fixed_window(u32::MAX, Duration::from_nanos(1)), "t").unwrap();
    let start = (1u64 << 32) - 1;
    let state = AtomicU64::new(rule.fresh_state(start));
    assert!(rule.decide(&state, start, u32::MAX).is_allowed());
    assert!(!rule.decide(&state, start, 1).is_allowed());
    // The next window's index wraps to 0 in the state; still a new window.
    assert!(rule.decide(&state, start + 1, u32::MAX).is_allowed());
    assert!(!rule.decide(&state, start, 1).is_allowed());
    assert!(rule.is_idle(state.load(std::sync::atomic::Ordering::Relaxed), start + 2));
}

#[test]
fn gcra_rounds_the_interval_up() {
    // 3 per 10 ns: an interval of 4 ns, a burst span of 12 ns.
    let rule = Rule::new(Config::gcra(3, Duration::from_nanos(10)), "t").unwrap();
    let state = AtomicU64::new(rule.fresh_state(0));
    assert_eq!(rule.decide(&state, 0, 3), allowed(0, 12));
    assert_eq!(rule.decide(&state, 0, 1), denied(4));
    assert_eq!(rule.decide(&state, 4, 1), allowed(0, 12));
    assert!(!rule.is_idle(16, 15));
    assert!(rule.is_idle(16, 16));
}

#[test]
fn zero_requests_consume_nothing() {
    let rule = Rule::new(Config::gcra(2, Duration::from_nanos(10)), "t").unwrap();
    let state = AtomicU64::new(rule.fresh_state(0));
    assert_eq!(rule.decide(&state, 0, 0), allowed(2, 0));
    assert_eq!(rule.decide(&state, 0, 2), allowed(0, 10));
    assert_eq!(rule.denied(), 0);
}
