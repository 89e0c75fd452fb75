//! Tour stop: a watcher sees its DOWN with the reason; `find_leaks` names a monitor held too long.

use std::time::Duration;

use foundation::{
    mailbox::{Actor, Context, ExitReason, SystemMessage, start},
    monitor_manager::{MonitorManager, link},
};
use tokio::sync::mpsc;

const TIMEOUT: Duration = Duration::from_secs(1);

/// Passes every system message it gets (DOWNs, trapped exits) to the tour.
#[derive(Debug)]
struct Watcher {
    seen: mpsc::Sender<SystemMessage>,
}

/// A worker that does nothing but live until it is told to crash.
#[derive(Debug)]
struct Worker;

impl Actor for Watcher {
    type Args = mpsc::Sender<SystemMessage>;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(seen: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        // Linked workers' crashes arrive as messages instead of ending the watcher.
        ctx.trap_exits(true);
        Ok(Watcher { seen })
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if self.seen.send(message).await.is_err() {
            println!("    (the tour stopped listening)");
        }
        Ok(())
    }
}

impl Actor for Worker {
    type Args = ();
    type Msg = &'static str;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker)
    }

    async fn handle(
        &mut self,
        why: &'static str,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        panic!("{why}");
    }
}

async fn next(
    seen: &mut mpsc::Receiver<SystemMessage>,
) -> Result<SystemMessage, Box<dyn std::error::Error>> {
    match tokio::time::timeout(TIMEOUT, seen.recv()).await {
        Ok(Some(message)) => Ok(message),
        Ok(None) => Err("the watcher's channel closed".into()),
        Err(_) => Err(format!("no system message within {TIMEOUT:?}").into()),
    }
}

/// A watcher monitors a worker that crashes and sees one DOWN with the
/// reason; a link turns a second crash into a trapped exit; a monitor that
/// is never dropped shows up in `find_leaks` with its source location.
pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Monitors: exactly one DOWN, nothing after drop, leaks found by source line");
    let monitors = MonitorManager::new();
    let (events, mut seen) = mpsc::channel(16);
    let (watcher, _handle) = start::<Watcher>(events).await?;
    let watcher = watcher.process_ref();

    let (worker, _handle) = start::<Worker>(()).await?;
    let monitor = monitors.monitor(&watcher, &worker.process_ref(), "worker");
    println!(
        "  monitoring {} from {} ({} active)",
        worker.pid(),
        watcher.pid(),
        monitors.stats().active
    );
    worker.cast("bad input").await?;
    if let SystemMessage::Down(down) = next(&mut seen).await? {
        let ours = down.reference == monitor.reference();
        println!(
            "  watcher got DOWN for {}: {} (our monitor: {ours})",
            down.pid, down.reason
        );
    }
    drop(monitor);
    println!("  after the DOWN: {} active", monitors.stats().active);

    let (linked, _handle) = start::<Worker>(()).await?;
    let _link = link(&watcher, &linked.process_ref())?;
    linked.cast("disk on fire").await?;
    if let SystemMessage::Exit { from, reason } = next(&mut seen).await? {
        println!("  linked {from} crashed; the watcher traps exits, so it got EXIT: {reason}");
    }

    // A monitor someone forgot: held with its target and watcher alive.
    let (idle, _handle) = start::<Worker>(()).await?;
    let forgotten = monitors.monitor(&watcher, &idle.process_ref(), "session-cache");
    let leaks = monitors.find_leaks(Duration::ZERO);
    for group in &leaks.groups {
        println!(
            "  find_leaks: {} monitor(s) tagged `{}` made at {}",
            group.monitors.len(),
            group.tag,
            group.location
        );
    }
    drop(forgotten);
    println!("  after drop: {}", monitors.find_leaks(Duration::ZERO));
    idle.stop(ExitReason::Normal, TIMEOUT).await?;
    Ok(())
}
