//! Criterion benchmarks against governor, in the same run: a single key
//! uncontended, a single key with two threads contending, and 1,000 keys.
//!
//! Run with `cargo bench -p foundation-rate-limiter --bench limiter`.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    hint::black_box,
    num::NonZeroU32,
    sync::Barrier,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use foundation_rate_limiter::{Config, DirectLimiter, InstantClock, RateLimiter};
use governor::Quota;

/// So generous that every check is admitted: the hot path is measured.
const PER_SECOND: u32 = 1_000_000_000;
const KEYS: u64 = 1_000;

fn quota() -> Quota {
    Quota::per_second(NonZeroU32::new(PER_SECOND).unwrap())
}

fn configs() -> [(&'static str, Config); 2] {
    [
        ("gcra", Config::gcra(PER_SECOND, Duration::from_secs(1))),
        (
            "fixed_window",
            Config::fixed_window(PER_SECOND, Duration::from_secs(1)),
        ),
    ]
}

fn single_key(c: &mut Criterion) {
    let mut group = c.benchmark_group("single_key");
    for (name, config) in configs() {
        let ours = DirectLimiter::new(config).unwrap();
        group.bench_function(format!("foundation_direct_{name}"), |b| {
            b.iter(|| black_box(ours.check()))
        });
    }
    // The same check on std's Instant, to show what the clock costs.
    let on_instant = DirectLimiter::with_clock(configs()[0].1, InstantClock::new()).unwrap();
    group.bench_function("foundation_direct_gcra_std_instant", |b| {
        b.iter(|| black_box(on_instant.check()))
    });
    let governor = governor::RateLimiter::direct(quota());
    group.bench_function("governor_direct", |b| {
        b.iter(|| black_box(governor.check()))
    });
    group.finish();
}

/// Two threads check the same key; the time is wall time per check per
/// thread, so it includes the cost of the contention.
fn contended<F: Fn() + Sync>(iters: u64, check: F) -> Duration {
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let began = Instant::now();
                    for _ in 0..iters {
                        check();
                    }
                    began.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .max()
            .unwrap()
    })
}

fn single_key_two_threads(c: &mut Criterion) {
    let mut group = c.benchmark_group("single_key_2_threads");
    for (name, config) in configs() {
        let ours = DirectLimiter::new(config).unwrap();
        group.bench_function(format!("foundation_direct_{name}"), |b| {
            b.iter_custom(|iters| {
                contended(iters, || {
                    black_box(ours.check());
                })
            })
        });
    }
    let governor = governor::RateLimiter::direct(quota());
    group.bench_function("governor_direct", |b| {
        b.iter_custom(|iters| {
            contended(iters, || {
                let _ = black_box(governor.check());
            })
        })
    });
    group.finish();
}

fn keyed(c: &mut Criterion) {
    let mut group = c.benchmark_group("keyed_1000_keys");
    for (name, config) in configs() {
        let ours = RateLimiter::<u64>::new(config).unwrap();
        let mut key = 0;
        group.bench_function(format!("foundation_keyed_{name}"), |b| {
            b.iter(|| {
                key = (key + 1) % KEYS;
                black_box(ours.check(&key))
            })
        });
    }
    let governor = governor::RateLimiter::keyed(quota());
    let mut key = 0u64;
    group.bench_function("governor_keyed", |b| {
        b.iter(|| {
            key = (key + 1) % KEYS;
            black_box(governor.check_key(&key))
        })
    });
    group.finish();
}

criterion_group!(benches, single_key, single_key_two_threads, keyed);
criterion_main!(benches);
