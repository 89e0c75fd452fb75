//! Supervised send against a plain cast, a call and the tokio floor, same run.
#![allow(missing_docs)] // criterion_group! and criterion_main! generate undocumented items
//!
//! Three groups, each with the same work for every contender:
//! - `fire_and_forget`: 1,000,000 `u64` messages from one producer to one
//!   consumer, mailbox/channel capacity 1,024, then one request to confirm
//!   all were handled: the tokio mpsc floor, `ActorRef::cast`, and
//!   `send_supervised` to a fixed reference (target ≤ 1.3 × cast);
//! - `ack_round_trip`: 100,000 sequential round trips: the tokio
//!   mpsc + oneshot floor, `ActorRef::call`, and `send_supervised_acked`
//!   with the handler admitting through `Acked::accept` and through a
//!   `Dedup` (target ≤ 1.1 × call);
//! - `broadcast_1000`: one message to each of 1,000 actors: 1,000 tokio
//!   channels, 1,000 casts, and `broadcast_supervised` with
//!   `Strategy::BestEffort` and `Strategy::AllOrNothing`.
//!
//! Run: `cargo bench -p foundation-benches --bench supervised_send`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use foundation_benches::{FLAVORS, on_task, runtime, workloads};
use foundation_mailbox::{Actor, ActorOptions, ActorRef, Context, ExitReason, Reply, start_with};
use foundation_supervised_send::{
    Acked, Dedup, SendOptions, Strategy, Target, broadcast_supervised, send_supervised,
    send_supervised_acked,
};
use tokio::sync::mpsc;

const MESSAGES: u64 = 1_000_000;
const CAST_TOTAL: u64 = workloads::cast_total(MESSAGES);
const ROUND_TRIPS: u64 = 100_000;
const CAPACITY: usize = workloads::CAPACITY;
const FAN_OUT: usize = 1_000;
const PATIENCE: Duration = Duration::from_secs(60);

/// A counter that takes plain increments, acked increments (admitted with
/// or without deduplication) and a request for its total.
#[derive(Debug, Default)]
struct Counter {
    total: u64,
    dedup: Option<Dedup>,
}

#[derive(Debug)]
enum Msg {
    Add(u64),
    Credit(Acked<u64>),
    Get(Reply<u64>),
}

impl From<u64> for Msg {
    fn from(n: u64) -> Self {
        Msg::Add(n)
    }
}

impl From<Acked<u64>> for Msg {
    fn from(credit: Acked<u64>) -> Self {
        Msg::Credit(credit)
    }
}

impl Actor for Counter {
    /// Whether to admit acked increments through a `Dedup`.
    type Args = bool;
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(dedup: bool, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Counter {
            total: 0,
            dedup: dedup.then(Dedup::default),
        })
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Add(n) => self.total += n,
            Msg::Credit(credit) => {
                let handled = match &mut self.dedup {
                    Some(seen) => seen.admit(credit),
                    None => Some(credit.accept()),
                };
                if let Some(n) = handled {
                    self.total += *n;
                }
            }
            Msg::Get(reply) => reply.send(self.total).unwrap_or_default(),
        }
        Ok(())
    }
}

async fn counter(dedup: bool) -> ActorRef<Counter> {
    let options = ActorOptions::new().capacity(CAPACITY);
    let (counter, _handle) = start_with::<Counter>(dedup, options)
        .await
        .expect("counter starts");
    counter
}

async fn finish(counter: ActorRef<Counter>, expected: Option<u64>) {
    let total = counter
        .call(Msg::Get, PATIENCE)
        .await
        .expect("counter answers");
    if let Some(expected) = expected {
        assert_eq!(total, expected);
    }
    counter
        .stop(ExitReason::Normal, PATIENCE)
        .await
        .expect("counter stops");
}

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

fn options() -> SendOptions {
    SendOptions::new().timeout(PATIENCE).tag("bench")
}

fn fire_and_forget(c: &mut Criterion) {
    let mut group = c.benchmark_group("fire_and_forget");
    group.throughput(Throughput::Elements(MESSAGES));
    group.sample_size(10);
    for flavor in FLAVORS {
        let rt = runtime(flavor);
        bench_on_task(
            &mut group,
            format!("tokio_mpsc_floor/{flavor}"),
            &rt,
            || workloads::tokio_casts(MESSAGES),
        );
        bench_on_task(&mut group, format!("cast/{flavor}"), &rt, || async {
            let counter = counter(false).await;
            for n in 0..MESSAGES {
                counter.cast(Msg::Add(n)).await.expect("counter alive");
            }
            finish(counter, Some(CAST_TOTAL)).await;
        });
        bench_on_task(
            &mut group,
            format!("supervised_send/{flavor}"),
            &rt,
            || async {
                let counter = counter(false).await;
                let target = Target::actor(&counter);
                let options = options();
                for n in 0..MESSAGES {
                    send_supervised(&target, Msg::Add(n), &options)
                        .await
                        .expect("delivered");
                }
                finish(counter, Some(CAST_TOTAL)).await;
            },
        );
    }
    group.finish();
}

fn ack_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("ack_round_trip");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    group.sample_size(10);
    for flavor in FLAVORS {
        let rt = runtime(flavor);
        bench_on_task(
            &mut group,
            format!("tokio_mpsc_oneshot_floor/{flavor}"),
            &rt,
            || workloads::tokio_round_trips(ROUND_TRIPS),
        );
        bench_on_task(&mut group, format!("call/{flavor}"), &rt, || async {
            let counter = counter(false).await;
            for _ in 0..ROUND_TRIPS {
                counter.call(Msg::Get, PATIENCE).await.expect("answers");
            }
            finish(counter, None).await;
        });
        for (name, dedup) in [
            ("supervised_acked", false),
            ("supervised_acked_dedup", true),
        ] {
            bench_on_task(
                &mut group,
                format!("{name}/{flavor}"),
                &rt,
                move || async move {
                    let counter = counter(dedup).await;
                    let target = Target::actor(&counter);
                    let options = options();
                    for n in 0..ROUND_TRIPS {
                        send_supervised_acked(&target, n, &options)
                            .await
                            .expect("acknowledged");
                    }
                    finish(counter, Some(ROUND_TRIPS * (ROUND_TRIPS - 1) / 2)).await;
                },
            );
        }
    }
    group.finish();
}

fn broadcast_1000(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast_1000");
    group.throughput(Throughput::Elements(FAN_OUT as u64));
    group.sample_size(10);
    for flavor in FLAVORS {
        let rt = runtime(flavor);
        // One set of receivers per contender, made once: the bench measures
        // the fan-out, not starting 1,000 actors.
        let (floor, _receivers) = rt.block_on(async {
            let mut senders = Vec::with_capacity(FAN_OUT);
            let mut receivers = Vec::with_capacity(FAN_OUT);
            for _ in 0..FAN_OUT {
                let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
                senders.push(tx);
                // audit:allow(FND001) benchmark floor: a raw task is what is being measured
                receivers.push(tokio::spawn(
                    async move { while rx.recv().await.is_some() {} },
                ));
            }
            (Arc::new(senders), receivers)
        });
        bench_on_task(
            &mut group,
            format!("tokio_mpsc_floor/{flavor}"),
            &rt,
            move || {
                let floor = Arc::clone(&floor);
                async move {
                    for tx in floor.iter() {
                        tx.send(1).await.expect("receiver alive");
                    }
                }
            },
        );
        let actors = rt.block_on(async {
            let mut actors = Vec::with_capacity(FAN_OUT);
            for _ in 0..FAN_OUT {
                actors.push(counter(false).await);
            }
            actors
        });
        let actors = Arc::new(actors);
        let casts = Arc::clone(&actors);
        bench_on_task(&mut group, format!("cast_each/{flavor}"), &rt, move || {
            let casts = Arc::clone(&casts);
            async move {
                for actor in casts.iter() {
                    actor.cast(Msg::Add(1)).await.expect("alive");
                }
            }
        });
        let targets: Arc<Vec<Target<u64>>> = Arc::new(actors.iter().map(Target::actor).collect());
        let options = Arc::new(options());
        for strategy in [Strategy::BestEffort, Strategy::AllOrNothing] {
            let targets = Arc::clone(&targets);
            let options = Arc::clone(&options);
            bench_on_task(
                &mut group,
                format!("broadcast_supervised_{strategy:?}/{flavor}"),
                &rt,
                move || {
                    let targets = Arc::clone(&targets);
                    let options = Arc::clone(&options);
                    async move {
                        let report = broadcast_supervised(&targets, 1, strategy, &options).await;
                        assert!(report.succeeded);
                    }
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, fire_and_forget, ack_round_trip, broadcast_1000);
criterion_main!(benches);
