//! The tour's stop for the process core's newer parts: a name to reach an
//! actor by, a timer the actor owns and cancels for good, a reply the actor
//! keeps and sends later, and a DOWN that arrives after the dead worker's
//! last message.

use std::time::Duration;

use foundation::mailbox::{
    Actor, ActorRef, Context, ExitReason, Reference, Registry, Reply, SystemMessage, start,
};
use tokio::sync::mpsc;

const TIMEOUT: Duration = Duration::from_secs(1);
const TICK: Duration = Duration::from_millis(10);

/// Counts the ticks of its own interval timer and reports each one.
#[derive(Debug)]
struct Metronome {
    ticks: u32,
    report: mpsc::Sender<u32>,
    /// Callers waiting for the last beat: their replies are deferred.
    waiting: Vec<Reply<u32>>,
}

#[derive(Debug)]
enum Beat {
    Tick,
    /// Answered with the count once the last beat has played.
    WhenDone(Reply<u32>),
}

#[derive(Clone, Debug)]
struct Tick;

impl From<Tick> for Beat {
    fn from(Tick: Tick) -> Self {
        Beat::Tick
    }
}

/// How many beats the metronome plays before it cancels its own timer.
const BEATS: u32 = 3;

impl Actor for Metronome {
    type Args = mpsc::Sender<u32>;
    type Msg = Beat;
    type Error = std::convert::Infallible;

    async fn init(report: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        // The timer belongs to the actor: no task waits for it, and it goes
        // when the actor does.
        ctx.interval("beat", TICK, Tick)
            .expect("the beat's period is above zero");
        Ok(Metronome {
            ticks: 0,
            report,
            waiting: Vec::new(),
        })
    }

    async fn handle(&mut self, beat: Beat, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match beat {
            // No poll, no sleep: the reply waits in the state until it is due.
            Beat::WhenDone(reply) if self.ticks < BEATS => self.waiting.push(reply),
            Beat::WhenDone(reply) => answer(reply, self.ticks),
            Beat::Tick => {
                self.ticks += 1;
                tell(&self.report, self.ticks);
                if self.ticks == BEATS {
                    // A cancel is final, even for a tick already queued: the
                    // count stops here whatever the scheduler did meanwhile.
                    ctx.cancel_timer(&"beat");
                    for reply in self.waiting.drain(..) {
                        answer(reply, self.ticks);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Prints what it is sent and the DOWNs it gets, in the order it gets them.
#[derive(Debug)]
struct Foreman(mpsc::Sender<String>);

impl Actor for Foreman {
    type Args = mpsc::Sender<String>;
    type Msg = String;
    type Error = std::convert::Infallible;

    async fn init(log: Self::Args, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Foreman(log))
    }

    async fn handle(&mut self, line: String, _ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        tell(&self.0, line);
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if let SystemMessage::Down(down) = message {
            tell(&self.0, format!("DOWN ({})", down.reason));
        }
        Ok(())
    }
}

/// Sends its result to the foreman, then stops.
#[derive(Debug)]
struct Worker(ActorRef<Foreman>);

impl Actor for Worker {
    type Args = ActorRef<Foreman>;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(foreman: Self::Args, _ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker(foreman))
    }

    async fn handle(&mut self, (): (), ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        if let Err(error) = self.0.cast("the job is done".to_owned()).await {
            println!("  the foreman is gone: {error}");
        }
        ctx.stop(ExitReason::Normal);
        Ok(())
    }
}

/// Answers a deferred call; a caller that gave up is told on the tour's output.
fn answer(reply: Reply<u32>, ticks: u32) {
    if reply.send(ticks).is_err() {
        println!("  (the caller stopped waiting)");
    }
}

/// Hands `value` to the tour, which reads every line it expects; a full or
/// closed channel means the tour has moved on, and says so.
fn tell<T>(to: &mpsc::Sender<T>, value: T) {
    if let Err(error) = to.try_send(value) {
        println!("  (the tour was not listening: {error})");
    }
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== names, timers and the order of signals");

    let names: Registry<&'static str> = Registry::new();
    let (report, mut ticks) = mpsc::channel(8);
    let (metronome, handle) = start::<Metronome>(report).await?;
    names.register("metronome", &metronome)?;
    // Asked by name before the first beat; the metronome keeps the reply
    // port and answers after the last one.
    let asked = names.call::<Metronome, _>("metronome", Beat::WhenDone, TIMEOUT);
    let beats = async {
        for _ in 0..BEATS {
            if let Some(tick) = ticks.recv().await {
                println!("  tick {tick}");
            }
        }
    };
    let (counted, ()) = tokio::join!(asked, beats);
    println!(
        "  asked by name before the first tick, answered after the last (a deferred reply): {} ticks, and its timer is cancelled for good",
        counted?
    );
    metronome.stop(ExitReason::Normal, TIMEOUT).await?;
    handle.wait(TIMEOUT).await?;
    println!(
        "  stopped: the name is free again ({} names registered)",
        names.len()
    );

    let (log, mut lines) = mpsc::channel(8);
    let (foreman, _foreman) = start::<Foreman>(log).await?;
    let (worker, worker_handle) = start::<Worker>(foreman.clone()).await?;
    worker
        .process_ref()
        .notify_on_exit(&foreman, Reference::new());
    worker.cast(()).await?;
    worker_handle.wait(TIMEOUT).await?;
    for _ in 0..2 {
        if let Some(line) = lines.recv().await {
            println!("  the foreman sees: {line}");
        }
    }
    println!("  (a DOWN never overtakes the dead worker's last message)");
    foreman.stop(ExitReason::Normal, TIMEOUT).await?;
    Ok(())
}
