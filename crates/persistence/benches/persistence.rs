//! Persistent actors under criterion: a counter with no persistence, batched and write-through on redb; recovery of 1 and 10,000 actors.
//!
//! `cargo bench -p foundation-persistence --bench persistence -- --warm-up-time 1 --measurement-time 3`
//!
//! Every group runs its variants in the same run, on one current-thread
//! runtime, against the embedded store (redb) in a temporary directory.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    hint::black_box,
    path::Path,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use foundation_mailbox::{Actor, ActorRef, Context, ExitReason, Reply, start as start_plain};
use foundation_persistence::{
    Persistence, Persistent, PersistentActor, PersistentRef, RedbStore, SavePolicy, StateStore,
    codec, start,
};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

const PATIENCE: Duration = Duration::from_secs(10);
const CASTS: u64 = 100;

/// Both counters' message: add, and maybe answer with the total.
#[derive(Debug)]
enum Add {
    Cast(u64),
    Call(u64, Reply<u64>),
}

impl Add {
    /// Adds to `total` and answers a call.
    fn apply(self, total: &mut u64) {
        match self {
            Add::Cast(n) => *total += n,
            Add::Call(n, reply) => {
                *total += n;
                reply.send(*total).unwrap_or_default();
            }
        }
    }
}

/// The counter, as a plain actor: the floor persistence is measured against.
#[derive(Debug)]
struct PlainCounter(u64);

impl Actor for PlainCounter {
    type Args = ();
    type Msg = Add;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(PlainCounter(0))
    }

    async fn handle(&mut self, add: Add, _: &mut Context<Self>) -> Result<(), Self::Error> {
        add.apply(&mut self.0);
        Ok(())
    }
}

/// The same counter, persistent.
#[derive(Debug, Serialize, Deserialize)]
struct Counter(u64);

impl PersistentActor for Counter {
    type Args = ();
    type Msg = Add;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Counter(0))
    }

    async fn handle(
        &mut self,
        add: Add,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        add.apply(&mut self.0);
        Ok(())
    }
}

const BATCHED: SavePolicy = SavePolicy::Batched {
    every: 1000,
    within: Duration::from_millis(100),
};

/// One way of running the counter, behind one call and one cast.
enum Variant {
    Plain(ActorRef<PlainCounter>),
    Persistent(PersistentRef<Counter>),
}

impl Variant {
    async fn call(&self, add: u64) -> u64 {
        match self {
            Self::Plain(counter) => counter.call(|r| Add::Call(add, r), PATIENCE).await.unwrap(),
            Self::Persistent(counter) => {
                counter.call(|r| Add::Call(add, r), PATIENCE).await.unwrap()
            }
        }
    }

    async fn cast(&self, add: u64) {
        match self {
            Self::Plain(counter) => counter.cast(Add::Cast(add)).await.unwrap(),
            Self::Persistent(counter) => counter.cast(Add::Cast(add)).await.unwrap(),
        }
    }

    async fn stop(&self) {
        match self {
            Self::Plain(counter) => drop(counter.stop(ExitReason::shutdown(), PATIENCE).await),
            Self::Persistent(counter) => drop(counter.stop(ExitReason::shutdown(), PATIENCE).await),
        }
    }
}

async fn variant(name: &str, store: &RedbStore) -> Variant {
    match name {
        "no_persistence" => Variant::Plain(start_plain::<PlainCounter>(()).await.unwrap().0),
        "batched" => Variant::Persistent(
            start::<Counter>(
                (),
                Persistence::new(store.clone(), "bench/batched").policy(BATCHED),
            )
            .await
            .unwrap()
            .0,
        ),
        "on_terminate" => Variant::Persistent(
            start::<Counter>(
                (),
                Persistence::new(store.clone(), "bench/on_terminate")
                    .policy(SavePolicy::OnTerminate),
            )
            .await
            .unwrap()
            .0,
        ),
        _ => Variant::Persistent(
            start::<Counter>((), Persistence::new(store.clone(), "bench/write_through"))
                .await
                .unwrap()
                .0,
        ),
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn throughput(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("throughput.redb")).unwrap();

    let mut group = c.benchmark_group("counter_call");
    group.throughput(Throughput::Elements(1));
    for name in ["no_persistence", "on_terminate", "batched", "write_through"] {
        let counter = runtime.block_on(variant(name, &store));
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let began = Instant::now();
                    for _ in 0..iters {
                        black_box(counter.call(1).await);
                    }
                    began.elapsed()
                })
            });
        });
        runtime.block_on(counter.stop());
    }
    group.finish();

    let mut group = c.benchmark_group("counter_casts");
    group.throughput(Throughput::Elements(CASTS + 1));
    for name in ["no_persistence", "on_terminate", "batched", "write_through"] {
        let counter = runtime.block_on(variant(name, &store));
        group.bench_function(
            BenchmarkId::new(name, format!("{CASTS}_casts_then_a_call")),
            |b| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let began = Instant::now();
                        for _ in 0..iters {
                            for _ in 0..CASTS {
                                counter.cast(1).await;
                            }
                            black_box(counter.call(0).await);
                        }
                        began.elapsed()
                    })
                });
            },
        );
        runtime.block_on(counter.stop());
    }
    group.finish();
}

/// A store with `actors` saved counters under `recover/<n>`.
fn seeded(path: &Path, actors: usize) -> RedbStore {
    let store = RedbStore::open(path).unwrap();
    let runtime = runtime();
    runtime.block_on(async {
        for index in 0..actors {
            let key = format!("recover/{index}");
            let bytes = codec::encode(&key, 1, &Counter(index as u64)).unwrap();
            store.put(&key, bytes).await.unwrap();
        }
    });
    store
}

fn recovery(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("recovery");
    for actors in [1_usize, 10_000] {
        let store = seeded(&dir.path().join(format!("recover-{actors}.redb")), actors);
        let keys: Vec<String> = (0..actors)
            .map(|index| format!("recover/{index}"))
            .collect();
        group.throughput(Throughput::Elements(actors as u64));
        group.bench_function(BenchmarkId::new("start_with_saved_state", actors), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let mut started = Vec::with_capacity(actors);
                    spent += runtime.block_on(async {
                        let began = Instant::now();
                        for key in &keys {
                            let persistence = Persistence::new(store.clone(), key.as_str());
                            started.push(start::<Counter>((), persistence).await.unwrap());
                        }
                        began.elapsed()
                    });
                    // Dormant actors with no references are freed; not timed.
                    drop(started);
                }
                spent
            });
        });
    }
    group.finish();
}

criterion_group!(benches, throughput, recovery);
criterion_main!(benches);
