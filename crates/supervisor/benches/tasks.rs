//! Spawn-and-complete throughput of the task supervisor against raw tokio.
//!
//! Each iteration starts a batch of trivial tasks and waits for all of them:
//! `spawn` (fire-and-forget, completion counted through a channel) against
//! `tokio::spawn` doing the same, and `async_nolink` + `await_timeout`
//! against `tokio::spawn` + awaiting the `JoinHandle`.
//!
//! ```sh
//! CARGO_TARGET_DIR=target cargo bench -p foundation-supervisor --bench tasks
//! ```

#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use foundation_supervisor::{TaskSupervisorOptions, TaskSupervisorRef};
use tokio::{runtime::Runtime, sync::mpsc};

const BATCH: usize = 1_000;
const WAIT: Duration = Duration::from_secs(5);

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

fn fire_and_forget(c: &mut Criterion) {
    let runtime = runtime();
    let (tasks, _handle) = runtime
        .block_on(TaskSupervisorRef::start(TaskSupervisorOptions::new()))
        .expect("starts");
    let mut group = c.benchmark_group("spawn_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("tokio_spawn", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (done, mut finished) = mpsc::channel::<()>(BATCH);
                for _ in 0..BATCH {
                    let done = done.clone();
                    tokio::spawn(async move { done.send(()).await.expect("bench waits") });
                }
                for _ in 0..BATCH {
                    finished.recv().await.expect("task reports");
                }
            });
        });
    });
    group.bench_function("task_supervisor_spawn", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (done, mut finished) = mpsc::channel::<()>(BATCH);
                for _ in 0..BATCH {
                    let done = done.clone();
                    tasks
                        .spawn(async move { done.send(()).await.expect("bench waits") })
                        .expect("spawned");
                }
                for _ in 0..BATCH {
                    finished.recv().await.expect("task reports");
                }
            });
        });
    });
    group.finish();
}

fn awaited(c: &mut Criterion) {
    let runtime = runtime();
    let (tasks, _handle) = runtime
        .block_on(TaskSupervisorRef::start(TaskSupervisorOptions::new()))
        .expect("starts");
    let mut group = c.benchmark_group("await_1000");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("tokio_spawn_join_handle", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let handles: Vec<_> = (0..BATCH).map(|n| tokio::spawn(async move { n })).collect();
                for handle in handles {
                    tokio::time::timeout(WAIT, handle)
                        .await
                        .expect("in time")
                        .expect("no panic");
                }
            });
        });
    });
    group.bench_function("task_supervisor_async_nolink", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let handles: Vec<_> = (0..BATCH)
                    .map(|n| tasks.async_nolink(async move { n }).expect("spawned"))
                    .collect();
                for handle in handles {
                    handle.await_timeout(WAIT).await.expect("value");
                }
            });
        });
    });
    group.finish();
}

criterion_group!(benches, fire_and_forget, awaited);
criterion_main!(benches);
