//! Timer tests, on paused tokio time: when ticks arrive, and that cancels are final.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{sync::oneshot, time::Instant};

use crate::{
    Actor, ActorOptions, ActorRef, Context, DeadLetter, DeadLetterSink, ExitReason, Reply,
    TimerError, start, start_with,
};

const CALL: Duration = Duration::from_secs(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Records each tick it handles, with when it handled it.
#[derive(Debug)]
struct Clock {
    base: Instant,
    log: Vec<(u32, Duration)>,
}

#[derive(Debug)]
enum Msg {
    After(&'static str, Duration, u32),
    Every(&'static str, Duration, u32),
    Cancel(&'static str),
    Tick(u32),
    /// Waits for the gate, then handles the inner message: holds the actor
    /// busy while a tick is queued behind it.
    Wait(oneshot::Receiver<()>, Box<Msg>),
    StopSelf,
    /// The log so far, and whether a timer runs under the key.
    Ticks(&'static str, Reply<(Vec<(u32, Duration)>, bool)>),
}

#[derive(Clone, Debug)]
struct Tick(u32);

impl From<Tick> for Msg {
    fn from(Tick(n): Tick) -> Self {
        Msg::Tick(n)
    }
}

impl Clock {
    fn apply(&mut self, message: Msg, ctx: &mut Context<Self>) {
        match message {
            Msg::After(key, delay, n) => ctx.send_after(key, delay, Tick(n)),
            Msg::Every(key, period, n) => {
                // A refused interval is logged at `Duration::MAX`, a time no
                // tick can have.
                if ctx.interval(key, period, Tick(n)) == Err(TimerError::ZeroPeriod) {
                    self.log.push((n, Duration::MAX));
                }
            }
            Msg::Cancel(key) => {
                ctx.cancel_timer(&key);
            }
            Msg::Tick(n) => self.log.push((n, self.base.elapsed())),
            // The gate was awaited for the outer message already.
            Msg::Wait(_, then) => self.apply(*then, ctx),
            Msg::StopSelf => ctx.stop(ExitReason::Normal),
            Msg::Ticks(key, reply) => {
                reply
                    .send((self.log.clone(), ctx.has_timer(&key)))
                    .unwrap_or_default();
            }
        }
    }
}

impl Actor for Clock {
    type Args = ();
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Clock {
            base: Instant::now(),
            log: Vec::new(),
        })
    }

    async fn handle(&mut self, message: Msg, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match message {
            Msg::Wait(gate, then) => {
                let _opened = gate.await;
                self.apply(*then, ctx);
            }
            other => self.apply(other, ctx),
        }
        Ok(())
    }
}

/// Lets every ready task (the timer service, activations) run.
async fn settle() {
    for _ in 0..16 {
        tokio::task::yield_now().await;
    }
}

async fn ticks(clock: &ActorRef<Clock>, key: &'static str) -> (Vec<(u32, Duration)>, bool) {
    settle().await;
    clock
        .call(|reply| Msg::Ticks(key, reply), CALL)
        .await
        .unwrap()
}

/// Counts dead letters.
#[derive(Debug, Default)]
struct Counting(AtomicUsize);

impl DeadLetterSink for Counting {
    fn dead_letter(&self, _: DeadLetter) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_single_timer_arrives_when_due_and_not_before() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::After("t", ms(100), 1)).await.unwrap();
    settle().await;
    tokio::time::advance(ms(99)).await;
    assert_eq!(ticks(&clock, "t").await, (vec![], true));
    tokio::time::advance(ms(1)).await;
    assert_eq!(ticks(&clock, "t").await, (vec![(1, ms(100))], false));
    tokio::time::advance(ms(1000)).await;
    assert_eq!(
        ticks(&clock, "t").await.0.len(),
        1,
        "a single timer fires once"
    );
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_interval_ticks_every_period_until_cancelled() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::Every("beat", ms(100), 7)).await.unwrap();
    settle().await;
    for _ in 0..3 {
        tokio::time::advance(ms(100)).await;
        settle().await;
    }
    let (log, running) = ticks(&clock, "beat").await;
    assert_eq!(log, vec![(7, ms(100)), (7, ms(200)), (7, ms(300))]);
    assert!(running);
    clock.cast(Msg::Cancel("beat")).await.unwrap();
    tokio::time::advance(ms(1000)).await;
    assert_eq!(ticks(&clock, "beat").await, (log, false));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_timer_cancelled_before_it_is_due_never_arrives() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::After("t", ms(100), 1)).await.unwrap();
    settle().await;
    tokio::time::advance(ms(50)).await;
    clock.cast(Msg::Cancel("t")).await.unwrap();
    tokio::time::advance(ms(500)).await;
    assert_eq!(ticks(&clock, "t").await, (vec![], false));
}

/// Holds the actor in a handler while a timer comes due, so its tick is
/// queued; then runs `then` in that same handler.
async fn with_tick_queued(clock: &ActorRef<Clock>, then: Msg) {
    let (open, gate) = oneshot::channel();
    clock.cast(Msg::Wait(gate, Box::new(then))).await.unwrap();
    settle().await;
    tokio::time::advance(ms(100)).await;
    settle().await;
    assert_eq!(clock.process.mailbox.system_len(), 1, "the tick is queued");
    open.send(()).unwrap();
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_cancel_drops_a_tick_already_queued() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::After("t", ms(100), 1)).await.unwrap();
    with_tick_queued(&clock, Msg::Cancel("t")).await;
    assert_eq!(ticks(&clock, "t").await, (vec![], false));
    assert_eq!(clock.process.mailbox.system_len(), 0);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_cancelled_interval_drops_its_queued_tick() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::Every("beat", ms(100), 1)).await.unwrap();
    with_tick_queued(&clock, Msg::Cancel("beat")).await;
    tokio::time::advance(ms(1000)).await;
    assert_eq!(ticks(&clock, "beat").await, (vec![], false));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn starting_a_timer_under_a_used_key_replaces_it() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::After("k", ms(100), 1)).await.unwrap();
    settle().await;
    tokio::time::advance(ms(50)).await;
    clock.cast(Msg::After("k", ms(100), 2)).await.unwrap();
    settle().await;
    tokio::time::advance(ms(60)).await;
    assert_eq!(ticks(&clock, "k").await, (vec![], true));
    tokio::time::advance(ms(40)).await;
    assert_eq!(ticks(&clock, "k").await, (vec![(2, ms(150))], false));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_replaced_timer_drops_its_queued_tick() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::After("k", ms(100), 1)).await.unwrap();
    with_tick_queued(&clock, Msg::After("k", ms(100), 2)).await;
    assert_eq!(ticks(&clock, "k").await, (vec![], true));
    tokio::time::advance(ms(100)).await;
    assert_eq!(ticks(&clock, "k").await, (vec![(2, ms(200))], false));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_exit_cancels_timers_without_dead_letters() {
    let sink = Arc::new(Counting::default());
    let options = ActorOptions::new().dead_letters(sink.clone());
    let (clock, _handle) = start_with::<Clock>((), options).await.unwrap();
    clock.cast(Msg::Every("beat", ms(100), 1)).await.unwrap();
    clock.cast(Msg::After("once", ms(100), 2)).await.unwrap();
    // Both ticks come due while the actor is busy, then it stops: the
    // queued ticks go with the system lane, not to dead letters.
    with_tick_queued_count(&clock, 2).await;
    assert_eq!(clock.wait_for_exit(CALL).await.unwrap(), ExitReason::Normal);
    let service = super::TimerService::of(clock.process.runtime(), &crate::time::Clock::Tokio);
    settle().await;
    assert_eq!(service.waiting(), 0, "the service let go of the timers");
    tokio::time::advance(ms(1000)).await;
    settle().await;
    assert_eq!(sink.0.load(Ordering::SeqCst), 0);
}

async fn with_tick_queued_count(clock: &ActorRef<Clock>, queued: usize) {
    let (open, gate) = oneshot::channel();
    clock
        .cast(Msg::Wait(gate, Box::new(Msg::StopSelf)))
        .await
        .unwrap();
    settle().await;
    tokio::time::advance(ms(100)).await;
    settle().await;
    assert_eq!(clock.process.mailbox.system_len(), queued);
    open.send(()).unwrap();
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_killed_actor_leaves_no_timer_behind() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::Every("beat", ms(100), 1)).await.unwrap();
    settle().await;
    assert!(clock.is_dormant(), "a dormant actor keeps its timers");
    assert!(clock.kill());
    settle().await;
    let service = super::TimerService::of(clock.process.runtime(), &crate::time::Clock::Tokio);
    assert_eq!(service.waiting(), 0);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn waiting_timers_cost_no_task() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let mut clocks = Vec::new();
    for _ in 0..100 {
        let (clock, _handle) = start::<Clock>(()).await.unwrap();
        for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
            clock.cast(Msg::After(key, ms(100), 1)).await.unwrap();
        }
        clocks.push(clock);
    }
    settle().await;
    // Two tasks, one each per runtime: the timer service and the reaper
    // that ends the runtime's processes when it shuts down. The actors
    // are dormant.
    assert_eq!(metrics.num_alive_tasks(), before + 2);
    assert!(clocks.iter().all(ActorRef::is_dormant));
    tokio::time::advance(ms(100)).await;
    for clock in &clocks {
        assert_eq!(ticks(clock, "a").await.0.len(), 10);
    }
    settle().await;
    assert_eq!(metrics.num_alive_tasks(), before + 2);
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_timer_started_in_init_survives_dormancy() {
    #[derive(Debug)]
    struct Alarm(Option<oneshot::Sender<Duration>>, Instant);

    impl Actor for Alarm {
        type Args = oneshot::Sender<Duration>;
        type Msg = ();
        type Error = std::convert::Infallible;

        async fn init(rang: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
            ctx.send_after((), ms(250), ());
            Ok(Alarm(Some(rang), Instant::now()))
        }

        async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
            if let Some(rang) = self.0.take() {
                let _sent = rang.send(self.1.elapsed());
            }
            Ok(())
        }
    }

    let (rang, rung) = oneshot::channel();
    let (alarm, _handle) = start::<Alarm>(rang).await.unwrap();
    assert!(alarm.is_dormant());
    assert_eq!(rung.await.unwrap(), ms(250));
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_busy_actor_never_has_more_than_one_tick_of_an_interval_queued() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::Every("beat", ms(10), 1)).await.unwrap();
    let (open, gate) = oneshot::channel();
    clock
        .cast(Msg::Wait(gate, Box::new(Msg::Tick(0))))
        .await
        .unwrap();
    for _ in 0..10 {
        tokio::time::advance(ms(10)).await;
        settle().await;
    }
    assert_eq!(clock.process.mailbox.system_len(), 1);
    open.send(()).unwrap();
    let (log, running) = ticks(&clock, "beat").await;
    // The queued tick (due at 10 ms) is handled at 100 ms; the next is a
    // period after that, not a burst of the nine missed.
    assert_eq!(log, vec![(0, ms(100)), (1, ms(100))]);
    assert!(running);
    tokio::time::advance(ms(10)).await;
    assert_eq!(ticks(&clock, "beat").await.0.len(), 3);
}

/// Starts a due-at-once timer, lets the service (on another worker) fire
/// it, then cancels it: the tick must never be handled.
#[derive(Debug, Default)]
struct Racer {
    late_ticks: usize,
    queued_at_cancel: usize,
}

#[derive(Debug)]
enum Race {
    Run(u32),
    Tick,
    /// Late ticks and ticks queued at a cancel.
    Score(Reply<(usize, usize)>),
}

impl Actor for Racer {
    type Args = ();
    type Msg = Race;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Racer::default())
    }

    async fn handle(&mut self, race: Race, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        let round = match race {
            Race::Run(round) => round,
            Race::Tick => {
                self.late_ticks += 1;
                return Ok(());
            }
            Race::Score(reply) => {
                let score = (self.late_ticks, self.queued_at_cancel);
                reply.send(score).unwrap_or_default();
                return Ok(());
            }
        };
        ctx.send_after("race", Duration::ZERO, Race::Tick);
        for _ in 0..round % 8 {
            tokio::task::yield_now().await;
        }
        if ctx.myself().process.mailbox.system_len() > 0 {
            self.queued_at_cancel += 1;
        }
        assert!(ctx.cancel_timer(&"race"));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_racing_the_service_on_another_thread_is_still_final() {
    let (racer, _handle) = start::<Racer>(()).await.unwrap();
    for round in 0..2_000 {
        racer.cast(Race::Run(round)).await.unwrap();
    }
    let (late_ticks, queued_at_cancel) = racer
        .call(Race::Score, Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(late_ticks, 0);
    // The race was real: some ticks were already queued when cancelled.
    assert!(queued_at_cancel > 0, "no tick was queued at a cancel");
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_timer_too_far_off_to_represent_waits_instead_of_panicking() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock
        .cast(Msg::After("never", Duration::MAX, 1))
        .await
        .unwrap();
    clock
        .cast(Msg::Every("rarely", Duration::MAX, 2))
        .await
        .unwrap();
    assert_eq!(ticks(&clock, "never").await, (vec![], true));
    assert!(clock.is_alive());
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_zero_period_is_refused_and_leaves_the_timer_under_its_key() {
    let (clock, _handle) = start::<Clock>(()).await.unwrap();
    clock.cast(Msg::After("t", ms(100), 1)).await.unwrap();
    clock
        .cast(Msg::Every("t", Duration::ZERO, 9))
        .await
        .unwrap();
    assert_eq!(ticks(&clock, "t").await, (vec![(9, Duration::MAX)], true));
    tokio::time::advance(ms(100)).await;
    assert_eq!(
        ticks(&clock, "t").await,
        (vec![(9, Duration::MAX), (1, ms(100))], false),
        "the timer already under the key ran as it was"
    );
}
