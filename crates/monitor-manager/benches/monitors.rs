//! Monitors under criterion: create + drop (uncontended, 2 threads) and DOWN latency beside a cast, with ractor as the peer.
//!
//! `cargo bench -p foundation-monitor-manager --bench monitors`

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    hint::black_box,
    sync::Barrier,
    time::{Duration, Instant},
};

use criterion::{Criterion, criterion_group, criterion_main};
use foundation_mailbox::{Actor, ActorRef, Context, ProcessRef, SystemMessage, start};
use foundation_monitor_manager::MonitorManager;
use ractor::{ActorProcessingErr, SupervisionEvent};
use tokio::{runtime::Runtime, sync::mpsc};

const PATIENCE: Duration = Duration::from_secs(10);

/// Signals its bench for every cast and every DOWN it handles.
#[derive(Debug)]
struct Signaller(mpsc::Sender<()>);

impl Signaller {
    async fn signal(&self) {
        assert!(self.0.send(()).await.is_ok(), "the bench listens");
    }
}

impl Actor for Signaller {
    type Args = mpsc::Sender<()>;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(signal: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Signaller(signal))
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.signal().await;
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if matches!(message, SystemMessage::Down(_)) {
            self.signal().await;
        }
        Ok(())
    }
}

/// ractor's equivalent: signals for every cast and every termination it monitors.
struct RactorSignaller;

impl ractor::Actor for RactorSignaller {
    type Msg = ();
    type State = mpsc::Sender<()>;
    type Arguments = mpsc::Sender<()>;

    async fn pre_start(
        &self,
        _: ractor::ActorRef<()>,
        signal: mpsc::Sender<()>,
    ) -> Result<mpsc::Sender<()>, ActorProcessingErr> {
        Ok(signal)
    }

    async fn handle(
        &self,
        _: ractor::ActorRef<()>,
        (): (),
        signal: &mut mpsc::Sender<()>,
    ) -> Result<(), ActorProcessingErr> {
        signal.send(()).await?;
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        _: ractor::ActorRef<()>,
        event: SupervisionEvent,
        signal: &mut mpsc::Sender<()>,
    ) -> Result<(), ActorProcessingErr> {
        if let SupervisionEvent::ActorTerminated(..) | SupervisionEvent::ActorFailed(..) = event {
            signal.send(()).await?;
        }
        Ok(())
    }
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

async fn signaller() -> (ActorRef<Signaller>, ProcessRef, mpsc::Receiver<()>) {
    let (signal, signals) = mpsc::channel(1024);
    let (actor, handle) = start::<Signaller>(signal).await.expect("starts");
    (actor, handle.process().clone(), signals)
}

async fn wait(signals: &mut mpsc::Receiver<()>) {
    let got = tokio::time::timeout(PATIENCE, signals.recv()).await;
    assert!(matches!(got, Ok(Some(()))), "a signal within {PATIENCE:?}");
}

fn create_and_drop(c: &mut Criterion) {
    let rt = runtime();
    let monitors = MonitorManager::new();
    let (_target, target, _) = rt.block_on(signaller());
    let (_w1, watcher, _) = rt.block_on(signaller());
    let (_w2, other_watcher, _) = rt.block_on(signaller());

    let mut group = c.benchmark_group("monitor_create_drop");
    group.bench_function("uncontended/monitor", |b| {
        b.iter(|| drop(black_box(monitors.monitor(&watcher, &target, "bench"))));
    });
    // The same with another monitor between the two held throughout: the
    // processes' hook lists are then already allocated, as they are for a
    // watcher that holds several monitors.
    let held = monitors.monitor(&watcher, &target, "held");
    group.bench_function("uncontended/monitor_beside_another", |b| {
        b.iter(|| drop(black_box(monitors.monitor(&watcher, &target, "bench"))));
    });
    drop(held);
    group.bench_function("uncontended/watch", |b| {
        b.iter(|| drop(black_box(monitors.watch(&target, "bench"))));
    });
    // Two threads, one target, a watcher each: the time per pair on each thread.
    group.bench_function("two_threads/monitor", |b| {
        b.iter_custom(|iters| {
            let start = Barrier::new(2);
            std::thread::scope(|scope| {
                let runs = [&watcher, &other_watcher].map(|watcher| {
                    let (start, monitors, target) = (&start, &monitors, &target);
                    scope.spawn(move || {
                        start.wait();
                        let begun = Instant::now();
                        for _ in 0..iters {
                            drop(black_box(monitors.monitor(watcher, target, "bench")));
                        }
                        begun.elapsed()
                    })
                });
                runs.into_iter()
                    .map(|run| run.join().expect("the bench thread finishes"))
                    .max()
                    .unwrap_or_default()
            })
        });
    });

    let (ractor_target, ractor_watcher) = rt.block_on(async {
        let (signal, _) = mpsc::channel(1);
        let target = ractor::Actor::spawn(None, RactorSignaller, signal.clone()).await;
        let watcher = ractor::Actor::spawn(None, RactorSignaller, signal).await;
        (target.expect("starts"), watcher.expect("starts"))
    });
    let (target_cell, watcher_cell) = (ractor_target.0.get_cell(), ractor_watcher.0.get_cell());
    group.bench_function("ractor/monitor_unmonitor", |b| {
        b.iter(|| {
            watcher_cell.monitor(black_box(target_cell.clone()));
            watcher_cell.unmonitor(black_box(target_cell.clone()));
        });
    });
    group.finish();
    assert_eq!(monitors.stats().active, 0);
}

fn down_latency(c: &mut Criterion) {
    let rt = runtime();
    let monitors = MonitorManager::new();
    let (watcher_actor, watcher, mut signals) = rt.block_on(signaller());

    let mut group = c.benchmark_group("down_latency");
    // From the target's kill to the watcher handling the DOWN.
    group.bench_function("foundation/down", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_target, target, _) = rt.block_on(signaller());
                let monitor = monitors.monitor(&watcher, &target, "bench");
                let begun = Instant::now();
                target.kill();
                rt.block_on(wait(&mut signals));
                total += begun.elapsed();
                drop(monitor);
            }
            total
        });
    });
    // The same DOWN awaited on the guard by non-actor code: no watcher to wake.
    group.bench_function("foundation/down_awaited", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_target, target, _) = rt.block_on(signaller());
                let mut monitor = monitors.watch(&target, "bench");
                let begun = Instant::now();
                target.kill();
                let down = rt.block_on(monitor.down(PATIENCE));
                total += begun.elapsed();
                assert!(down.is_ok(), "a DOWN within {PATIENCE:?}");
            }
            total
        });
    });
    // The mailbox's own message latency: a cast to the watcher, handled.
    // Each iteration starts and kills a process first, untimed, as the DOWN
    // loop does, so the watcher is in the same (dormant) state both times.
    group.bench_function("foundation/cast", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (_target, target, _) = rt.block_on(signaller());
                target.kill();
                let begun = Instant::now();
                rt.block_on(async {
                    watcher_actor.cast(()).await.expect("alive");
                    wait(&mut signals).await;
                });
                total += begun.elapsed();
            }
            total
        });
    });

    group.finish();
}

fn ractor_down_latency(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("down_latency");
    let (ractor_signal, mut ractor_signals) = mpsc::channel(1024);
    let (ractor_watcher, _handle) = rt
        .block_on(ractor::Actor::spawn(
            None,
            RactorSignaller,
            ractor_signal.clone(),
        ))
        .expect("starts");
    group.bench_function("ractor/down", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (unused, _) = mpsc::channel(1);
                let (target, handle) = rt
                    .block_on(ractor::Actor::spawn(None, RactorSignaller, unused))
                    .expect("starts");
                ractor_watcher.get_cell().monitor(target.get_cell());
                let begun = Instant::now();
                target.kill();
                rt.block_on(wait(&mut ractor_signals));
                total += begun.elapsed();
                rt.block_on(async {
                    let ended = tokio::time::timeout(PATIENCE, handle).await;
                    assert!(matches!(ended, Ok(Ok(()))), "the target ends");
                });
            }
            total
        });
    });
    group.bench_function("ractor/cast", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (unused, _) = mpsc::channel(1);
                let (target, handle) = rt
                    .block_on(ractor::Actor::spawn(None, RactorSignaller, unused))
                    .expect("starts");
                target.kill();
                rt.block_on(async {
                    let ended = tokio::time::timeout(PATIENCE, handle).await;
                    assert!(matches!(ended, Ok(Ok(()))), "the target ends");
                });
                let begun = Instant::now();
                ractor_watcher.cast(()).expect("alive");
                rt.block_on(wait(&mut ractor_signals));
                total += begun.elapsed();
            }
            total
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = create_and_drop, down_latency, ractor_down_latency
}
criterion_main!(benches);
