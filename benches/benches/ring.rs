//! A ring of 1,000 actors passing one token (issue 24): each hop is a cast
//! to an idle actor, the shape of a pipeline through many actors.
#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items
//!
//! Each sample starts a ring (untimed), lets it settle so every actor is
//! idle, then times laps of 100 × 1,000 hops; the throughput is hops per
//! second, so criterion's time per element is the time per hop. The floor
//! is a ring of tokio tasks, each owning a bounded mpsc receiver.
//! `foundation-mixed` is Foundation's ring through actors of two types
//! taking turns, where no hop can hand its task to the next actor.
//!
//! Run: `cargo bench -p foundation-benches --bench ring`.

use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use foundation_benches::{
    FLAVORS, on_task,
    ring::{
        actix_ring, foundation_mixed_ring, foundation_ring, kameo_ring, ractor_ring, tokio_ring,
    },
    runtime,
};

const SIZE: usize = 1_000;
const HOPS: u64 = 100 * SIZE as u64;
const CAPACITY: usize = 1_024;

/// Lets what the ring's set-up woke go idle again.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

/// Benches one contender on `$runtime`: starts its ring (untimed), lets it
/// settle, times `iters` laps, then stops it.
macro_rules! contender {
    ($group:expr, $name:expr, $runtime:expr, $start:expr, $contender:ident) => {
        bench($group, $name, $runtime, |iters| async move {
            let ring = $start;
            settle().await;
            let started = Instant::now();
            for _ in 0..iters {
                $contender::lap(&ring, HOPS).await;
            }
            let elapsed = started.elapsed();
            $contender::stop(ring).await;
            elapsed
        })
    };
}

fn ring(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring");
    group.throughput(Throughput::Elements(HOPS));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    for flavor in FLAVORS {
        let runtime = runtime(flavor);
        let group = &mut group;
        let name = |contender: &str| format!("{contender}/{flavor}");
        contender!(
            group,
            name("tokio"),
            &runtime,
            tokio_ring::start(SIZE, CAPACITY),
            tokio_ring
        );
        contender!(
            group,
            name("foundation"),
            &runtime,
            foundation_ring::start(SIZE, CAPACITY).await,
            foundation_ring
        );
        contender!(
            group,
            name("foundation-mixed"),
            &runtime,
            foundation_mixed_ring::start(SIZE, CAPACITY).await,
            foundation_mixed_ring
        );
        contender!(
            group,
            name("ractor"),
            &runtime,
            ractor_ring::start(SIZE).await,
            ractor_ring
        );
        contender!(
            group,
            name("kameo"),
            &runtime,
            kameo_ring::start(SIZE, CAPACITY).await,
            kameo_ring
        );
    }
    // actix runs its actors on the driver's own single-threaded arbiter.
    group.bench_function("actix/current_thread", |b| {
        let system = actix::System::new();
        b.iter_custom(|iters| {
            system.block_on(async move {
                actix::spawn(async move {
                    let ring = actix_ring::start(SIZE);
                    settle().await;
                    let started = Instant::now();
                    for _ in 0..iters {
                        actix_ring::lap(&ring, HOPS).await;
                    }
                    started.elapsed()
                })
                .await
                .expect("the benchmark task finishes")
            })
        })
    });
    group.finish();
}

/// Times `work(iters)` from a task on `runtime`; `work` times itself, so
/// setting the ring up and down is not counted.
fn bench<F, Fut>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: String,
    runtime: &tokio::runtime::Runtime,
    work: F,
) where
    F: Fn(u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Duration> + Send + 'static,
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| on_task(runtime, work(iters)))
    });
}

criterion_group!(benches, ring);
criterion_main!(benches);
