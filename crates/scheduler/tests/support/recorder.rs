//! A recipient for the scheduler's tests: it records what arrives and when
//! (tokio's time since it started), and can hold acknowledgements so a
//! delivery stays "still going" as long as the test wants.

#![allow(dead_code, unreachable_pub)] // Each test file uses a part of it.

use std::time::Duration;

use foundation_mailbox::{Actor, ActorRef, Context, ExitReason, Reply, start};
use foundation_scheduler::{Job, Scheduler};
use foundation_supervised_send::{Ack, Acked, Target};
use tokio::time::Instant;

/// How the recorder acknowledges acked deliveries.
#[derive(Clone, Copy, Debug)]
pub enum Hold {
    /// At once.
    No,
    /// This long after arrival (a mailbox timer: tokio's time).
    For(Duration),
    /// Only the first one until [`Msg::Release`]; the rest at once.
    FirstUntilReleased,
    /// Every one until [`Msg::Release`].
    UntilReleased,
}

#[derive(Debug)]
pub struct Recorder {
    start: Instant,
    seen: Vec<(Duration, String)>,
    held: Vec<(u64, Ack)>,
    hold: Hold,
    next: u64,
}

#[derive(Debug)]
pub enum Msg {
    Note(String),
    Tick(Acked<String>),
    Release,
    ReleaseOne(u64),
    Seen(Reply<Vec<(Duration, String)>>),
}

impl From<String> for Msg {
    fn from(note: String) -> Self {
        Msg::Note(note)
    }
}

impl From<Acked<String>> for Msg {
    fn from(tick: Acked<String>) -> Self {
        Msg::Tick(tick)
    }
}

impl Actor for Recorder {
    type Args = Hold;
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(hold: Hold, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Recorder {
            start: Instant::now(),
            seen: Vec::new(),
            held: Vec::new(),
            hold,
            next: 0,
        })
    }

    async fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Note(note) => self.seen.push((self.start.elapsed(), note)),
            Msg::Tick(tick) => {
                let (note, ack) = tick.accept().into_parts();
                let first = self.seen.is_empty();
                self.seen.push((self.start.elapsed(), note));
                self.next += 1;
                match self.hold {
                    Hold::No => drop(ack),
                    Hold::For(delay) => {
                        self.held.push((self.next, ack));
                        ctx.send_after(self.next, delay, Msg::ReleaseOne(self.next));
                    }
                    Hold::FirstUntilReleased if !first => drop(ack),
                    Hold::FirstUntilReleased | Hold::UntilReleased => {
                        self.held.push((self.next, ack));
                    }
                }
            }
            Msg::Release => self.held.clear(),
            Msg::ReleaseOne(id) => self.held.retain(|(held, _)| *held != id),
            Msg::Seen(reply) => reply.send(self.seen.clone()).unwrap_or_default(),
        }
        Ok(())
    }
}

pub async fn recorder(hold: Hold) -> ActorRef<Recorder> {
    start::<Recorder>(hold).await.unwrap().0
}

pub fn target(recorder: &ActorRef<Recorder>) -> Target<String> {
    Target::recipient(recorder.recipient::<String>())
}

pub fn acked_target(recorder: &ActorRef<Recorder>) -> Target<Acked<String>> {
    Target::recipient(recorder.recipient::<Acked<String>>())
}

pub async fn seen(recorder: &ActorRef<Recorder>) -> Vec<(Duration, String)> {
    recorder
        .call(Msg::Seen, Duration::from_secs(1))
        .await
        .unwrap()
}

/// Arrival times in milliseconds.
pub async fn arrivals(recorder: &ActorRef<Recorder>) -> Vec<u128> {
    seen(recorder)
        .await
        .into_iter()
        .map(|(at, _)| at.as_millis())
        .collect()
}

/// Lets every ready task run (the ticker, the scheduler, its runs, the
/// recipient) without moving tokio's paused clock.
pub async fn settle() {
    for _ in 0..200 {
        tokio::task::yield_now().await;
    }
}

/// Moves paused time forward by `total` in `step`s, settling after each.
pub async fn advance_by(total: Duration, step: Duration) {
    let mut moved = Duration::ZERO;
    while moved < total {
        tokio::time::advance(step).await;
        settle().await;
        moved += step;
    }
}

/// Schedules the tests' usual periodic job: `beat`, "beat" every second
/// at a fixed rate.
pub async fn schedule_beat(scheduler: &Scheduler<String>) {
    scheduler
        .schedule(Job::fixed_rate(
            "beat",
            Duration::from_secs(1),
            "beat".to_string(),
        ))
        .await
        .unwrap();
}

/// Stops the scheduler's actor cleanly, as a program shutting down would.
pub async fn stop_scheduler(scheduler: &Scheduler<String>) {
    scheduler
        .actor()
        .unwrap()
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
}
