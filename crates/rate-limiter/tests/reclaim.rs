//! Bounded memory: idle keys are reclaimed, and reclaiming never changes a
//! decision.

use std::time::Duration;

use foundation_rate_limiter::{Config, ManualClock, RateLimiter};

const SECOND: Duration = Duration::from_secs(1);

/// One million distinct keys, each used once, then idle: the limiter gives
/// its memory back. Run with `--nocapture` to see the numbers.
#[test]
fn a_million_idle_keys_are_reclaimed() {
    for config in [Config::fixed_window(10, SECOND), Config::gcra(10, SECOND)] {
        let clock = ManualClock::new();
        let limiter = RateLimiter::<u64, _>::with_clock(config, clock.clone()).unwrap();
        let empty = limiter.stats();
        for key in 0..1_000_000u64 {
            assert!(limiter.check(&key).is_allowed());
        }
        let full = limiter.stats();
        assert_eq!(full.keys, 1_000_000);
        clock.advance(SECOND);
        assert_eq!(limiter.retain_idle(), 1_000_000);
        let after = limiter.stats();
        println!(
            "{:?}: empty {} B; 1M keys {} B ({} entries); after reclaim {} B ({} entries)",
            config.algorithm(),
            empty.bytes,
            full.bytes,
            full.keys,
            after.bytes,
            after.keys,
        );
        assert_eq!(after.keys, 0);
        assert!(
            after.bytes <= empty.bytes + 64 * 1024,
            "{after:?} vs {empty:?}"
        );
    }
}

#[test]
fn growing_shards_sweep_idle_keys_without_being_asked() {
    let clock = ManualClock::new();
    let limiter =
        RateLimiter::<u64, _>::with_clock(Config::gcra(1, SECOND), clock.clone()).unwrap();
    // Each key is used once, then idle after a second; keep moving on.
    for second in 0..20u64 {
        for key in 0..10_000u64 {
            assert!(limiter.check(&(second * 10_000 + key)).is_allowed());
        }
        clock.advance(SECOND);
    }
    // 200,000 keys were seen; at most a couple of seconds' worth are held.
    let stats = limiter.stats();
    assert!(stats.keys < 60_000, "{stats:?}");
}

#[test]
fn busy_keys_are_kept_and_still_limited() {
    let clock = ManualClock::new();
    let limiter =
        RateLimiter::<u64, _>::with_clock(Config::fixed_window(2, SECOND), clock.clone()).unwrap();
    assert!(limiter.check_n(&1, 2).is_allowed());
    assert!(limiter.check(&2).is_allowed());
    clock.advance(Duration::from_millis(999));
    // Still in the window: nothing is idle, nothing removed.
    assert_eq!(limiter.retain_idle(), 0);
    assert!(!limiter.check(&1).is_allowed());
    clock.advance(Duration::from_millis(1));
    assert_eq!(limiter.retain_idle(), 2);
    assert!(limiter.check_n(&1, 2).is_allowed());
}

#[test]
fn a_reclaimed_gcra_key_comes_back_as_fresh_and_no_more() {
    let clock = ManualClock::new();
    let limiter =
        RateLimiter::<u64, _>::with_clock(Config::gcra(4, SECOND), clock.clone()).unwrap();
    assert!(limiter.check_n(&9, 4).is_allowed());
    clock.advance(Duration::from_millis(500));
    // Half drained: not idle, kept.
    assert_eq!(limiter.retain_idle(), 0);
    assert!(limiter.check_n(&9, 2).is_allowed());
    assert!(!limiter.check(&9).is_allowed());
    clock.advance(SECOND);
    assert_eq!(limiter.retain_idle(), 1);
    assert!(limiter.check_n(&9, 4).is_allowed());
    assert!(!limiter.check(&9).is_allowed());
}
