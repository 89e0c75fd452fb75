//! Casts from four producer tasks to one consumer (issue 24), beside the
//! tokio floor (one bounded mpsc channel, four cloned senders) and the
//! peers, same run.
#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items
//!
//! 1,000,000 `u64` messages in all, 250,000 per producer, capacity 1,024,
//! then one request to confirm all were handled.
//!
//! Run: `cargo bench -p foundation-benches --bench producers`.

use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use foundation_benches::{
    FLAVORS, foundation_counter, kameo_counter, on_task, ractor_counter, runtime, workloads,
};
use foundation_mailbox::{ActorOptions, ExitReason, start_with};
use futures::future::join_all;

const PRODUCERS: u64 = 4;
const MESSAGES: u64 = 1_000_000;
const EACH: u64 = MESSAGES / PRODUCERS;
/// What a consumer of every producer's `0..EACH` totals.
const TOTAL: u64 = PRODUCERS * EACH * (EACH - 1) / 2;
const CAPACITY: usize = workloads::CAPACITY;
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs `produce(producer)` on `PRODUCERS` tasks at once and waits for all.
async fn producers<F, Fut>(produce: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // audit:allow(FND001) the benchmark's producer tasks, joined right here
    let tasks = (0..PRODUCERS).map(|_| tokio::spawn(produce()));
    for finished in join_all(tasks).await {
        finished.expect("a producer finishes");
    }
}

fn cast_from_four(c: &mut Criterion) {
    let mut group = c.benchmark_group("cast_from_four_producers");
    group.throughput(Throughput::Elements(MESSAGES));
    group.sample_size(10);
    for flavor in FLAVORS {
        let rt = runtime(flavor);
        floor(&mut group, flavor, &rt);
        foundation(&mut group, flavor, &rt);
        ractor(&mut group, flavor, &rt);
        kameo(&mut group, flavor, &rt);
    }
    group.finish();
}

fn floor(group: &mut BenchmarkGroup<'_, WallTime>, flavor: &str, rt: &tokio::runtime::Runtime) {
    group.bench_function(format!("tokio_mpsc_floor/{flavor}"), |b| {
        b.iter_custom(|iters| {
            on_task(rt, async move {
                let started = Instant::now();
                for _ in 0..iters {
                    let (tx, done_rx) = workloads::tokio_totaller();
                    producers(|| {
                        let tx = tx.clone();
                        async move {
                            for n in 0..EACH {
                                tx.send(n).await.expect("consumer alive");
                            }
                        }
                    })
                    .await;
                    drop(tx);
                    assert_eq!(done_rx.await.expect("consumer reports"), TOTAL);
                }
                started.elapsed()
            })
        })
    });
}

fn foundation(
    group: &mut BenchmarkGroup<'_, WallTime>,
    flavor: &str,
    rt: &tokio::runtime::Runtime,
) {
    group.bench_function(format!("foundation/{flavor}"), |b| {
        b.iter_custom(|iters| {
            on_task(rt, async move {
                let started = Instant::now();
                for _ in 0..iters {
                    let options = ActorOptions::new().capacity(CAPACITY);
                    let (counter, _handle) = start_with::<foundation_counter::Counter>((), options)
                        .await
                        .expect("counter starts");
                    producers(|| {
                        let counter = counter.clone();
                        async move {
                            for n in 0..EACH {
                                counter
                                    .cast(foundation_counter::Msg::Add(n))
                                    .await
                                    .expect("counter alive");
                            }
                        }
                    })
                    .await;
                    let total = counter
                        .call(foundation_counter::Msg::Get, PATIENCE)
                        .await
                        .expect("counter answers");
                    assert_eq!(total, TOTAL);
                    counter
                        .stop(ExitReason::Normal, PATIENCE)
                        .await
                        .expect("counter stops");
                }
                started.elapsed()
            })
        })
    });
}

fn ractor(group: &mut BenchmarkGroup<'_, WallTime>, flavor: &str, rt: &tokio::runtime::Runtime) {
    group.bench_function(format!("ractor/{flavor}"), |b| {
        b.iter_custom(|iters| {
            on_task(rt, async move {
                let started = Instant::now();
                for _ in 0..iters {
                    let (counter, handle) = ractor_counter::start().await;
                    producers(|| {
                        let counter = counter.clone();
                        async move {
                            for n in 0..EACH {
                                counter
                                    .cast(ractor_counter::Message::Add(n))
                                    .expect("counter alive");
                            }
                        }
                    })
                    .await;
                    let total = ractor::call!(counter, ractor_counter::Message::Get)
                        .expect("counter answers");
                    assert_eq!(total, TOTAL);
                    ractor_counter::stop((counter, handle)).await;
                }
                started.elapsed()
            })
        })
    });
}

fn kameo(group: &mut BenchmarkGroup<'_, WallTime>, flavor: &str, rt: &tokio::runtime::Runtime) {
    group.bench_function(format!("kameo/{flavor}"), |b| {
        b.iter_custom(|iters| {
            on_task(rt, async move {
                let started = Instant::now();
                for _ in 0..iters {
                    let counter = kameo_counter::start(CAPACITY);
                    producers(|| {
                        let counter = counter.clone();
                        async move {
                            for n in 0..EACH {
                                counter
                                    .tell(kameo_counter::Add(n))
                                    .await
                                    .expect("counter alive");
                            }
                        }
                    })
                    .await;
                    let total = counter
                        .ask(kameo_counter::Get)
                        .await
                        .expect("counter answers");
                    assert_eq!(total, TOTAL);
                    kameo_counter::stop(&counter).await;
                }
                started.elapsed()
            })
        })
    });
}

criterion_group!(benches, cast_from_four);
criterion_main!(benches);
