//! A manual clock installed on a multi-thread runtime drives the mailbox's timers and call timeouts there, and nowhere else.
//!
//! Every "not yet" is proved with a call round trip: a tick is queued to
//! the actor before `advance` returns, behind the messages sent before it,
//! so a call made after `advance` is answered after any tick it queued.

use std::time::Duration;

use foundation_mailbox::{
    Actor, ActorRef, CallError, Context, Recipient, Reply, start, time::InstallError,
};
use foundation_rate_limiter::{Config as LimitConfig, DirectLimiter};
use foundation_testkit::{ManualClock, Probe};
use tokio::{runtime::Handle, sync::oneshot};

/// A generous bound: how long a failing test takes, never a passing one.
const BOUND: Duration = Duration::from_secs(10);
/// How long "nothing else arrives" is watched for, in real time.
const QUIET: Duration = Duration::from_millis(50);

#[derive(Debug, PartialEq)]
enum Event {
    Rang(u32),
    Ticked(u32),
}

#[derive(Debug)]
enum Msg {
    After(Duration),
    Every(Duration),
    CancelEvery(Reply<bool>),
    Rang,
    Ticked,
    Count(Reply<u32>),
    /// Keeps the reply port and never answers.
    Silent(Reply<()>),
    /// Holds the actor in its handler until the sender lets go.
    Hold(oneshot::Receiver<()>),
}

/// What an interval sends: cloned for each tick.
#[derive(Debug, Clone)]
struct Tick;

impl From<Tick> for Msg {
    fn from(Tick: Tick) -> Msg {
        Msg::Ticked
    }
}

#[derive(Debug)]
struct Alarm {
    events: Recipient<Event>,
    fired: u32,
    unanswered: Vec<Reply<()>>,
}

impl Actor for Alarm {
    type Args = Recipient<Event>;
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(events: Recipient<Event>, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Alarm {
            events,
            fired: 0,
            unanswered: Vec::new(),
        })
    }

    async fn handle(&mut self, message: Msg, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match message {
            Msg::After(delay) => ctx.send_after("once", delay, Msg::Rang),
            Msg::Every(period) => ctx
                .interval("every", period, Tick)
                .expect("a non-zero period"),
            Msg::CancelEvery(reply) => {
                let _ = reply.send(ctx.cancel_timer(&"every"));
            }
            Msg::Rang => {
                self.fired += 1;
                self.events
                    .send(Event::Rang(self.fired))
                    .await
                    .expect("the probe is alive");
            }
            Msg::Ticked => {
                self.fired += 1;
                self.events
                    .send(Event::Ticked(self.fired))
                    .await
                    .expect("the probe is alive");
            }
            Msg::Count(reply) => {
                let _ = reply.send(self.fired);
            }
            Msg::Silent(reply) => self.unanswered.push(reply),
            Msg::Hold(release) => {
                let _ = tokio::time::timeout(BOUND, release).await;
            }
        }
        Ok(())
    }
}

async fn alarm(probe: &Probe<Event>) -> ActorRef<Alarm> {
    start::<Alarm>(probe.recipient())
        .await
        .expect("the alarm starts")
        .0
}

async fn fired(alarm: &ActorRef<Alarm>) -> u32 {
    alarm
        .call(Msg::Count, BOUND)
        .await
        .expect("the alarm answers")
}

/// A clock installed on the test's own runtime, before anything starts.
fn installed() -> ManualClock {
    let clock = ManualClock::new();
    clock
        .install(&Handle::current())
        .expect("nothing started on this runtime yet");
    clock
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_after_fires_only_once_the_manual_time_reaches_its_deadline() {
    let clock = installed();
    let mut probe = Probe::<Event>::start().await.unwrap();
    let alarm = alarm(&probe).await;
    alarm
        .cast(Msg::After(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(fired(&alarm).await, 0, "the timer is armed");

    clock.advance(Duration::from_millis(9_999));
    assert_eq!(fired(&alarm).await, 0, "1 ms early: no tick");
    probe.expect_no_message(QUIET).await.unwrap();

    clock.advance(Duration::from_millis(1));
    assert_eq!(
        fired(&alarm).await,
        1,
        "due at 10 s: ticked before advance returned"
    );
    assert_eq!(probe.receive(BOUND).await.unwrap(), Event::Rang(1));

    clock.advance(Duration::from_secs(3600));
    assert_eq!(fired(&alarm).await, 1, "a single timer fires once");
    probe.expect_no_message(QUIET).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_advance_fires_exactly_the_timers_it_made_due_across_many_actors() {
    const ACTORS: u32 = 20;
    let clock = installed();
    let probe = Probe::<Event>::start().await.unwrap();
    let mut alarms = Vec::new();
    for second in 1..=ACTORS {
        let alarm = alarm(&probe).await;
        alarm
            .cast(Msg::After(Duration::from_secs(second.into())))
            .await
            .unwrap();
        alarms.push(alarm);
    }
    for alarm in &alarms {
        assert_eq!(fired(alarm).await, 0, "every timer is armed");
    }
    for second in 1..=ACTORS {
        clock.advance(Duration::from_secs(1));
        for (index, alarm) in (1..).zip(&alarms) {
            let expected = u32::from(index <= second);
            assert_eq!(
                fired(alarm).await,
                expected,
                "at {second} s, the {index} s timer"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interval_ticks_once_per_period_advanced_and_never_after_its_cancel() {
    const PERIOD: Duration = Duration::from_secs(2);
    let clock = installed();
    let mut probe = Probe::<Event>::start().await.unwrap();
    let alarm = alarm(&probe).await;
    alarm.cast(Msg::Every(PERIOD)).await.unwrap();
    assert_eq!(fired(&alarm).await, 0);

    for k in 1..=5 {
        clock.advance(PERIOD - Duration::from_nanos(1));
        assert_eq!(fired(&alarm).await, k - 1, "period {k}: not due yet");
        clock.advance(Duration::from_nanos(1));
        assert_eq!(fired(&alarm).await, k, "period {k}: exactly one tick");
        assert_eq!(probe.receive(BOUND).await.unwrap(), Event::Ticked(k));
    }
    probe.expect_no_message(QUIET).await.unwrap();

    // Three periods at once: one tick, not a burst (ticks never pile up;
    // the next is one period after this one is handled).
    clock.advance(PERIOD * 3);
    assert_eq!(fired(&alarm).await, 6);
    assert_eq!(probe.receive(BOUND).await.unwrap(), Event::Ticked(6));
    probe.expect_no_message(QUIET).await.unwrap();

    // A tick queued behind the cancel is dropped unseen: hold the actor,
    // queue the cancel, then make the tick due.
    let (release, hold) = oneshot::channel();
    alarm.cast(Msg::Hold(hold)).await.unwrap();
    let cancelled = alarm.call(Msg::CancelEvery, BOUND);
    let mut cancelled = std::pin::pin!(cancelled);
    assert!(
        tokio::time::timeout(QUIET, cancelled.as_mut())
            .await
            .is_err(),
        "the actor is held"
    );
    clock.advance(PERIOD);
    release.send(()).unwrap();
    assert!(cancelled.await.unwrap(), "the interval was running");

    clock.advance(PERIOD * 10);
    assert_eq!(fired(&alarm).await, 6, "no tick after the cancel");
    probe.expect_no_message(QUIET).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_times_out_only_once_the_manual_time_passes_its_timeout() {
    const TIMEOUT: Duration = Duration::from_secs(30);
    let clock = installed();
    let probe = Probe::<Event>::start().await.unwrap();
    let alarm = alarm(&probe).await;

    let call = alarm.call(Msg::Silent, TIMEOUT);
    let mut call = std::pin::pin!(call);
    // Real time passes; manual time does not: the caller is still waiting.
    assert!(tokio::time::timeout(QUIET, call.as_mut()).await.is_err());
    clock.advance(TIMEOUT - Duration::from_millis(1));
    assert!(
        tokio::time::timeout(QUIET, call.as_mut()).await.is_err(),
        "1 ms before the timeout the caller is still pending"
    );

    clock.advance(Duration::from_millis(1));
    let outcome = tokio::time::timeout(BOUND, call)
        .await
        .expect("woken by the advance");
    assert!(matches!(outcome, Err(CallError::Timeout)), "{outcome:?}");
}

#[test]
fn a_manual_clock_drives_only_the_runtime_it_is_installed_on() {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    };
    let (manual, real) = (runtime(), runtime());
    let clock = ManualClock::new();
    clock.install(manual.handle()).unwrap();

    // On each runtime, an alarm set an hour ahead that has not fired.
    let arm = |runtime: &tokio::runtime::Runtime| {
        runtime.block_on(async {
            let probe = Probe::<Event>::start().await.unwrap();
            let alarm = alarm(&probe).await;
            alarm
                .cast(Msg::After(Duration::from_secs(3600)))
                .await
                .unwrap();
            assert_eq!(fired(&alarm).await, 0);
            (alarm, probe)
        })
    };
    let (on_manual, mut manual_probe) = arm(&manual);
    let (on_real, mut real_probe) = arm(&real);

    clock.advance(Duration::from_secs(3600));

    manual.block_on(async {
        assert_eq!(fired(&on_manual).await, 1);
        assert_eq!(manual_probe.receive(BOUND).await.unwrap(), Event::Rang(1));
    });
    real.block_on(async {
        assert_eq!(
            fired(&on_real).await,
            0,
            "the other runtime keeps tokio's clock"
        );
        real_probe.expect_no_message(QUIET).await.unwrap();
        // And tokio's clock still runs there: a short timer fires on its own.
        on_real
            .cast(Msg::After(Duration::from_millis(1)))
            .await
            .unwrap();
        assert_eq!(real_probe.receive(BOUND).await.unwrap(), Event::Rang(1));
    });
    drop((on_manual, manual_probe, on_real, real_probe));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installing_after_an_actor_started_is_refused() {
    let probe = Probe::<Event>::start().await.unwrap();
    let clock = ManualClock::new();
    assert_eq!(
        clock.install(&Handle::current()),
        Err(InstallError::AlreadyStarted)
    );
    drop(probe);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_manual_clock_on_one_runtime_is_refused() {
    let _clock = installed();
    assert_eq!(
        ManualClock::new().install(&Handle::current()),
        Err(InstallError::AlreadyInstalled)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_advance_moves_a_mailbox_timer_and_a_rate_limiter_together() {
    let clock = installed();
    let limiter = DirectLimiter::with_clock(
        LimitConfig::fixed_window(1, Duration::from_secs(1)),
        clock.clone(),
    )
    .unwrap();
    let mut probe = Probe::<Event>::start().await.unwrap();
    let alarm = alarm(&probe).await;
    alarm
        .cast(Msg::After(Duration::from_secs(1)))
        .await
        .unwrap();
    assert!(limiter.check().is_allowed());
    assert!(!limiter.check().is_allowed());
    assert_eq!(fired(&alarm).await, 0);

    clock.advance(Duration::from_secs(1));

    assert!(
        limiter.check().is_allowed(),
        "the limiter's window moved on"
    );
    assert_eq!(fired(&alarm).await, 1, "the timer fired");
    assert_eq!(probe.receive(BOUND).await.unwrap(), Event::Rang(1));
}
