//! What scheduled jobs cost: the live heap bytes per job with 100,000
//! fixed-rate jobs (counted by a counting global allocator), and firing
//! throughput (jobs due at the same instant, fired and delivered per
//! second). Both beside the raw tokio floor a scheduler would otherwise be
//! built on: one task sleeping per job, sending into an mpsc channel.
//!
//! Run with `cargo bench -p foundation-scheduler --bench scheduler`. The
//! memory report prints first; `-- --jobs N` changes its job count.

// `criterion_group!` generates a public function without docs.
#![allow(missing_docs)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicIsize, Ordering},
    time::{Duration, Instant},
};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use foundation_mailbox::{Actor, ActorRef, Context, start};
use foundation_scheduler::{Config, Job, Scheduler, TokioClock};
use foundation_supervised_send::Target;
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinSet,
};

/// Counts the bytes live on the heap.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

fn bytes(size: usize) -> isize {
    isize::try_from(size).unwrap_or(isize::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counter is only arithmetic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, passed on as is.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(bytes(layout.size()), Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` came from this allocator, that is from `System`,
        // with this layout (the caller's contract).
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(bytes(layout.size()), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`, and the caller upholds `realloc`'s
        // contract for `new_size`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_add(bytes(new_size) - bytes(layout.size()), Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// Counts deliveries and says when the expected number arrived.
#[derive(Debug)]
struct Sink {
    left: u64,
    done: Option<oneshot::Sender<()>>,
}

impl Actor for Sink {
    type Args = (u64, oneshot::Sender<()>);
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init((left, done): Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Sink {
            left,
            done: Some(done),
        })
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.left = self.left.saturating_sub(1);
        if self.left == 0
            && let Some(done) = self.done.take()
        {
            done.send(()).unwrap_or_default();
        }
        Ok(())
    }
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("a current-thread runtime builds")
}

async fn sink(expected: u64) -> (ActorRef<Sink>, oneshot::Receiver<()>) {
    let (done, delivered) = oneshot::channel();
    let (sink, _handle) = start::<Sink>((expected, done))
        .await
        .expect("the sink starts");
    (sink, delivered)
}

async fn scheduler(sink: &ActorRef<Sink>) -> Scheduler<()> {
    let config = Config::new(Target::actor(sink))
        .clock(TokioClock::new())
        .call_timeout(Duration::from_secs(60));
    Scheduler::start(config)
        .await
        .expect("the scheduler starts")
        .0
}

/// Live heap bytes per job: the scheduler's, and the tokio floor's.
fn memory(jobs: u64) {
    let runtime = paused_runtime();
    runtime.block_on(async {
        let (sink, _delivered) = sink(u64::MAX).await;
        let scheduler = scheduler(&sink).await;
        let before = live();
        for n in 0..jobs {
            let job = Job::fixed_rate(format!("job/{n}"), Duration::from_secs(3600), ());
            scheduler.schedule(job).await.expect("the job is accepted");
        }
        let per_job = (live() - before) as f64 / jobs as f64;
        println!("memory: foundation_scheduler: {per_job:.0} bytes per job ({jobs} fixed-rate jobs, no store)");

        let (sender, _receiver) = mpsc::channel::<()>(1024);
        let before = live();
        let mut tasks = JoinSet::new();
        for _ in 0..jobs {
            let sender = sender.clone();
            tasks.spawn(async move {
                let mut every = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    every.tick().await;
                    if sender.send(()).await.is_err() {
                        return;
                    }
                }
            });
        }
        tokio::task::yield_now().await;
        let per_task = (live() - before) as f64 / jobs as f64;
        println!("memory: tokio_task_per_job: {per_task:.0} bytes per job ({jobs} interval tasks)");
        tasks.abort_all();
    });
}

const FIRED: u64 = 10_000;

fn firing(c: &mut Criterion) {
    let mut group = c.benchmark_group("firing");
    group.sample_size(10);
    group.throughput(Throughput::Elements(FIRED));
    group.bench_function(BenchmarkId::new("foundation_scheduler", FIRED), |b| {
        b.iter_custom(|iterations| {
            let runtime = paused_runtime();
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(async {
                    let (sink, delivered) = sink(FIRED).await;
                    let scheduler = scheduler(&sink).await;
                    for n in 0..FIRED {
                        let job = Job::after(format!("job/{n}"), Duration::from_secs(1), ());
                        scheduler.schedule(job).await.expect("the job is accepted");
                    }
                    let start = Instant::now();
                    tokio::time::advance(Duration::from_secs(1)).await;
                    delivered.await.expect("every job is delivered");
                    start.elapsed()
                });
            }
            total
        });
    });
    group.bench_function(BenchmarkId::new("tokio_task_per_job", FIRED), |b| {
        b.iter_custom(|iterations| {
            let runtime = paused_runtime();
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                total += runtime.block_on(async {
                    let (sender, mut receiver) = mpsc::channel::<()>(1024);
                    let mut tasks = JoinSet::new();
                    let due = tokio::time::Instant::now() + Duration::from_secs(1);
                    for _ in 0..FIRED {
                        let sender = sender.clone();
                        tasks.spawn(async move {
                            // audit:allow(FND006) the floor under measure: a task per job sleeping until it is due (paused time)
                            tokio::time::sleep_until(due).await;
                            sender.send(()).await.unwrap_or_default();
                        });
                    }
                    tokio::task::yield_now().await;
                    let start = Instant::now();
                    tokio::time::advance(Duration::from_secs(1)).await;
                    for _ in 0..FIRED {
                        receiver.recv().await.expect("every task sends");
                    }
                    start.elapsed()
                });
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, firing);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let jobs = args
        .iter()
        .position(|arg| arg == "--jobs")
        .and_then(|index| args.get(index + 1))
        .and_then(|jobs| jobs.parse().ok())
        .unwrap_or(100_000);
    memory(jobs);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
