//! Supervision against the plain process core and kameo, same run.
#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items
//!
//! - `restart_latency`: from a child's panic to the restarted child
//!   answering a request, one restart per iteration, for Foundation's
//!   supervisor and kameo's built-in supervised restart. A second pass
//!   times 1,000 restarts one by one and prints their median and p99.
//! - `dynamic_start`: 10,000 children started under a dynamic supervisor,
//!   against 10,000 plain actor starts.
//!
//! The panic hook is silenced for the whole run: printing a panic message
//! costs more than the restart itself and is not what is compared.
//!
//! Run: `cargo bench -p foundation-benches --bench supervision`.

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use foundation_benches::{FLAVORS, on_task, restarts, runtime};

const RESTARTS: usize = 1_000;
const CHILDREN: usize = 10_000;
const PATIENCE: Duration = Duration::from_secs(60);

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    println!(
        "restart_latency/{name}: {} restarts, median {:?}, p99 {:?}",
        samples.len(),
        percentile(&samples, 0.5),
        percentile(&samples, 0.99)
    );
}

fn restart_latency(c: &mut Criterion) {
    std::panic::set_hook(Box::new(|_| {}));
    let mut group = c.benchmark_group("restart_latency");
    for flavor in FLAVORS {
        let runtime = runtime(flavor);
        let tree = on_task(&runtime, async { restarts::start_tree().await });
        let (parent, child) = on_task(&runtime, restarts::kameo::start());
        group.bench_function(format!("foundation/{flavor}"), |b| {
            b.iter_custom(|iters| {
                let tree = tree.clone();
                on_task(&runtime, async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += restarts::restart(&tree).await;
                    }
                    total
                })
            })
        });
        group.bench_function(format!("kameo/{flavor}"), |b| {
            b.iter_custom(|iters| {
                let child = child.clone();
                on_task(&runtime, async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += restarts::kameo::restart(&child).await;
                    }
                    total
                })
            })
        });
        let samples = {
            let (tree, child) = (tree.clone(), child.clone());
            on_task(&runtime, async move {
                let mut ours = Vec::with_capacity(RESTARTS);
                let mut theirs = Vec::with_capacity(RESTARTS);
                for _ in 0..RESTARTS {
                    ours.push(restarts::restart(&tree).await);
                    theirs.push(restarts::kameo::restart(&child).await);
                }
                (ours, theirs)
            })
        };
        report(&format!("foundation/{flavor}"), samples.0);
        report(&format!("kameo/{flavor}"), samples.1);
        on_task(&runtime, async move {
            tree.shutdown(PATIENCE).await.expect("tree stops");
            restarts::kameo::stop(parent).await;
        });
    }
    group.finish();
    let _ = std::panic::take_hook();
}

fn dynamic_start(c: &mut Criterion) {
    let runtime = runtime("current_thread");
    let mut group = c.benchmark_group("dynamic_start");
    group.throughput(Throughput::Elements(CHILDREN as u64));
    group.sample_size(10);
    // Driven from a task, as every other bench is (it was timed from
    // `block_on` itself; the figures are the same either way).
    group.bench_function("plain_start", |b| {
        b.iter_custom(|iters| {
            on_task(&runtime, async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += restarts::plain_starts(CHILDREN).await;
                }
                total
            })
        })
    });
    group.bench_function("dynamic_supervisor", |b| {
        b.iter_custom(|iters| {
            on_task(&runtime, async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += restarts::dynamic_starts(CHILDREN).await;
                }
                total
            })
        })
    });
    group.finish();
}

criterion_group!(benches, restart_latency, dynamic_start);
criterion_main!(benches);
