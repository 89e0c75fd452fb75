//! What a message costs as the state grows (durable state vs event sourcing, write-through on redb), read-only calls, recovery of 10,000 actors, and one actor behind 1,000,000 events.
//!
//! `cargo bench -p foundation-persistence --bench journal -- --warm-up-time 1 --measurement-time 3`
//!
//! Every group runs its variants in the same run, on one current-thread
//! runtime, against redb in a temporary directory (the per-message
//! groups: one file per queue). The actor is a job
//! queue holding N jobs; each write rotates one job in and the oldest out,
//! so N stays put while it is measured.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    collections::VecDeque,
    hint::black_box,
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use foundation_mailbox::{Actor, ActorRef, Context, Reply, start as start_plain};
use foundation_persistence::{
    Emitter, EventSourced, Journal, Journaled, JournaledRef, Journaling, MemoryStore, Persistence,
    Persistent, PersistentActor, PersistentRef, RedbStore, StateStore, Store, Tracked, codec,
    start, start_journaled,
};
use serde::{Deserialize, Serialize};
use tokio::runtime::Runtime;

const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    id: u64,
    name: String,
}

fn job(id: u64) -> Job {
    Job {
        id,
        name: format!("job-{id:08}"),
    }
}

/// The queue: as durable state, as an event-sourced actor, as a plain actor.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Queue {
    jobs: VecDeque<Job>,
    next: u64,
}

impl Queue {
    fn holding(jobs: u64) -> Self {
        Self {
            jobs: (0..jobs).map(job).collect(),
            next: jobs,
        }
    }

    fn rotate(&mut self, job: Job) {
        self.next = job.id + 1;
        self.jobs.push_back(job);
        self.jobs.pop_front();
    }
}

#[derive(Debug)]
enum Msg {
    /// A write: one job in, the oldest out; answers the queue's length.
    Rotate(Reply<usize>),
    /// A read: the queue's length.
    Len(Reply<usize>),
}

#[derive(Debug, Serialize, Deserialize)]
enum Event {
    Rotated(Job),
}

impl PersistentActor for Queue {
    type Args = ();
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Queue::default())
    }

    async fn handle(
        queue: &mut Tracked<'_, Self>,
        msg: Msg,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        match msg {
            Msg::Rotate(reply) => {
                let next = job(queue.next);
                queue.rotate(next);
                reply.send(queue.jobs.len()).unwrap_or_default();
            }
            Msg::Len(reply) => reply.send(queue.jobs.len()).unwrap_or_default(),
        }
        Ok(())
    }
}

impl EventSourced for Queue {
    type Args = ();
    type Msg = Msg;
    type Event = Event;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Journaled<Self>>) -> Result<Self, Self::Error> {
        Ok(Queue::default())
    }

    fn apply(&mut self, Event::Rotated(job): &Event) {
        self.rotate(job.clone());
    }

    async fn handle(
        queue: &mut Emitter<'_, Self>,
        msg: Msg,
        _: &mut Context<Journaled<Self>>,
    ) -> Result<(), Self::Error> {
        match msg {
            Msg::Rotate(reply) => {
                queue.emit(Event::Rotated(job(queue.next)));
                reply.send(queue.jobs.len()).unwrap_or_default();
            }
            Msg::Len(reply) => reply.send(queue.jobs.len()).unwrap_or_default(),
        }
        Ok(())
    }
}

/// The floor: the same queue as a plain actor, no persistence.
struct PlainQueue(Queue);

impl Actor for PlainQueue {
    type Args = u64;
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(jobs: u64, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(PlainQueue(Queue::holding(jobs)))
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Rotate(reply) => {
                let next = job(self.0.next);
                self.0.rotate(next);
                reply.send(self.0.jobs.len()).unwrap_or_default();
            }
            Msg::Len(reply) => reply.send(self.0.jobs.len()).unwrap_or_default(),
        }
        Ok(())
    }
}

/// One queue of each kind, to call the same way.
enum Variant {
    Plain(ActorRef<PlainQueue>),
    Durable(PersistentRef<Queue>),
    Journaled(JournaledRef<Queue>),
}

impl Variant {
    async fn call(&self, msg: fn(Reply<usize>) -> Msg) -> usize {
        match self {
            Variant::Plain(queue) => queue.call(msg, PATIENCE).await.unwrap(),
            Variant::Durable(queue) => queue.call(msg, PATIENCE).await.unwrap(),
            Variant::Journaled(queue) => queue.call(msg, PATIENCE).await.unwrap(),
        }
    }

    fn kill(&self) {
        match self {
            Variant::Plain(queue) => queue.kill(),
            Variant::Durable(queue) => queue.kill(),
            Variant::Journaled(queue) => queue.kill(),
        };
    }
}

/// Saves a queue of `jobs` jobs as durable state under `key`.
async fn seed_durable(store: &RedbStore, key: &str, jobs: u64) {
    let bytes = codec::encode(key, 1, &Queue::holding(jobs)).unwrap();
    store.put(key, bytes).await.unwrap();
}

/// Writes `events` events to `id`'s journal (of a queue that starts with
/// `jobs` jobs), then, if `snapshot`, a snapshot as of the last one (after
/// one more event when there were none: a snapshot follows an event).
async fn seed_journal(store: &RedbStore, id: &str, jobs: u64, events: u64, snapshot: bool) {
    let mut queue = Queue::holding(jobs);
    let mut last = 0;
    let mut written = 0;
    while written < events {
        let chunk = (events - written).min(10_000);
        let encoded: Vec<Vec<u8>> = (0..chunk)
            .map(|_| {
                let event = Event::Rotated(job(queue.next));
                let Event::Rotated(next) = &event;
                queue.rotate(next.clone());
                codec::encode(id, 1, &event).unwrap()
            })
            .collect();
        last = store.append(id, last, encoded).await.unwrap();
        written += chunk;
    }
    if snapshot || events == 0 {
        if events == 0 {
            last = store
                .append(
                    id,
                    0,
                    vec![codec::encode(id, 1, &Event::Rotated(job(queue.next))).unwrap()],
                )
                .await
                .unwrap();
            let Event::Rotated(next) = Event::Rotated(job(queue.next));
            queue.rotate(next);
        }
        let bytes = codec::encode(id, 1, &queue).unwrap();
        store.snapshot(id, last, bytes).await.unwrap();
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn timed(runtime: &Runtime, queue: &Variant, msg: fn(Reply<usize>) -> Msg, iters: u64) -> Duration {
    runtime.block_on(async {
        let began = Instant::now();
        for _ in 0..iters {
            black_box(queue.call(msg).await);
        }
        began.elapsed()
    })
}

const SIZES: [u64; 3] = [1_000, 10_000, 100_000];

fn key_memory(jobs: u64) -> String {
    format!("memory/{jobs}")
}

/// Write-through cost of one write as the stored state grows, and reads.
fn per_message(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut queues = Vec::new();
    for jobs in SIZES {
        // A file per queue: a commit's cost must not depend on what the
        // other variants wrote to the same file.
        let durable_store =
            RedbStore::open(dir.path().join(format!("durable-{jobs}.redb"))).unwrap();
        let store = RedbStore::open(dir.path().join(format!("journal-{jobs}.redb"))).unwrap();
        let key = format!("durable/{jobs}");
        let id = format!("journal/{jobs}");
        runtime.block_on(async {
            seed_durable(&durable_store, &key, jobs).await;
            seed_journal(&store, &id, jobs, 0, true).await;
        });
        let durable = runtime
            .block_on(start::<Queue>((), Persistence::new(durable_store, key)))
            .unwrap()
            .0;
        let journaled = runtime
            .block_on(start_journaled::<Queue>(
                (),
                Journaling::new(store.clone(), id),
            ))
            .unwrap()
            .0;
        // The same two on the memory store: the work of a write without
        // the disk's fsync, whose cost does not depend on the state.
        let memory = MemoryStore::new();
        let durable_in_memory = runtime.block_on(async {
            let bytes = codec::encode(&key_memory(jobs), 1, &Queue::holding(jobs)).unwrap();
            memory.put(&key_memory(jobs), bytes).await.unwrap();
            start::<Queue>((), Persistence::new(memory.clone(), key_memory(jobs)))
                .await
                .unwrap()
                .0
        });
        let journaled_in_memory = runtime.block_on(async {
            let id = key_memory(jobs);
            let first = codec::encode(&id, 1, &Event::Rotated(job(jobs))).unwrap();
            memory.append(&id, 0, vec![first]).await.unwrap();
            let mut queue = Queue::holding(jobs);
            queue.rotate(job(jobs));
            let bytes = codec::encode(&id, 1, &queue).unwrap();
            Journal::snapshot(&memory, &id, 1, bytes).await.unwrap();
            start_journaled::<Queue>((), Journaling::new(memory.clone(), id))
                .await
                .unwrap()
                .0
        });
        let plain = runtime.block_on(start_plain::<PlainQueue>(jobs)).unwrap().0;
        queues.push(("no_persistence", jobs, Variant::Plain(plain)));
        queues.push(("durable_state", jobs, Variant::Durable(durable)));
        queues.push(("event_sourced", jobs, Variant::Journaled(journaled)));
        queues.push((
            "durable_state_in_memory",
            jobs,
            Variant::Durable(durable_in_memory),
        ));
        queues.push((
            "event_sourced_in_memory",
            jobs,
            Variant::Journaled(journaled_in_memory),
        ));
    }

    let mut group = c.benchmark_group("write_through_rotate");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    for (name, jobs, queue) in &queues {
        group.bench_function(BenchmarkId::new(*name, jobs), |b| {
            b.iter_custom(|iters| timed(&runtime, queue, Msg::Rotate, iters));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("read_only_call");
    group.throughput(Throughput::Elements(1));
    for (name, jobs, queue) in queues.iter().filter(|(name, ..)| !name.ends_with("memory")) {
        group.bench_function(BenchmarkId::new(*name, jobs), |b| {
            b.iter_custom(|iters| timed(&runtime, queue, Msg::Len, iters));
        });
    }
    group.finish();
    for (_, _, queue) in &queues {
        queue.kill();
    }
}

/// Concurrent writers: their appends meet in one commit (group commit).
const WRITERS: usize = 16;

fn concurrent(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let redb = RedbStore::open(dir.path().join("concurrent.redb")).unwrap();
    let postgres = recovery::postgres(&runtime);
    let mut group = c.benchmark_group("concurrent_write_through");
    group.throughput(Throughput::Elements(WRITERS as u64));
    let mut stores = vec![(
        "",
        Store::new(redb.clone()),
        Arc::new(redb) as Arc<dyn Journal>,
    )];
    if let Some((store, _)) = &postgres {
        stores.push((
            "_postgres",
            Store::new(store.clone()),
            Arc::new(store.clone()) as Arc<dyn Journal>,
        ));
    }
    let mut started = Vec::new();
    for (suffix, state, journal) in stores {
        let durable: Vec<Variant> = (0..WRITERS)
            .map(|index| {
                let persistence = Persistence::new(state.clone(), format!("concurrent/d{index}"));
                Variant::Durable(runtime.block_on(start::<Queue>((), persistence)).unwrap().0)
            })
            .collect();
        let journaled: Vec<Variant> = (0..WRITERS)
            .map(|index| {
                let journaling =
                    Journaling::shared(Arc::clone(&journal), format!("concurrent/j{index}"));
                Variant::Journaled(
                    runtime
                        .block_on(start_journaled::<Queue>((), journaling))
                        .unwrap()
                        .0,
                )
            })
            .collect();
        for (name, queues) in [("durable_state", &durable), ("event_sourced", &journaled)] {
            group.bench_function(BenchmarkId::new(format!("{name}{suffix}"), WRITERS), |b| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let began = Instant::now();
                        for _ in 0..iters {
                            let calls = queues.iter().map(|queue| queue.call(Msg::Rotate));
                            black_box(futures::future::join_all(calls).await);
                        }
                        began.elapsed()
                    })
                });
            });
        }
        started.extend(durable);
        started.extend(journaled);
    }
    group.finish();
    for queue in &started {
        queue.kill();
    }
    drop(started);
    recovery::drop_postgres(&runtime, postgres);
}

#[path = "journal/recovery.rs"]
mod recovery;

criterion_group!(
    benches,
    per_message,
    concurrent,
    recovery::appends,
    recovery::recovery
);
criterion_main!(benches);
