//! What a workflow costs: start to first step, step to step (the save
//! between them included) on redb and in memory, and the memory of 10,000
//! waiting workflows, with and without passivation.
//!
//! `cargo bench -p foundation-coordinator --bench workflows -- --warm-up-time 1 --measurement-time 3`
//!
//! On one current-thread runtime; redb in a temporary directory. The
//! memory figure is the growth of the resident set per workflow (Linux's
//! `/proc/self/status`), printed once before the timed groups; each
//! variant runs in a fresh runtime, passivation on first.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use foundation_coordinator::{Coordinator, Retry, Step, StepError, Workflow};
use foundation_persistence::{MemoryStore, RedbStore, StateStore};
use tokio::{runtime::Runtime, sync::mpsc};

const PATIENCE: Duration = Duration::from_secs(60);

/// This process's resident memory, in bytes (Linux; 0 elsewhere).
fn resident() -> isize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|kb| {
            kb.trim()
                .trim_end_matches(" kB")
                .trim()
                .parse::<isize>()
                .ok()
        })
        .map_or(0, |kb| kb * 1024)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A workflow whose two steps report when they begin.
fn timed(name: &'static str, begun: &mpsc::UnboundedSender<Instant>) -> Workflow {
    let step = |label: &'static str| {
        let begun = begun.clone();
        Step::new(label, move |_| {
            let sent = begun.send(Instant::now());
            async move {
                sent.map_err(StepError::permanent)?;
                Ok(Vec::new())
            }
        })
    };
    Workflow::new(name).step(step("first")).step(step("second"))
}

async fn measure(
    coordinator: &Coordinator,
    begun: &mut mpsc::UnboundedReceiver<Instant>,
    id: &str,
) -> (Duration, Duration) {
    let start = Instant::now();
    coordinator
        .start_workflow("timed", id, Vec::new())
        .await
        .unwrap();
    let first = begun.recv().await.unwrap();
    let second = begun.recv().await.unwrap();
    coordinator.wait(id, PATIENCE).await.unwrap();
    (first - start, second - first)
}

fn latencies(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    for (label, redb) in [("memory", false), ("redb", true)] {
        let (tx, mut begun) = mpsc::unbounded_channel();
        let coordinator = rt.block_on(async {
            let definitions = [timed("timed", &tx)];
            if redb {
                let store = RedbStore::open(dir.path().join("bench.redb")).unwrap();
                Coordinator::start(store, definitions).await.unwrap()
            } else {
                Coordinator::start(MemoryStore::new(), definitions)
                    .await
                    .unwrap()
            }
        });
        let mut next = 0_u64;
        let mut group = c.benchmark_group(format!("workflow_{label}"));
        group.bench_function("start_to_first_step", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        next += 1;
                        total += measure(&coordinator, &mut begun, &format!("s{next}"))
                            .await
                            .0;
                    }
                    total
                })
            });
        });
        group.bench_function("step_to_step", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        next += 1;
                        total += measure(&coordinator, &mut begun, &format!("s{next}"))
                            .await
                            .1;
                    }
                    total
                })
            });
        });
        group.finish();
        rt.block_on(coordinator.shutdown(PATIENCE)).unwrap();
    }
}

/// Live bytes per workflow for 10,000 workflows waiting an hour on a retry.
fn waiting_memory(passivate: bool) -> f64 {
    const WORKFLOWS: usize = 10_000;
    let rt = runtime();
    rt.block_on(async {
        let hour = Duration::from_secs(3_600);
        let job = Workflow::new("job").step(
            Step::new("fetch", |ctx| async move {
                match ctx.attempt() {
                    1 => Err(StepError::retryable("later")),
                    _ => Ok(Vec::new()),
                }
            })
            .retry(Retry::exponential(2, hour, hour)),
        );
        let store = MemoryStore::new();
        let passivate_after = passivate.then_some(Duration::from_secs(60));
        let coordinator = Coordinator::start_with(store.clone(), [job], passivate_after).await.unwrap();
        let before = resident();
        for n in 0..WORKFLOWS {
            let id = format!("w{n:05}");
            coordinator.start_workflow("job", &id, Vec::new()).await.unwrap();
            // With passivation, one at a time, each until its process is
            // gone: the resident set then grows by what stays, not by a
            // peak of processes about to passivate.
            while passivate && coordinator.running_processes() > 0 {
                tokio::task::yield_now().await;
            }
        }
        // Until every first attempt has failed and is waiting.
        for n in 0..WORKFLOWS {
            while coordinator.status(&format!("w{n:05}")).await.unwrap().failures.is_empty() {
                tokio::task::yield_now().await;
            }
        }
        let stored: usize = {
            let mut bytes = 0;
            for listed in store.list("").await.unwrap() {
                bytes += store.get(&listed.key).await.unwrap().map_or(0, |entry| entry.value.len());
            }
            bytes
        };
        let grown = resident() - before;
        println!(
            "10,000 waiting workflows, passivation {}: {} resident bytes per workflow ({} of them the stored records' bytes), {} processes",
            if passivate { "on" } else { "off" },
            grown / WORKFLOWS as isize,
            stored / WORKFLOWS,
            coordinator.running_processes()
        );
        grown as f64 / WORKFLOWS as f64
    })
}

fn memory(_: &mut Criterion) {
    // Passivation on first: the process has freed nothing yet that the
    // allocator could hand back, so its growth is all its own.
    waiting_memory(true);
    waiting_memory(false);
}

criterion_group!(benches, memory, latencies);
criterion_main!(benches);
