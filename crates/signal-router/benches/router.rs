//! The signal router under criterion, on one thread, beside the raw tokio channel floor and kameo's broker.
//!
//! `cargo bench -p foundation-signal-router --bench router`
//!
//! - `exact_subscriber`: signals routed to one subscriber on a literal
//!   pattern, end to end (routed, queued, handled), against a bounded tokio
//!   mpsc channel into a task (the floor) and kameo's broker.
//! - `patterns_5_segments`: the same with 1 or 10,000 patterns subscribed,
//!   the topic having 5 segments and matching one of them.
//! - `fan_out_1000`: one signal to 1,000 subscribers, against 1,000 tokio
//!   channels and kameo's broker.
//!
//! Everything runs on a current-thread runtime, driven from a task, so the
//! publisher and the subscribers share one thread.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    convert::Infallible,
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use foundation_mailbox::{Actor, ActorOptions, Context, start_with};
use foundation_monitor_manager::MonitorManager;
use foundation_signal_router::{RouterOptions, Signal, SignalRouter, Subscription, Topic};
use kameo::{
    actor::{ActorRef, Spawn},
    message::Message,
};
use kameo_actors::{
    DeliveryStrategy,
    broker::{Broker, Publish, Subscribe},
};
use tokio::{
    runtime::Runtime,
    sync::{Notify, mpsc},
};

const PATIENCE: Duration = Duration::from_secs(30);
/// Signals per measured batch for the one-subscriber benches.
const BATCH: usize = 10_000;
/// kameo's broker tests every pattern on every publish: with 10,000 of
/// them a batch this small already takes tens of milliseconds.
const KAMEO_MANY_BATCH: usize = 100;
const PATTERNS: usize = 10_000;
const FAN_OUT: usize = 1_000;
/// Signals per measured batch in the fan-out bench.
const FAN_OUT_SIGNALS: usize = 10;
const TOPIC: &str = "t.d.x.m.v";
const KAMEO_TOPIC: &str = "t/d/x/m/v";

/// Counts handled signals down to zero and wakes the bench then.
#[derive(Debug, Default)]
struct Countdown {
    remaining: AtomicUsize,
    done: Notify,
}

impl Countdown {
    fn arm(&self, count: usize) {
        self.remaining.store(count, Ordering::Release);
    }

    fn tick(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.done.notify_one();
        }
    }

    async fn wait(&self) {
        let waited = tokio::time::timeout(PATIENCE, self.done.notified()).await;
        assert!(waited.is_ok(), "every signal handled within {PATIENCE:?}");
    }
}

/// Foundation's subscriber: ticks for every signal.
#[derive(Debug)]
struct Tally(Arc<Countdown>);

impl Actor for Tally {
    type Args = Arc<Countdown>;
    type Msg = Signal<u64>;
    type Error = Infallible;

    async fn init(countdown: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Tally(countdown))
    }

    async fn handle(&mut self, _: Signal<u64>, _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.0.tick();
        Ok(())
    }
}

/// kameo's subscriber: the same.
struct KameoTally(Arc<Countdown>);

impl kameo::Actor for KameoTally {
    type Args = Arc<Countdown>;
    type Error = Infallible;

    async fn on_start(countdown: Self::Args, _: ActorRef<Self>) -> Result<Self, Infallible> {
        Ok(KameoTally(countdown))
    }
}

impl Message<u64> for KameoTally {
    type Reply = ();

    async fn handle(&mut self, _: u64, _: &mut kameo::message::Context<Self, ()>) {
        self.0.tick();
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Runs `work` from a task, as a service's publisher would be.
fn on_task<T: Send + 'static>(rt: &Runtime, work: impl Future<Output = T> + Send + 'static) -> T {
    rt.block_on(async move {
        // audit:allow(FND001) the benchmark's driver task, awaited right here
        tokio::spawn(work).await.expect("the driver finishes")
    })
}

fn criterion() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

/// A router with its own monitor registry and `Tally` subscribers.
struct Foundation {
    router: SignalRouter<u64>,
    countdown: Arc<Countdown>,
    _subscriptions: Vec<Subscription>,
}

impl Foundation {
    /// `subscribers` tallies on `pattern`, plus `other_patterns` patterns
    /// that do not match [`TOPIC`] on one idle subscriber.
    async fn start(
        subscribers: usize,
        pattern: &str,
        other_patterns: usize,
        capacity: usize,
    ) -> Self {
        let router =
            SignalRouter::with_options(RouterOptions::new().monitors(MonitorManager::new()));
        let countdown = Arc::new(Countdown::default());
        let options = ActorOptions::new().capacity(capacity);
        let mut subscriptions = Vec::new();
        for _ in 0..subscribers {
            let (tally, _handle) = start_with::<Tally>(countdown.clone(), options.clone())
                .await
                .expect("starts");
            subscriptions.push(
                router
                    .subscribe(pattern, tally.recipient())
                    .expect("subscribes"),
            );
        }
        let (idle, _handle) =
            start_with::<Tally>(Arc::new(Countdown::default()), ActorOptions::new())
                .await
                .expect("starts");
        for index in 0..other_patterns {
            let other = other_pattern(index);
            subscriptions.push(
                router
                    .subscribe(&other, idle.recipient())
                    .expect("subscribes"),
            );
        }
        Self {
            router,
            countdown,
            _subscriptions: subscriptions,
        }
    }

    async fn batch(&self, signals: usize, deliveries: usize) {
        let signal = Signal::new(Topic::new(TOPIC).expect("valid"), 7);
        self.countdown.arm(deliveries);
        for _ in 0..signals {
            let routed = self.router.route(signal.clone());
            debug_assert_eq!(routed.dropped, 0);
        }
        self.countdown.wait().await;
    }
}

/// The `index`th pattern of the crowd that does not match [`TOPIC`]:
/// literals, a `*` at the root, a `*` inside and `>` tails, so the trie has
/// wildcard branches the walk must try.
fn other_pattern(index: usize) -> String {
    match index % 4 {
        0 => format!("t{index}.d.x.m.v"),
        1 => format!("t.*.{index}.m.>"),
        2 => format!("*.d{index}.x.>"),
        _ => format!("t.d.x.{index}.*"),
    }
}

/// The same pattern in kameo's glob syntax: `/` between segments, `**` for `>`.
fn glob_of(pattern: &str) -> glob::Pattern {
    let glob = pattern.replace('.', "/").replace('>', "**");
    glob::Pattern::new(&glob).expect("a glob pattern")
}

struct Kameo {
    broker: ActorRef<Broker<u64>>,
    countdown: Arc<Countdown>,
}

impl Kameo {
    async fn start(
        subscribers: usize,
        pattern: &str,
        other_patterns: usize,
        capacity: usize,
    ) -> Self {
        let broker = Broker::spawn_with_mailbox(
            Broker::new(DeliveryStrategy::BestEffort),
            kameo::mailbox::bounded(capacity),
        );
        let countdown = Arc::new(Countdown::default());
        for _ in 0..subscribers {
            let tally = KameoTally::spawn_with_mailbox(
                countdown.clone(),
                kameo::mailbox::bounded(capacity),
            );
            let subscribe = Subscribe {
                topic: glob_of(pattern),
                recipient: tally.recipient(),
            };
            broker.tell(subscribe).await.expect("subscribes");
        }
        let idle = KameoTally::spawn(Arc::new(Countdown::default()));
        for index in 0..other_patterns {
            let subscribe = Subscribe {
                topic: glob_of(&other_pattern(index)),
                recipient: idle.clone().recipient(),
            };
            broker.tell(subscribe).await.expect("subscribes");
        }
        Self { broker, countdown }
    }

    async fn batch(&self, signals: usize, deliveries: usize) {
        self.countdown.arm(deliveries);
        for _ in 0..signals {
            let publish = Publish {
                topic: KAMEO_TOPIC.to_string(),
                message: 7,
            };
            self.broker
                .tell(publish)
                .await
                .expect("the broker takes it");
        }
        self.countdown.wait().await;
    }
}

/// `subscribers` tasks reading bounded tokio channels: the floor.
struct Floor {
    senders: Vec<mpsc::Sender<u64>>,
    countdown: Arc<Countdown>,
}

impl Floor {
    fn start(subscribers: usize, capacity: usize) -> Self {
        let countdown = Arc::new(Countdown::default());
        let senders = (0..subscribers)
            .map(|_| {
                let (sender, mut receiver) = mpsc::channel::<u64>(capacity);
                let countdown = countdown.clone();
                // audit:allow(FND001) the floor's consumer; it ends when the bench drops its sender
                tokio::spawn(async move {
                    while receiver.recv().await.is_some() {
                        countdown.tick();
                    }
                });
                sender
            })
            .collect();
        Self { senders, countdown }
    }

    async fn batch(&self, signals: usize, deliveries: usize) {
        self.countdown.arm(deliveries);
        for _ in 0..signals {
            for sender in &self.senders {
                sender.try_send(7).expect("room in the floor's channel");
            }
        }
        self.countdown.wait().await;
    }
}

/// Measures `batch` (`elements` signals or deliveries each) with the
/// contender made by `setup`, all on `rt`.
fn bench<C, S, SF, B, BF>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    rt: &Runtime,
    elements: usize,
    setup: S,
    batch: B,
) where
    C: Send + Sync + 'static,
    S: FnOnce() -> SF,
    SF: Future<Output = C> + Send + 'static,
    B: Fn(Arc<C>) -> BF + Copy + Send + 'static,
    BF: Future<Output = ()> + Send,
{
    let contender = Arc::new(on_task(rt, setup()));
    group.throughput(Throughput::Elements(elements as u64));
    group.bench_function(name, |bencher| {
        bencher.iter_custom(|iterations| {
            let contender = contender.clone();
            on_task(rt, async move {
                let started = Instant::now();
                for _ in 0..iterations {
                    batch(contender.clone()).await;
                }
                started.elapsed()
            })
        });
    });
    // The contender's actors and tasks go with the runtime.
}

fn exact_subscriber(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("exact_subscriber");
    bench(
        &mut group,
        "tokio_mpsc_floor",
        &rt,
        BATCH,
        || async { Floor::start(1, BATCH) },
        |floor: Arc<Floor>| async move {
            floor.batch(BATCH, BATCH).await;
        },
    );
    bench(
        &mut group,
        "foundation_route",
        &rt,
        BATCH,
        || Foundation::start(1, TOPIC, 0, BATCH),
        |router: Arc<Foundation>| async move {
            router.batch(BATCH, BATCH).await;
        },
    );
    bench(
        &mut group,
        "kameo_broker",
        &rt,
        BATCH,
        || Kameo::start(1, TOPIC, 0, BATCH),
        |broker: Arc<Kameo>| async move {
            broker.batch(BATCH, BATCH).await;
        },
    );
    group.finish();
}

fn patterns_5_segments(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("patterns_5_segments");
    bench(
        &mut group,
        "foundation_route/1_pattern",
        &rt,
        BATCH,
        || Foundation::start(1, TOPIC, 0, BATCH),
        |router: Arc<Foundation>| async move {
            router.batch(BATCH, BATCH).await;
        },
    );
    bench(
        &mut group,
        "foundation_route/10000_patterns",
        &rt,
        BATCH,
        || Foundation::start(1, TOPIC, PATTERNS - 1, BATCH),
        |router: Arc<Foundation>| async move {
            router.batch(BATCH, BATCH).await;
        },
    );
    bench(
        &mut group,
        "kameo_broker/1_pattern",
        &rt,
        BATCH,
        || Kameo::start(1, TOPIC, 0, BATCH),
        |broker: Arc<Kameo>| async move {
            broker.batch(BATCH, BATCH).await;
        },
    );
    bench(
        &mut group,
        "kameo_broker/10000_patterns",
        &rt,
        KAMEO_MANY_BATCH,
        || Kameo::start(1, TOPIC, PATTERNS - 1, BATCH),
        |broker: Arc<Kameo>| async move {
            broker.batch(KAMEO_MANY_BATCH, KAMEO_MANY_BATCH).await;
        },
    );
    group.finish();
}

fn fan_out_1000(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("fan_out_1000");
    let deliveries = FAN_OUT * FAN_OUT_SIGNALS;
    bench(
        &mut group,
        "tokio_mpsc_floor",
        &rt,
        deliveries,
        || async { Floor::start(FAN_OUT, 64) },
        |floor: Arc<Floor>| async move {
            floor
                .batch(FAN_OUT_SIGNALS, FAN_OUT * FAN_OUT_SIGNALS)
                .await;
        },
    );
    bench(
        &mut group,
        "foundation_route",
        &rt,
        deliveries,
        || Foundation::start(FAN_OUT, "t.d.*.m.>", 0, 64),
        |router: Arc<Foundation>| async move {
            router
                .batch(FAN_OUT_SIGNALS, FAN_OUT * FAN_OUT_SIGNALS)
                .await;
        },
    );
    bench(
        &mut group,
        "kameo_broker",
        &rt,
        deliveries,
        || Kameo::start(FAN_OUT, "t.d.*.m.>", 0, 64),
        |broker: Arc<Kameo>| async move {
            broker
                .batch(FAN_OUT_SIGNALS, FAN_OUT * FAN_OUT_SIGNALS)
                .await;
        },
    );
    group.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = exact_subscriber, patterns_5_segments, fan_out_1000
}
criterion_main!(benches);
