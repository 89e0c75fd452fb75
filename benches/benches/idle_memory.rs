//! What an idle actor costs in resident memory, Foundation against a bare
//! tokio task and the peer frameworks, and what a drained burst leaves behind.
//!
//! Each contender runs in a fresh child process (this binary, re-run with
//! `--only NAME`), so one contender's freed memory cannot flatter the next.
//! A child starts N idle actors, checks each has really started, and reports
//! the growth of its resident set divided by N. The refs and handles the
//! benchmark keeps are counted, as a program keeping its actors would.
//!
//! Run: `cargo bench -p foundation-benches --bench idle_memory`; for the
//! million-actor total, add `-- --only foundation --actors 1000000`.

use std::{
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_benches::{
    actix_counter, foundation_counter, kameo_counter, ractor_counter, runtime,
};
use foundation_mailbox::{
    Actor, ActorHandle, ActorOptions, ActorRef, Context, ExitReason, Reply, start, start_with,
};
use tokio::sync::{Semaphore, mpsc};

const DEFAULT_ACTORS: usize = 100_000;
const BURST: u64 = 10_000;
const BURST_ACTORS: usize = 100;
const PATIENCE: Duration = Duration::from_secs(60);
const CONTENDERS: [&str; 5] = ["tokio_task_mpsc", "foundation", "actix", "ractor", "kameo"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let actors = flag(&args, "--actors")
        .and_then(|text| text.parse().ok())
        .unwrap_or(DEFAULT_ACTORS);
    match flag(&args, "--only") {
        Some(name) => child(&name, actors),
        None => parent(&args[0], actors),
    }
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|arg| arg == name)
        .and_then(|index| args.get(index + 1).cloned())
}

fn parent(program: &str, actors: usize) {
    println!("idle actors: {actors} per contender, bytes of resident memory per actor");
    let mut results = Vec::new();
    for name in CONTENDERS
        .into_iter()
        .chain(["foundation_called", "foundation_burst"])
    {
        let output = Command::new(program)
            .args(["--only", name, "--actors", &actors.to_string()])
            .output()
            .expect("run the benchmark child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        print!("{stdout}");
        if !output.status.success() {
            eprintln!("{name} failed: {}", String::from_utf8_lossy(&output.stderr));
            continue;
        }
        if let Some(bytes) = stdout
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{name}: ")))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|number| number.parse::<f64>().ok())
        {
            results.push((name, bytes));
        }
    }
    let floor = results
        .iter()
        .find(|(name, _)| *name == "tokio_task_mpsc")
        .map(|(_, bytes)| *bytes);
    if let Some(floor) = floor {
        println!("\nratios to a tokio task on an empty mpsc::channel(1024):");
        for (name, bytes) in &results {
            println!("  {name:<16} {:>7.0} B  {:>5.2} x", bytes, bytes / floor);
        }
    }
}

fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("resident pages in statm");
    pages * 4096
}

fn report(name: &str, actors: usize, before: usize, after: usize) {
    let grown = after.saturating_sub(before) as f64;
    println!(
        "{name}: {:.0} bytes/actor ({:.1} MiB for {actors} actors)",
        grown / actors as f64,
        grown / (1024.0 * 1024.0)
    );
}

fn child(name: &str, actors: usize) {
    if name == "actix" {
        return actix_child(actors);
    }
    runtime("multi_thread").block_on(async {
        match name {
            "tokio_task_mpsc" => tokio_child(actors).await,
            "foundation" => foundation_child(actors).await,
            "ractor" => ractor_child(actors).await,
            "kameo" => kameo_child(actors).await,
            "foundation_called" => called_child(actors).await,
            "foundation_burst" => burst_child().await,
            other => eprintln!("unknown contender {other}"),
        }
    });
}

async fn tokio_child(actors: usize) {
    let started = Arc::new(AtomicUsize::new(0));
    let mut kept = Vec::with_capacity(actors);
    let before = resident_bytes();
    for _ in 0..actors {
        let (sender, mut receiver) = mpsc::channel::<u64>(1024);
        let started = started.clone();
        // audit:allow(FND001) the floor being measured is a bare tokio task
        let task = tokio::spawn(async move {
            started.fetch_add(1, Ordering::Relaxed);
            while receiver.recv().await.is_some() {}
        });
        kept.push((sender, task));
    }
    while started.load(Ordering::Relaxed) < actors {
        tokio::task::yield_now().await;
    }
    report("tokio_task_mpsc", actors, before, resident_bytes());
    drop(kept);
}

async fn foundation_child(actors: usize) {
    let mut kept = Vec::with_capacity(actors);
    let before = resident_bytes();
    for _ in 0..actors {
        // `start` returns once init has run: each actor has really started.
        kept.push(
            start::<foundation_counter::Counter>(())
                .await
                .expect("starts"),
        );
    }
    report("foundation", actors, before, resident_bytes());
    let (counter, _) = &kept[actors / 2];
    assert_eq!(
        counter.mailbox_stats().reserved_slots,
        0,
        "idle mailboxes hold no slots"
    );
    stop_all(kept).await;
}

async fn ractor_child(actors: usize) {
    let mut kept = Vec::with_capacity(actors);
    let before = resident_bytes();
    for _ in 0..actors {
        kept.push(ractor_counter::start().await);
    }
    report("ractor", actors, before, resident_bytes());
}

async fn kameo_child(actors: usize) {
    let mut kept = Vec::with_capacity(actors);
    let before = resident_bytes();
    for _ in 0..actors {
        let counter = kameo_counter::start(1024);
        counter.wait_for_startup().await;
        kept.push(counter);
    }
    report("kameo", actors, before, resident_bytes());
}

fn actix_child(actors: usize) {
    let system = actix::System::new();
    system.block_on(async {
        use actix::Actor;
        let mut kept = Vec::with_capacity(actors);
        let before = resident_bytes();
        for _ in 0..actors {
            kept.push(actix_counter::Counter::default().start());
        }
        // A reply from each proves it started.
        for counter in &kept {
            counter.send(actix_counter::Get).await.expect("answers");
        }
        report("actix", actors, before, resident_bytes());
    });
}

/// An actor that can be held inside a handler so a burst really queues up.
#[derive(Debug)]
struct Holdable(u64);

#[derive(Debug)]
enum Burst {
    Hold(Arc<Semaphore>),
    Add(u64),
    Total(Reply<u64>),
}

impl Actor for Holdable {
    type Args = ();
    type Msg = Burst;
    type Error = std::convert::Infallible;

    async fn init((): (), _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Holdable(0))
    }

    async fn handle(
        &mut self,
        message: Burst,
        _ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match message {
            Burst::Hold(gate) => gate.acquire().await.expect("gate open").forget(),
            Burst::Add(n) => self.0 += n,
            Burst::Total(reply) => reply.send(self.0).unwrap_or_default(),
        }
        Ok(())
    }
}

/// Stops every counter a child kept, owner handles last.
async fn stop_all(kept: Vec<(ActorRef<foundation_counter::Counter>, ActorHandle)>) {
    for (counter, handle) in kept {
        counter
            .stop(ExitReason::Normal, PATIENCE)
            .await
            .expect("stops");
        drop(handle);
    }
}

/// Idle actors that each answered one call and went dormant again: what a
/// mailbox keeps of its buffers between activations (a lane's small
/// buffers and its call marks stay with it; see `docs/process-core.md`).
async fn called_child(actors: usize) {
    let mut kept = Vec::with_capacity(actors);
    let before = resident_bytes();
    for _ in 0..actors {
        let (counter, handle) = start::<foundation_counter::Counter>(())
            .await
            .expect("starts");
        counter
            .call(foundation_counter::Msg::Get, PATIENCE)
            .await
            .expect("answers");
        kept.push((counter, handle));
    }
    // Every call's activation has ended: each actor is dormant.
    for (counter, _) in &kept {
        while !counter.is_dormant() {
            tokio::task::yield_now().await;
        }
    }
    report("foundation_called", actors, before, resident_bytes());
    stop_all(kept).await;
}

/// Idle size, then a burst of 10,000 queued messages per actor, drained:
/// what the mailbox keeps afterwards, by its own accounting and by RSS, and
/// whether a second burst reuses what the first freed.
async fn burst_child() {
    let options = ActorOptions::new().capacity(BURST as usize + 1);
    let mut kept = Vec::with_capacity(BURST_ACTORS);
    let before = resident_bytes();
    for _ in 0..BURST_ACTORS {
        kept.push(
            start_with::<Holdable>((), options.clone())
                .await
                .expect("starts"),
        );
    }
    let idle = resident_bytes();
    let (peak, peak_reserved) = burst_round(&kept).await;
    let drained = resident_bytes();
    let kept_reserved = kept
        .iter()
        .map(|(actor, _)| actor.mailbox_stats().reserved_bytes)
        .max()
        .unwrap_or(0);
    // The allocator keeps freed pages for reuse instead of returning them to
    // the OS, so RSS after a drain overstates what the actors hold. A second
    // burst shows the freed storage is really free: it reuses it.
    let (second_peak, _) = burst_round(&kept).await;
    let per = |bytes: usize| bytes.saturating_sub(before) as f64 / BURST_ACTORS as f64;
    println!(
        "foundation_burst: {:.0} bytes/actor idle; mailbox storage after draining {kept_reserved} B \
         (peak {peak_reserved} B); RSS/actor at peak {:.0}, after draining {:.0}, at a second \
         burst's peak {:.0} ({})",
        per(idle),
        per(peak),
        per(drained),
        per(second_peak),
        if second_peak <= peak + peak / 20 {
            "the freed storage was reused"
        } else {
            "grew: the first burst's storage was not reused"
        },
    );
}

/// Holds each actor inside a handler, queues a burst behind it, releases it
/// and waits for every burst to drain. Returns RSS at the peak and the
/// largest mailbox storage seen.
async fn burst_round(kept: &[(ActorRef<Holdable>, ActorHandle)]) -> (usize, usize) {
    let gate = Arc::new(Semaphore::new(0));
    let mut peak_reserved = 0;
    for (actor, _) in kept {
        actor.cast(Burst::Hold(gate.clone())).await.expect("alive");
        for n in 0..BURST {
            actor.cast(Burst::Add(n)).await.expect("alive");
        }
        peak_reserved = peak_reserved.max(actor.mailbox_stats().reserved_bytes);
    }
    let peak = resident_bytes();
    gate.add_permits(kept.len());
    for (actor, _) in kept {
        actor.call(Burst::Total, PATIENCE).await.expect("answers");
    }
    (peak, peak_reserved)
}
