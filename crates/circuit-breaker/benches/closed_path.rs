//! The closed path's overhead: `breaker.call(|| async { .. })` beside the
//! same bare async call, in the same run (issue 19: target ≤ 50 ns over it),
//! and the same call while the window holds a failure (the locked path).
//!
//! Run with `cargo bench -p foundation-circuit-breaker --bench closed_path`.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use foundation_circuit_breaker::{CircuitBreaker, Clock, Config, ManualClock, MonotonicClock};

async fn bare(n: u64) -> Result<u64, ()> {
    Ok(black_box(n) + 1)
}

fn closed_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    let breaker =
        CircuitBreaker::<()>::new(Config::default()).expect("the default config is valid");
    let mut group = c.benchmark_group("closed_path");
    group.bench_function("bare_async_call", |b| {
        b.to_async(&runtime)
            .iter(|| async { bare(black_box(1)).await });
    });
    group.bench_function("breaker_call", |b| {
        b.to_async(&runtime)
            .iter(|| async { breaker.call(|| bare(black_box(1))).await.is_ok() });
    });
    // The same call while the window holds a failure (one call in 64
    // fails: far under the 50 % rate), so no success may skip the lock.
    let failing =
        CircuitBreaker::<()>::new(Config::default()).expect("the default config is valid");
    let count = std::cell::Cell::new(0u32);
    group.bench_function("breaker_call_failure_in_window", |b| {
        b.to_async(&runtime).iter(|| async {
            count.set(count.get().wrapping_add(1));
            let fail = count.get().is_multiple_of(64);
            failing
                .call(|| async move {
                    if fail {
                        Err(())
                    } else {
                        bare(black_box(1)).await
                    }
                })
                .await
                .is_ok()
        });
    });
    let manual = CircuitBreaker::<()>::new(Config::default())
        .expect("the default config is valid")
        .with_clock(ManualClock::new());
    group.bench_function("breaker_call_manual_clock", |b| {
        b.to_async(&runtime)
            .iter(|| async { manual.call(|| bare(black_box(1))).await.is_ok() });
    });
    let clock = MonotonicClock::new();
    group.bench_function("clock_read", |b| b.iter(|| black_box(clock.now())));
    group.bench_function("instant_read", |b| {
        b.iter(|| black_box(std::time::Instant::now()))
    });
    group.bench_function("permit_sync", |b| {
        b.iter(|| match breaker.try_acquire() {
            Ok(permit) => permit.success(),
            Err(rejected) => panic!("a closed breaker admits: {rejected}"),
        });
    });
    group.finish();
}

criterion_group!(benches, closed_path);
criterion_main!(benches);
