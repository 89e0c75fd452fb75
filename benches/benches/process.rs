//! The process core against the tokio floor and the peer frameworks, same run.
#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items
//!
//! Three groups, each with the same work for every contender:
//! - `cast_throughput`: 1,000,000 `u64` messages from one producer to one
//!   consumer, mailbox/channel capacity 1,024, then one request to confirm
//!   all were handled;
//! - `call_round_trip`: 100,000 sequential request/reply round trips;
//! - `start_stop`: start an actor (its init done) and stop it (its exit
//!   seen), beside two floors: a bare task spawned and joined, and a task
//!   owning a bounded mpsc receiver that says when it runs and is stopped
//!   by closing its channel.
//!
//! Run: `cargo bench -p foundation-benches --bench process`.

use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use foundation_benches::{
    FLAVORS, actix_counter, foundation_counter, kameo_counter, on_task, ractor_counter, runtime,
    workloads,
};
use foundation_mailbox::{ExitReason, start};

const MESSAGES: u64 = 1_000_000;
/// What a consumer of `0..MESSAGES` totals: checked so no message is lost.
const CAST_TOTAL: u64 = workloads::cast_total(MESSAGES);
const ROUND_TRIPS: u64 = 100_000;
const CAPACITY: usize = workloads::CAPACITY;
const PATIENCE: Duration = Duration::from_secs(60);

/// Runs `work` `iters` times in a row and returns how long that took.
async fn repeat<F, Fut>(iters: u64, mut work: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let started = Instant::now();
    for _ in 0..iters {
        work().await;
    }
    started.elapsed()
}

/// Benchmarks `work` as `name`, timed from a task on `runtime` ([`on_task`]).
fn bench_on_task<F, Fut>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: String,
    runtime: &tokio::runtime::Runtime,
    work: F,
) where
    F: FnMut() -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| on_task(runtime, repeat(iters, work.clone())))
    });
}

/// Benchmarks `work` as `name`, timed from the runtime's `block_on` future
/// itself, which tokio polls only once its run queue is empty.
fn bench_from_block_on<F, Fut>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    work: F,
) where
    F: FnMut() -> Fut + Clone,
    Fut: Future<Output = ()>,
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| runtime.block_on(repeat(iters, work.clone())))
    });
}

/// Benchmarks `work` as `actix`, timed from a task on actix's own
/// single-threaded system.
fn bench_on_actix<F, Fut>(group: &mut BenchmarkGroup<'_, WallTime>, work: F)
where
    F: FnMut() -> Fut + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    group.bench_function("actix", |b| {
        let system = actix::System::new();
        b.iter_custom(|iters| {
            let work = work.clone();
            system.block_on(async move {
                actix::spawn(repeat(iters, work))
                    .await
                    .expect("the benchmark task finishes")
            })
        })
    });
}

fn cast_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("cast_throughput");
    group.throughput(Throughput::Elements(MESSAGES));
    group.sample_size(10);
    cast_throughput_on_tokio(&mut group);
    cast_throughput_on_actix(&mut group);
    group.finish();
}

fn cast_throughput_on_tokio(group: &mut BenchmarkGroup<'_, WallTime>) {
    for flavor in FLAVORS {
        let rt = runtime(flavor);

        bench_on_task(group, format!("tokio_mpsc_floor/{flavor}"), &rt, || {
            workloads::tokio_casts(MESSAGES)
        });

        bench_on_task(group, format!("foundation/{flavor}"), &rt, || {
            workloads::foundation_casts(MESSAGES)
        });

        bench_on_task(group, format!("ractor/{flavor}"), &rt, || async {
            let (counter, handle) = ractor_counter::start().await;
            for n in 0..MESSAGES {
                counter
                    .cast(ractor_counter::Message::Add(n))
                    .expect("counter alive");
            }
            let total =
                ractor::call!(counter, ractor_counter::Message::Get).expect("counter answers");
            assert_eq!(total, CAST_TOTAL);
            ractor_counter::stop((counter, handle)).await;
        });

        bench_on_task(group, format!("kameo/{flavor}"), &rt, || async {
            let counter = kameo_counter::start(CAPACITY);
            for n in 0..MESSAGES {
                counter
                    .tell(kameo_counter::Add(n))
                    .await
                    .expect("counter alive");
            }
            let total = counter
                .ask(kameo_counter::Get)
                .await
                .expect("counter answers");
            assert_eq!(total, CAST_TOTAL);
            kameo_counter::stop(&counter).await;
        });
    }
}

fn cast_throughput_on_actix(group: &mut BenchmarkGroup<'_, WallTime>) {
    // actix runs its actors on the sender's own single-threaded arbiter.
    bench_on_actix(group, || async {
        use actix::Actor;
        let counter = actix_counter::Counter::default().start();
        for n in 0..MESSAGES {
            counter.do_send(actix_counter::Add(n));
        }
        let total = counter
            .send(actix_counter::Get)
            .await
            .expect("counter answers");
        assert_eq!(total, CAST_TOTAL);
        counter
            .send(actix_counter::Stop)
            .await
            .expect("counter stops");
    });
}

fn call_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("call_round_trip");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    group.sample_size(10);
    call_round_trip_on_tokio(&mut group);
    call_round_trip_from_block_on(&mut group);
    call_round_trip_on_actix(&mut group);
    group.finish();
}

fn call_round_trip_on_tokio(group: &mut BenchmarkGroup<'_, WallTime>) {
    for flavor in FLAVORS {
        let rt = runtime(flavor);

        bench_on_task(
            group,
            format!("tokio_mpsc_oneshot_floor/{flavor}"),
            &rt,
            || workloads::tokio_round_trips(ROUND_TRIPS),
        );

        bench_on_task(group, format!("foundation/{flavor}"), &rt, || {
            workloads::foundation_round_trips(ROUND_TRIPS)
        });

        bench_on_task(group, format!("ractor/{flavor}"), &rt, || async {
            let (counter, handle) = ractor_counter::start().await;
            for _ in 0..ROUND_TRIPS {
                ractor::call!(counter, ractor_counter::Message::Get).expect("counter answers");
            }
            ractor_counter::stop((counter, handle)).await;
        });

        bench_on_task(group, format!("kameo/{flavor}"), &rt, || async {
            let counter = kameo_counter::start(CAPACITY);
            for _ in 0..ROUND_TRIPS {
                counter
                    .ask(kameo_counter::Get)
                    .await
                    .expect("counter answers");
            }
            kameo_counter::stop(&counter).await;
        });
    }
}

/// The same calls made by the runtime's `block_on` future rather than a
/// task. tokio polls that future only once its run queue is empty, so an
/// idle callee always goes dormant before the next call and each call pays
/// for a new activation: the one setting where dormancy costs time.
fn call_round_trip_from_block_on(group: &mut BenchmarkGroup<'_, WallTime>) {
    let rt = runtime("current_thread");
    bench_from_block_on(group, "tokio_mpsc_oneshot_floor/from_block_on", &rt, || {
        workloads::tokio_round_trips(ROUND_TRIPS)
    });
    bench_from_block_on(group, "foundation/from_block_on", &rt, || {
        workloads::foundation_round_trips(ROUND_TRIPS)
    });
}

fn call_round_trip_on_actix(group: &mut BenchmarkGroup<'_, WallTime>) {
    bench_on_actix(group, || async {
        use actix::Actor;
        let counter = actix_counter::Counter::default().start();
        for _ in 0..ROUND_TRIPS {
            counter
                .send(actix_counter::Get)
                .await
                .expect("counter answers");
        }
        counter
            .send(actix_counter::Stop)
            .await
            .expect("counter stops");
    });
}

fn start_stop(c: &mut Criterion) {
    let mut group = c.benchmark_group("start_stop");
    group.sample_size(20);
    start_stop_on_tokio(&mut group);
    start_stop_on_actix(&mut group);
    group.finish();
}

fn start_stop_on_tokio(group: &mut BenchmarkGroup<'_, WallTime>) {
    for flavor in FLAVORS {
        let rt = runtime(flavor);

        bench_on_task(
            group,
            format!("tokio_spawn_join_floor/{flavor}"),
            &rt,
            || async {
                // audit:allow(FND001) benchmark floor: a raw task is what is being measured
                tokio::spawn(async {}).await.expect("joins")
            },
        );

        // The floor an actor is usually measured against: a hand-rolled
        // tokio actor, a task that owns a bounded mpsc receiver (as the
        // ring's and the idle-memory floors do). As an actor's start does,
        // it says when it is running (a oneshot), and it is stopped by
        // closing its channel, its end joined.
        bench_on_task(
            group,
            format!("tokio_mpsc_task_floor/{flavor}"),
            &rt,
            || async {
                let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(CAPACITY);
                let (started_tx, started) = tokio::sync::oneshot::channel();
                // audit:allow(FND001) benchmark floor: a raw task is what is being measured
                let task = tokio::spawn(async move {
                    started_tx.send(()).expect("the starter waits");
                    while rx.recv().await.is_some() {}
                });
                started.await.expect("the task runs");
                drop(tx);
                task.await.expect("joins")
            },
        );

        bench_on_task(group, format!("foundation/{flavor}"), &rt, || async {
            let (counter, _handle) = start::<foundation_counter::Counter>(())
                .await
                .expect("starts");
            counter
                .stop(ExitReason::Normal, PATIENCE)
                .await
                .expect("stops");
        });

        bench_on_task(group, format!("ractor/{flavor}"), &rt, || async {
            let (counter, handle) = ractor_counter::start().await;
            ractor_counter::stop((counter, handle)).await;
        });

        bench_on_task(group, format!("kameo/{flavor}"), &rt, || async {
            let counter = kameo_counter::start(CAPACITY);
            counter.wait_for_startup().await;
            kameo_counter::stop(&counter).await;
        });
    }
}

fn start_stop_on_actix(group: &mut BenchmarkGroup<'_, WallTime>) {
    // actix has no join on an actor's end: this measures start plus a stop
    // request answered, which is less work than the others do.
    bench_on_actix(group, || async {
        use actix::Actor;
        let counter = actix_counter::Counter::default().start();
        counter.send(actix_counter::Stop).await.expect("stops");
    });
}

criterion_group!(benches, cast_throughput, call_round_trip, start_stop);
criterion_main!(benches);
