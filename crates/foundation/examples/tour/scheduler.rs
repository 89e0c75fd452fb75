//! Tour stop: jobs that send later, periodically, or on a cron schedule,
//! through supervised send; saved in a store, so a scheduler that went down
//! fires the ticks it missed by each job's misfire policy. The test kit's
//! manual clock moves time, so the output is the same on every run.

use std::time::Duration;

use foundation::{
    mailbox::{Actor, Context, ExitReason, start},
    persistence::{MemoryStore, Store},
    scheduler::{Config, Job, Misfire, Overlap, Scheduler},
    supervised_send::{OnError, SendOptions, Target},
};
use foundation_testkit::ManualClock;
use tokio::sync::mpsc;

const TIMEOUT: Duration = Duration::from_secs(5);

/// A front desk that passes on what the scheduler sends it.
#[derive(Debug)]
struct Desk(mpsc::Sender<String>);

impl Actor for Desk {
    type Args = mpsc::Sender<String>;
    type Msg = String;
    type Error = std::convert::Infallible;

    async fn init(out: mpsc::Sender<String>, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Desk(out))
    }

    async fn handle(&mut self, note: String, _: &mut Context<Self>) -> Result<(), Self::Error> {
        if self.0.send(note).await.is_err() {
            tracing::debug!("the tour stopped reading");
        }
        Ok(())
    }
}

/// Moves the clock by `by` and prints the `count` notes that come due.
async fn advance(
    clock: &ManualClock,
    by: Duration,
    notes: &mut mpsc::Receiver<String>,
    count: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    clock.advance(by);
    for _ in 0..count {
        let note = tokio::time::timeout(TIMEOUT, notes.recv())
            .await?
            .ok_or("the desk stopped")?;
        println!("  t = {:>3} s: {note}", clock.elapsed().as_secs());
    }
    Ok(())
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "== scheduler: later, every so often, on a cron schedule; jobs that survive a restart =="
    );
    let (out, mut notes) = mpsc::channel(16);
    let (desk, _handle) = start::<Desk>(out).await?;
    let clock = ManualClock::new();
    let config = Config::new(Target::actor(&desk))
        .send_options(SendOptions::new().max_attempts(3).on_error(OnError::Log))
        .store(Store::new(MemoryStore::new()), "tour-jobs/")
        .clock(clock.clone());
    let (scheduler, _actor) = Scheduler::start(config.clone()).await?;

    let invoice = Job::after(
        "invoice/7",
        Duration::from_secs(30),
        "send invoice 7".to_string(),
    );
    let heartbeat = Job::fixed_rate(
        "heartbeat",
        Duration::from_secs(10),
        "heartbeat".to_string(),
    )
    .overlap(Overlap::Skip)
    .misfire(Misfire::FireOnce);
    let report = Job::cron("report", "0 9 * * MON", "weekly report".to_string());
    scheduler.schedule(invoice).await?;
    scheduler.schedule(heartbeat).await?;
    scheduler.schedule(report).await?;
    if let Err(error) = scheduler
        .schedule(Job::cron("typo", "61 * * * *", String::new()))
        .await
    {
        println!("refused: {error}");
    }
    println!(
        "scheduled: {} jobs, saved in the store",
        scheduler.keys().await?.len()
    );

    advance(&clock, Duration::from_secs(10), &mut notes, 1).await?;
    advance(&clock, Duration::from_secs(10), &mut notes, 1).await?;
    advance(&clock, Duration::from_secs(10), &mut notes, 2).await?;

    // The program goes down for a minute: five heartbeats come and go.
    let actor = scheduler.actor().ok_or("the scheduler is running")?;
    actor.stop(ExitReason::Normal, TIMEOUT).await?;
    println!("scheduler stopped at t = 30 s; down for a minute");
    clock.advance(Duration::from_secs(60));
    let (scheduler, _actor) = Scheduler::start(config).await?;
    advance(&clock, Duration::ZERO, &mut notes, 1).await?;
    let stats = scheduler.stats().await?;
    println!(
        "restarted: {} jobs back from the store; missed heartbeats: 1 delivered (fire once), {} skipped",
        stats.loaded, stats.skipped
    );
    println!("cancel heartbeat: {}", scheduler.cancel("heartbeat").await?);
    Ok(())
}
