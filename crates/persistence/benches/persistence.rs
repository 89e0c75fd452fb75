//! Persistent actors under criterion: a counter with no persistence, batched and write-through on redb; PostgreSQL beside redb (write-through save latency, batched and concurrent throughput); recovery of 1 and 10,000 actors on both.
//!
//! `bash .ci/postgres cargo bench -p foundation-persistence --bench persistence -- --warm-up-time 1 --measurement-time 3`
//!
//! Every group runs its variants in the same run, on one current-thread
//! runtime, against the embedded store (redb) in a temporary directory
//! and, when `FOUNDATION_TEST_POSTGRES_URL` is set (`bash .ci/postgres`
//! sets it), PostgreSQL on loopback in a schema of the bench's own.
//! Without the URL the PostgreSQL variants are left out, and it says so.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use foundation_mailbox::{Actor, ActorRef, Context, ExitReason, Reply, start as start_plain};
use foundation_persistence::{
    Persistence, Persistent, PersistentActor, PersistentRef, PostgresStore, RedbStore, SavePolicy,
    StateStore, Store, Tracked, codec, postgres::testing::TestSchema, start,
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
        state: &mut Tracked<'_, Self>,
        add: Add,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        add.apply(&mut state.0);
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

/// The stores compared: redb in a temporary directory, and PostgreSQL on
/// loopback when the environment names a server.
struct Stores {
    _dir: tempfile::TempDir,
    redb: RedbStore,
    postgres: Option<(PostgresStore, TestSchema)>,
}

impl Stores {
    fn open(runtime: &Runtime) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let redb = RedbStore::open(dir.path().join("stores.redb")).unwrap();
        let postgres = TestSchema::create("bench::persistence").map(|schema| {
            let store = runtime
                .block_on(PostgresStore::open(schema.config()))
                .unwrap();
            (store, schema)
        });
        Self {
            _dir: dir,
            redb,
            postgres,
        }
    }

    fn each(&self) -> Vec<(&'static str, Store)> {
        let mut stores = vec![("redb", Store::new(self.redb.clone()))];
        if let Some((postgres, _)) = &self.postgres {
            stores.push(("postgres", Store::new(postgres.clone())));
        }
        stores
    }

    fn close(self, runtime: &Runtime) {
        if let Some((store, schema)) = self.postgres {
            drop(store);
            runtime.block_on(schema.drop_schema());
        }
    }
}

/// Starts a counter on `store` under `key` with `policy`.
async fn counter_on(store: &Store, key: &str, policy: SavePolicy) -> Variant {
    let persistence = Persistence::new(store.clone(), key).policy(policy);
    Variant::Persistent(start::<Counter>((), persistence).await.unwrap().0)
}

/// Concurrent write-through actors in [`stores`]' concurrent group.
const CONCURRENT: usize = 32;
/// Casts per iteration in [`stores`]' batched group.
const BATCH_CASTS: u64 = 1000;

/// PostgreSQL beside redb: the latency of one write-through save (an
/// increment call, durable before its reply), batched throughput (casts
/// saved every 100 or 50 ms, then a call), and [`CONCURRENT`] write-through
/// actors each saving at once (redb commits one at a time; PostgreSQL's
/// pool runs them side by side).
fn stores(c: &mut Criterion) {
    let runtime = runtime();
    let stores = Stores::open(&runtime);

    let mut group = c.benchmark_group("store_write_through_call");
    group.throughput(Throughput::Elements(1));
    for (name, store) in stores.each() {
        let counter = runtime.block_on(counter_on(&store, "bench/wt", SavePolicy::WriteThrough));
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

    let mut group = c.benchmark_group("store_batched_casts");
    group.throughput(Throughput::Elements(BATCH_CASTS + 1));
    let batched = SavePolicy::Batched {
        every: 100,
        within: Duration::from_millis(50),
    };
    for (name, store) in stores.each() {
        let counter = runtime.block_on(counter_on(&store, "bench/batched", batched));
        group.bench_function(
            BenchmarkId::new(name, format!("{BATCH_CASTS}_casts_then_a_call")),
            |b| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let began = Instant::now();
                        for _ in 0..iters {
                            for _ in 0..BATCH_CASTS {
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

    let mut group = c.benchmark_group("store_concurrent_write_through");
    group.throughput(Throughput::Elements(CONCURRENT as u64));
    for (name, store) in stores.each() {
        let counters: Vec<Variant> = runtime.block_on(async {
            let mut counters = Vec::new();
            for index in 0..CONCURRENT {
                let key = format!("bench/concurrent/{index}");
                counters.push(counter_on(&store, &key, SavePolicy::WriteThrough).await);
            }
            counters
        });
        group.bench_function(
            BenchmarkId::new(name, format!("{CONCURRENT}_actors_one_call_each")),
            |b| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let began = Instant::now();
                        for _ in 0..iters {
                            let calls = counters.iter().map(|counter| counter.call(1));
                            black_box(futures::future::join_all(calls).await);
                        }
                        began.elapsed()
                    })
                });
            },
        );
        for counter in &counters {
            runtime.block_on(counter.stop());
        }
    }
    group.finish();
    stores.close(&runtime);
}

/// Writes `actors` saved counters under `recover/<n>`, a few at a time.
async fn seed(store: &Store, actors: usize) {
    for chunk in (0..actors).collect::<Vec<_>>().chunks(8) {
        let writes = chunk.iter().map(|index| async move {
            let key = format!("recover/{index}");
            let bytes = codec::encode(&key, 1, &Counter(*index as u64)).unwrap();
            store.put(&key, bytes).await.unwrap();
        });
        futures::future::join_all(writes).await;
    }
}

fn recovery(c: &mut Criterion) {
    let runtime = runtime();
    let stores = Stores::open(&runtime);
    let mut group = c.benchmark_group("recovery");
    group.sample_size(10);
    let most = 10_000;
    for (name, store) in stores.each() {
        runtime.block_on(seed(&store, most));
        for actors in [1_usize, most] {
            let keys: Vec<String> = (0..actors)
                .map(|index| format!("recover/{index}"))
                .collect();
            group.throughput(Throughput::Elements(actors as u64));
            group.bench_function(
                BenchmarkId::new(format!("start_with_saved_state/{name}"), actors),
                |b| {
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
                },
            );
        }
    }
    group.finish();
    stores.close(&runtime);
}

criterion_group!(benches, throughput, stores, recovery);
criterion_main!(benches);
