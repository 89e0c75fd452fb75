//! Recovery of 10,000 actors (read one by one, all at once, or preloaded with one `recover_many`), one actor behind a long journal, and group commit of raw appends; on redb, in memory and, with `FOUNDATION_TEST_POSTGRES_URL` set, PostgreSQL.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use foundation_persistence::{
    Journal, Journaling, MemoryStore, Persistence, PostgresStore, RedbStore,
    postgres::testing::TestSchema, start, start_journaled,
};

use super::{Event, Queue, Variant, codec, job, runtime, seed_durable, seed_journal};

const ACTORS: usize = 10_000;
/// Events in the one long journal; `FOUNDATION_BENCH_EVENTS` scales it down.
const LONG_JOURNAL: u64 = 1_000_000;
/// Appends in flight at once in the group-commit group.
const APPENDS: usize = 16;

/// PostgreSQL in a schema of the bench's own, when the URL is set.
pub(super) fn postgres(runtime: &tokio::runtime::Runtime) -> Option<(PostgresStore, TestSchema)> {
    let schema = TestSchema::create("bench::journal")?;
    // Seeding writes 100 journals at once; on a disk that other builds
    // keep busy one batch took longer than the default 5 s.
    let config = schema.config().timeout(Duration::from_secs(60));
    let store = runtime.block_on(PostgresStore::open(config)).unwrap();
    Some((store, schema))
}

/// Drops the bench's PostgreSQL schema.
pub(super) fn drop_postgres(
    runtime: &tokio::runtime::Runtime,
    postgres: Option<(PostgresStore, TestSchema)>,
) {
    if let Some((store, schema)) = postgres {
        drop(store);
        runtime.block_on(schema.drop_schema());
    }
}

/// Raw journal appends, no actors: `APPENDS` appends to as many journals
/// at once (they share commits) against the same appends one after
/// another (a commit each).
pub(crate) fn appends(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let redb = RedbStore::open(dir.path().join("appends.redb")).unwrap();
    let postgres = postgres(&runtime);
    let mut stores: Vec<(&str, Box<dyn Journal>)> = vec![("redb", Box::new(redb))];
    if let Some((store, _)) = &postgres {
        stores.push(("postgres", Box::new(store.clone())));
    }
    let mut group = c.benchmark_group("journal_appends");
    group.throughput(Throughput::Elements(APPENDS as u64));
    group.sample_size(10);
    for (name, store) in &stores {
        let ids: Vec<String> = (0..APPENDS).map(|n| format!("appends/{n}")).collect();
        let mut heads = vec![0_u64; APPENDS];
        for (how, at_once) in [("one_after_another", false), ("all_at_once", true)] {
            group.bench_function(BenchmarkId::new(*name, how), |b| {
                b.iter_custom(|iters| {
                    runtime.block_on(async {
                        let began = Instant::now();
                        for _ in 0..iters {
                            let appends = ids
                                .iter()
                                .zip(&heads)
                                .map(|(id, after)| store.append(id, *after, vec![vec![7_u8; 64]]));
                            let written = if at_once {
                                futures::future::join_all(appends).await
                            } else {
                                let mut written = Vec::with_capacity(APPENDS);
                                for append in appends {
                                    written.push(append.await);
                                }
                                written
                            };
                            for (head, last) in heads.iter_mut().zip(written) {
                                *head = last.unwrap();
                            }
                        }
                        began.elapsed()
                    })
                });
            });
        }
    }
    group.finish();
    drop(stores);
    drop_postgres(&runtime, postgres);
}

/// Where the recovered actors' state is, and how they are started.
#[derive(Clone, Copy)]
enum How {
    /// Durable state (one `get` each).
    Durable,
    /// Each actor reads its own journal at start.
    Each,
    /// One `recover_many` for all, then each starts from its recovery.
    Preloaded,
    /// Only the `recover_many`, no actor started: the read's own cost.
    ReadOnly,
}

fn recover_all(
    runtime: &tokio::runtime::Runtime,
    journal: &(impl Journal + Clone),
    durable: &RedbStore,
    ids: &[String],
    how: How,
    concurrently: bool,
) -> Duration {
    runtime.block_on(async {
        let began = Instant::now();
        let start_one = |(id, recovery): (&String, Option<foundation_persistence::Recovery>)| {
            let journal = journal.clone();
            let durable = durable.clone();
            let id = id.clone();
            async move {
                if let How::Durable = how {
                    let persistence = Persistence::new(durable, id);
                    return Variant::Durable(start::<Queue>((), persistence).await.unwrap().0);
                }
                let mut journaling = Journaling::new(journal, id);
                if let Some(recovery) = recovery {
                    journaling = journaling.recovered(recovery);
                }
                Variant::Journaled(start_journaled::<Queue>((), journaling).await.unwrap().0)
            }
        };
        let recoveries: Vec<Option<_>> = match how {
            How::Preloaded | How::ReadOnly => journal
                .recover_many(ids)
                .await
                .into_iter()
                .map(|recovery| Some(recovery.unwrap()))
                .collect(),
            How::Durable | How::Each => vec![None; ids.len()],
        };
        if let How::ReadOnly = how {
            let spent = began.elapsed();
            drop(std::hint::black_box(recoveries));
            return spent;
        }
        let started = if concurrently {
            futures::future::join_all(ids.iter().zip(recoveries).map(start_one)).await
        } else {
            let mut started = Vec::with_capacity(ids.len());
            for pair in ids.iter().zip(recoveries) {
                started.push(start_one(pair).await);
            }
            started
        };
        let spent = began.elapsed();
        // Dormant actors with no references are freed; not timed.
        drop(started);
        spent
    })
}

/// Copies `id`'s journal from redb (a snapshot and the events after it).
async fn copy_journal(from: &RedbStore, to: &impl Journal, id: &str) {
    let recovery = from.recover(id).await.unwrap();
    let snapshot = recovery.snapshot.unwrap();
    to.append(id, 0, vec![Vec::new(); snapshot.sequence as usize])
        .await
        .unwrap();
    to.snapshot(id, snapshot.sequence, snapshot.bytes)
        .await
        .unwrap();
    let events = recovery
        .events
        .into_iter()
        .map(|entry| entry.bytes)
        .collect();
    to.append(id, snapshot.sequence, events).await.unwrap();
}

pub(crate) fn recovery(c: &mut Criterion) {
    let runtime = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(dir.path().join("recovery.redb")).unwrap();
    // Each actor: 10 jobs; as durable state, or a snapshot and 5 events after it.
    let durable_ids: Vec<String> = (0..ACTORS).map(|index| format!("d/{index}")).collect();
    let journal_ids: Vec<String> = (0..ACTORS).map(|index| format!("j/{index}")).collect();
    let memory = MemoryStore::new();
    let postgres = postgres(&runtime);
    seed_many(
        &runtime,
        (&store, &memory, postgres.as_ref()),
        &durable_ids,
        &journal_ids,
    );
    let mut group = c.benchmark_group("recover_10000_actors");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ACTORS as u64));
    let mut variants = vec![
        ("durable_state", How::Durable),
        ("event_sourced", How::Each),
        ("event_sourced_preloaded", How::Preloaded),
        ("event_sourced_recover_many_only", How::ReadOnly),
    ];
    for (name, how) in variants.drain(..) {
        let ids = if let How::Durable = how {
            &durable_ids
        } else {
            &journal_ids
        };
        for (order, concurrently) in [("one_after_another", false), ("all_at_once", true)] {
            if matches!(how, How::ReadOnly | How::Preloaded) && concurrently {
                continue;
            }
            group.bench_function(BenchmarkId::new(name, order), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| recover_all(&runtime, &store, &store, ids, how, concurrently))
                        .sum()
                });
            });
        }
    }
    for (name, how) in [
        ("event_sourced_in_memory", How::Each),
        ("event_sourced_in_memory_preloaded", How::Preloaded),
    ] {
        group.bench_function(BenchmarkId::new(name, "one_after_another"), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| recover_all(&runtime, &memory, &store, &journal_ids, how, false))
                    .sum()
            });
        });
    }
    if let Some((postgres, _)) = &postgres {
        for (name, how) in [
            ("event_sourced_postgres", How::Each),
            ("event_sourced_postgres_preloaded", How::Preloaded),
            ("event_sourced_postgres_recover_many_only", How::ReadOnly),
        ] {
            group.bench_function(BenchmarkId::new(name, "one_after_another"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| recover_all(&runtime, postgres, &store, &journal_ids, how, false))
                        .sum()
                });
            });
        }
    }
    group.finish();
    drop_postgres(&runtime, postgres);

    long_journal(c, &runtime, &store);
}

/// Seeds each actor: 10 jobs as durable state under its durable id, and a
/// snapshot and 5 events after it under its journal id, in redb, in
/// memory and, if there, in PostgreSQL.
fn seed_many(
    runtime: &tokio::runtime::Runtime,
    (store, memory, postgres): (
        &RedbStore,
        &MemoryStore,
        Option<&(PostgresStore, TestSchema)>,
    ),
    durable_ids: &[String],
    journal_ids: &[String],
) {
    runtime.block_on(async {
        for (durable, journal) in durable_ids.iter().zip(journal_ids) {
            seed_durable(store, durable, 10).await;
            seed_journal(store, journal, 10, 5, true).await;
            let after = store.recover(journal).await.unwrap().last;
            let events: Vec<Vec<u8>> = (0..5)
                .map(|n| codec::encode(journal, 1, &Event::Rotated(job(100 + n))).unwrap())
                .collect();
            store.append(journal, after, events).await.unwrap();
            copy_journal(store, memory, journal).await;
        }
        if let Some((postgres, _)) = postgres {
            for chunk in journal_ids.chunks(100) {
                let copies = chunk.iter().map(|id| copy_journal(store, postgres, id));
                futures::future::join_all(copies).await;
            }
        }
    });
}

/// One actor behind a long journal: with a snapshot and 1,000 events
/// after it, and with no snapshot (a full replay).
fn long_journal(c: &mut Criterion, runtime: &tokio::runtime::Runtime, store: &RedbStore) {
    let events = std::env::var("FOUNDATION_BENCH_EVENTS")
        .ok()
        .and_then(|events| events.parse().ok())
        .unwrap_or(LONG_JOURNAL);
    let seeding = Instant::now();
    runtime.block_on(async {
        seed_journal(store, "long/snapshot", 100, events, true).await;
        let after = store.recover("long/snapshot").await.unwrap().last;
        let tail: Vec<Vec<u8>> = (0..1_000)
            .map(|n| codec::encode("long/snapshot", 1, &Event::Rotated(job(n))).unwrap())
            .collect();
        store.append("long/snapshot", after, tail).await.unwrap();
        seed_journal(store, "long/replay", 100, events, false).await;
    });
    eprintln!(
        "seeded two journals of {events} events in {:?}",
        seeding.elapsed()
    );
    let mut group = c.benchmark_group(format!("recover_one_actor_after_{events}_events"));
    group.sample_size(10);
    for (name, id) in [
        ("snapshot_then_1000_events", "long/snapshot"),
        ("full_replay_no_snapshot", "long/replay"),
    ] {
        let ids = [id.to_owned()];
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| recover_all(runtime, store, store, &ids, How::Each, false))
                    .sum()
            });
        });
    }
    group.finish();
}
