//! How ticks go out: through supervised send with retries and backoff, to
//! a dead letter after the last attempt; and a cancel that is final, even
//! for a tick already due, one waiting for room in a full mailbox, or one
//! waiting in a retry's backoff.

#[path = "support/recorder.rs"]
mod support;

use std::{future::Future, sync::Arc, time::Duration};

use foundation_dead_letter::{Config as DeadLetterConfig, DeadLetterQueue, Filter};
use foundation_mailbox::{Actor, ActorOptions, Context, Registry, Reply, start_with};
use foundation_persistence::{Entry, Listed, MemoryStore, StateStore, Store, StoreError, Version};
use foundation_scheduler::{Config, Job, Scheduler, TokioClock};
use foundation_supervised_send::{Backoff, OnError, SendOptions, Target};
use support::{Hold, Recorder, advance_by, recorder, schedule_beat, seen, settle, target};
use tokio::sync::{Notify, oneshot};

const STEP: Duration = Duration::from_millis(100);

fn backoff(initial: Duration) -> Backoff {
    Backoff {
        initial,
        factor: 2.0,
        max: Duration::from_secs(10),
        jitter: 0.0,
    }
}

#[tokio::test(start_paused = true)]
async fn a_delivery_is_retried_with_backoff_then_dead_lettered_with_its_job_key() {
    let registry: Registry<&'static str> = Registry::new();
    let dead_letters = DeadLetterQueue::new(DeadLetterConfig::default()).unwrap();
    // Nobody ever registers "absent": every attempt fails, retryably.
    let target: Target<String> = Target::named::<Recorder, _>(&registry, "absent");
    let options = SendOptions::new()
        .timeout(Duration::from_secs(30))
        .max_attempts(3)
        .backoff(backoff(Duration::from_millis(200)))
        .on_error(OnError::DeadLetter(dead_letters.clone()));
    let config = Config::new(target)
        .send_options(options)
        .clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(Job::after(
            "invoice/7",
            Duration::from_secs(1),
            "send invoice 7".to_string(),
        ))
        .await
        .unwrap();

    advance_by(Duration::from_millis(1_100), STEP).await;
    assert!(
        dead_letters.is_empty(),
        "still retrying after the first attempt"
    );
    advance_by(Duration::from_secs(1), STEP).await; // retries at +200 ms and +600 ms
    let letters = dead_letters.list(&Filter::all(), 10);
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].metadata["job"], "invoice/7");
    let stats = scheduler.stats().await.unwrap();
    assert_eq!((stats.fired, stats.delivered, stats.failed), (1, 0, 1));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_right_as_the_tick_comes_due_leaves_no_late_delivery() {
    // Each round cancels after a different number of scheduler turns past
    // the due instant: before the timer's wake is handled, between it and
    // the run, during the run.
    let mut delivered_before_cancel = 0;
    for turns in 0..12 {
        let inbox = recorder(Hold::No).await;
        let config = Config::new(target(&inbox)).clock(TokioClock::new());
        let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
        schedule_beat(&scheduler).await;
        tokio::time::advance(Duration::from_secs(1)).await;
        for _ in 0..turns {
            tokio::task::yield_now().await;
        }
        assert!(scheduler.cancel("beat").await.unwrap());
        let at_cancel = seen(&inbox).await.len();
        delivered_before_cancel += at_cancel;
        advance_by(Duration::from_secs(3), STEP).await;
        assert_eq!(
            seen(&inbox).await.len(),
            at_cancel,
            "a delivery after the cancel returned ({turns} turns)"
        );
        assert_eq!(scheduler.job("beat").await.unwrap(), None);
    }
    assert!(
        delivered_before_cancel < 12,
        "some rounds cancelled the due tick itself"
    );
}

/// A store whose writes to keys under `slow/` wait until released, to hold
/// the scheduler inside a handler while messages queue behind it.
#[derive(Clone)]
struct SlowStore {
    inner: MemoryStore,
    release: Arc<Notify>,
}

impl StateStore for SlowStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        self.inner.put(key, value).await
    }
    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        if key.starts_with("jobs/slow/") {
            let _ = tokio::time::timeout(Duration::from_secs(600), self.release.notified()).await;
        }
        self.inner.compare_and_set(key, expected, value).await
    }
    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.inner.list(prefix).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancel_queued_behind_the_due_tick_stops_the_run_that_tick_started() {
    let inbox = recorder(Hold::No).await;
    let release = Arc::new(Notify::new());
    let store = SlowStore {
        inner: MemoryStore::new(),
        release: Arc::clone(&release),
    };
    let config = Config::new(target(&inbox))
        .store(Store::new(store), "jobs/")
        .clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    schedule_beat(&scheduler).await;

    // The scheduler is held inside the next schedule's save while the tick
    // comes due: the timer's wake queues, and the cancel queues behind it.
    let held = scheduler.schedule(Job::after(
        "slow/job",
        Duration::from_secs(60),
        "x".to_string(),
    ));
    let cancel = async {
        settle().await; // the scheduler is inside the slow save
        tokio::time::advance(Duration::from_secs(1)).await;
        settle().await; // the wake is queued
        let cancelled = scheduler.cancel("beat");
        tokio::pin!(cancelled);
        // Polled once: the cancel is queued behind the wake.
        let pending = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(cancelled.as_mut().poll(cx).is_pending())
        });
        assert!(pending.await);
        release.notify_one();
        cancelled.await
    };
    let (held, cancelled) = tokio::join!(held, cancel);
    held.unwrap();
    assert!(cancelled.unwrap());

    advance_by(Duration::from_secs(3), STEP).await;
    assert!(
        seen(&inbox).await.is_empty(),
        "the run the due tick started delivered nothing"
    );
    let stats = scheduler.stats().await.unwrap();
    assert_eq!(
        (stats.fired, stats.delivered),
        (1, 0),
        "the tick was taken and handed to its run"
    );
}

/// An actor whose handler can be held up, with a mailbox of one.
#[derive(Debug, Default)]
struct Stuck(Vec<String>);

#[derive(Debug)]
enum StuckMsg {
    Note(String),
    Wait(oneshot::Receiver<()>),
    Seen(Reply<Vec<String>>),
}

impl From<String> for StuckMsg {
    fn from(note: String) -> Self {
        StuckMsg::Note(note)
    }
}

impl Actor for Stuck {
    type Args = ();
    type Msg = StuckMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Stuck::default())
    }

    async fn handle(&mut self, msg: StuckMsg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            StuckMsg::Note(note) => self.0.push(note),
            StuckMsg::Wait(release) => {
                let _ = tokio::time::timeout(Duration::from_secs(600), release).await;
            }
            StuckMsg::Seen(reply) => reply.send(self.0.clone()).unwrap_or_default(),
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_cancel_withdraws_a_tick_waiting_for_room_in_a_full_mailbox() {
    let (stuck, _handle) = start_with::<Stuck>((), ActorOptions::new().capacity(1))
        .await
        .unwrap();
    let (release, held) = oneshot::channel();
    stuck.cast(StuckMsg::Wait(held)).await.unwrap();
    settle().await; // the handler now waits
    stuck.cast(StuckMsg::Note("filler".into())).await.unwrap(); // the mailbox is full

    let options = SendOptions::new().timeout(Duration::from_secs(60));
    let config = Config::new(Target::recipient(stuck.recipient::<String>()))
        .send_options(options)
        .clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(Job::after(
            "late",
            Duration::from_secs(1),
            "late".to_string(),
        ))
        .await
        .unwrap();
    advance_by(Duration::from_secs(2), STEP).await;
    let info = scheduler.job("late").await.unwrap().unwrap();
    assert_eq!(info.running, 1, "the delivery waits for room");

    assert!(scheduler.cancel("late").await.unwrap());
    release.send(()).unwrap();
    settle().await;
    advance_by(Duration::from_secs(2), STEP).await;
    let seen = stuck
        .call(StuckMsg::Seen, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(
        seen,
        ["filler"],
        "the cancelled tick never reached the mailbox"
    );
}

#[tokio::test(start_paused = true)]
async fn a_cancel_stops_a_delivery_waiting_in_a_retry_backoff() {
    let registry: Registry<&'static str> = Registry::new();
    let target: Target<String> = Target::named::<Recorder, _>(&registry, "later");
    let options = SendOptions::new()
        .timeout(Duration::from_secs(60))
        .max_attempts(5)
        .backoff(backoff(Duration::from_secs(2)));
    let config = Config::new(target)
        .send_options(options)
        .clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(Job::after(
            "retrying",
            Duration::from_secs(1),
            "retrying".to_string(),
        ))
        .await
        .unwrap();
    advance_by(Duration::from_millis(1_500), STEP).await; // first attempt failed; next at 3 s

    assert!(scheduler.cancel("retrying").await.unwrap());
    let inbox = recorder(Hold::No).await;
    registry.register("later", &inbox).unwrap();
    advance_by(Duration::from_secs(10), STEP).await;
    assert!(seen(&inbox).await.is_empty(), "no retry after the cancel");
    let stats = scheduler.stats().await.unwrap();
    assert_eq!((stats.delivered, stats.failed, stats.cancelled), (0, 0, 1));
}

#[tokio::test(start_paused = true)]
async fn no_more_deliveries_are_in_flight_than_the_bound_and_the_rest_wait_in_order() {
    let inbox = recorder(Hold::UntilReleased).await;
    let config = Config::acked(support::acked_target(&inbox))
        .send_options(SendOptions::new().timeout(Duration::from_secs(60)))
        .max_in_flight(2)
        .clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    for n in 0..5 {
        let job = Job::after(format!("job/{n}"), Duration::from_secs(1), format!("{n}"));
        scheduler.schedule(job).await.unwrap();
    }
    advance_by(Duration::from_secs(2), STEP).await;
    let notes =
        |seen: Vec<(Duration, String)>| seen.into_iter().map(|(_, note)| note).collect::<Vec<_>>();
    assert_eq!(
        notes(seen(&inbox).await),
        ["0", "1"],
        "two in flight, three waiting"
    );
    inbox.cast(support::Msg::Release).await.unwrap();
    settle().await;
    assert_eq!(notes(seen(&inbox).await), ["0", "1", "2", "3"]);
    inbox.cast(support::Msg::Release).await.unwrap();
    settle().await;
    assert_eq!(notes(seen(&inbox).await), ["0", "1", "2", "3", "4"]);
}

/// Resolves to a recipient, but panics the first time.
struct PanicsOnce {
    inbox: foundation_mailbox::Recipient<String>,
    calls: std::sync::atomic::AtomicU32,
}

impl foundation_supervised_send::Resolve<String> for PanicsOnce {
    fn resolve(
        &self,
    ) -> Result<foundation_mailbox::Recipient<String>, foundation_supervised_send::Failure> {
        if self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            panic!("a resolver bug");
        }
        Ok(self.inbox.clone())
    }

    fn describe(&self) -> String {
        "panics once".into()
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_user_code_during_a_delivery_fails_that_tick_and_the_job_goes_on() {
    let inbox = recorder(Hold::No).await;
    let target = Target::resolver(PanicsOnce {
        inbox: inbox.recipient::<String>(),
        calls: std::sync::atomic::AtomicU32::new(0),
    });
    let config = Config::new(target).clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    schedule_beat(&scheduler).await;
    advance_by(Duration::from_millis(2_500), STEP).await;
    let arrivals: Vec<u128> = seen(&inbox)
        .await
        .iter()
        .map(|(at, _)| at.as_millis())
        .collect();
    assert_eq!(
        arrivals,
        [2_000],
        "the first tick panicked, the second was delivered"
    );
    let stats = scheduler.stats().await.unwrap();
    assert_eq!(
        (stats.fired, stats.delivered, stats.failed, stats.overlapped),
        (2, 1, 1, 0)
    );
}
