//! Hostile tests of kills, exit signals and cancellation: a kill lands exactly
//! once wherever the actor is, and nothing a caller drops leaves a zombie.

use std::{
    future::pending,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{
    Actor, ActorOptions, Context, DeadLetter, DeadLetterReason, DeadLetterSink, ExitReason, Pid,
    Reply, SendError, StartError, StopError, spawn, start, start_with,
};
use tokio::sync::{mpsc, oneshot};

use super::support::PATIENCE;

/// An actor whose handlers can be told to hang, and whose `terminate` and
/// `Drop` report (or misbehave) as asked.
#[derive(Debug)]
struct Hostile {
    events: mpsc::UnboundedSender<&'static str>,
    panic_on_drop: bool,
    hang_in_terminate: bool,
}

#[derive(Debug)]
struct HostileArgs {
    events: mpsc::UnboundedSender<&'static str>,
    panic_on_drop: bool,
    hang_in_terminate: bool,
    /// `init` hands out the actor's reference here, then never returns.
    hang_in_init: Option<oneshot::Sender<foundation_mailbox::ActorRef<Hostile>>>,
    stop_in_init: bool,
}

impl HostileArgs {
    fn new(events: &mpsc::UnboundedSender<&'static str>) -> Self {
        Self {
            events: events.clone(),
            panic_on_drop: false,
            hang_in_terminate: false,
            hang_in_init: None,
            stop_in_init: false,
        }
    }
}

#[derive(Debug)]
enum Order {
    Record,
    Hang,
    Ping(Reply<()>),
}

impl Drop for Hostile {
    fn drop(&mut self) {
        let _ = self.events.send("dropped");
        if self.panic_on_drop {
            panic!("state refuses to drop");
        }
    }
}

impl Actor for Hostile {
    type Args = HostileArgs;
    type Msg = Order;
    type Error = std::convert::Infallible;

    async fn init(args: HostileArgs, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        if let Some(hand_out) = args.hang_in_init {
            let _ = hand_out.send(ctx.myself().clone());
            pending::<()>().await;
        }
        if args.stop_in_init {
            ctx.stop(ExitReason::shutdown_because("init said so"));
        }
        Ok(Hostile {
            events: args.events,
            panic_on_drop: args.panic_on_drop,
            hang_in_terminate: args.hang_in_terminate,
        })
    }

    async fn handle(&mut self, order: Order, _ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match order {
            Order::Record => {
                let _ = self.events.send("handled");
            }
            Order::Hang => {
                let _ = self.events.send("hanging");
                pending::<()>().await;
            }
            Order::Ping(reply) => reply.send(()).unwrap_or_default(),
        }
        Ok(())
    }

    async fn terminate(&mut self, _reason: &ExitReason, _ctx: &mut Context<Self>) {
        let _ = self.events.send("terminating");
        if self.hang_in_terminate {
            pending::<()>().await;
        }
    }
}

/// Counts dead letters.
#[derive(Debug, Default)]
struct Count(AtomicUsize, Mutex<Vec<DeadLetterReason>>);

impl DeadLetterSink for Count {
    fn dead_letter(&self, letter: DeadLetter) {
        self.0.fetch_add(1, Ordering::SeqCst);
        self.1.lock().unwrap().push(letter.reason);
    }
}

/// Where `actor`'s exit hook writes the reason it runs with.
fn exit_seen(actor: &foundation_mailbox::ActorRef<Hostile>) -> Arc<Mutex<Option<ExitReason>>> {
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    actor
        .process_ref()
        .on_exit(move |reason| *record.lock().unwrap() = Some(reason.clone()))
        .unwrap();
    seen
}

fn events() -> (
    mpsc::UnboundedSender<&'static str>,
    mpsc::UnboundedReceiver<&'static str>,
) {
    mpsc::unbounded_channel()
}

/// A kill right after a send woke a dormant actor, before the new
/// activation's task was ever polled: tokio drops such a task unpolled.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_kill_before_the_woken_activation_is_polled_lands() {
    let (tx, mut rx) = events();
    let sink = Arc::new(Count::default());
    let (actor, handle) = start_with::<Hostile>(
        HostileArgs::new(&tx),
        ActorOptions::new().dead_letters(sink.clone()),
    )
    .await
    .unwrap();
    assert!(actor.is_dormant());
    // Same thread, no await: the activation this wakes is not polled yet.
    actor.try_cast(Order::Record).unwrap();
    assert!(actor.kill());
    assert!(!actor.kill(), "a kill lands exactly once");
    assert_eq!(handle.wait(PATIENCE).await, Ok(ExitReason::Killed));
    assert_eq!(
        sink.0.load(Ordering::SeqCst),
        1,
        "the queued message is a dead letter"
    );
    assert_eq!(rx.recv().await, Some("dropped"));
    assert!(matches!(
        actor.try_cast(Order::Record),
        Err(SendError::NoProcess(_))
    ));
}

/// A kill while a dormant actor is being stopped, its `terminate` running
/// on the stopper's task: the stop must end, even with no timeout.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_kill_while_a_dormant_actor_is_being_stopped_lands() {
    let (tx, mut rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.hang_in_terminate = true;
    let (actor, handle) = start::<Hostile>(args).await.unwrap();
    let stopper = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.stop(ExitReason::shutdown(), Duration::MAX).await })
    };
    assert_eq!(rx.recv().await, Some("terminating"));
    assert!(actor.kill());
    assert_eq!(handle.wait(PATIENCE).await, Ok(ExitReason::Killed));
    assert_eq!(stopper.await.unwrap(), Ok(ExitReason::Killed));
    assert_eq!(rx.recv().await, Some("dropped"));
}

/// An actor whose runtime has shut down has exited with it (see
/// `runtimes.rs`): a send is refused and the message given back, never
/// left in a mailbox nobody will read.
#[test]
fn a_send_to_an_actor_whose_runtime_is_gone_is_refused() {
    let (tx, _rx) = events();
    let sink = Arc::new(Count::default());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (actor, handle) = runtime
        .block_on(start_with::<Hostile>(
            HostileArgs::new(&tx),
            ActorOptions::new().dead_letters(sink.clone()),
        ))
        .unwrap();
    drop(runtime);
    assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
    assert!(handle.is_finished());
    assert!(matches!(
        actor.try_cast(Order::Record),
        Err(SendError::NoProcess(Order::Record))
    ));
    assert_eq!(sink.0.load(Ordering::SeqCst), 0);
}

/// Dropping `start`'s future while `init` runs ends the process: whatever
/// `init` handed out sees an exit.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn dropping_start_during_init_ends_the_process() {
    let (tx, _rx) = events();
    let (hand_out, handed) = oneshot::channel();
    let mut args = HostileArgs::new(&tx);
    args.hang_in_init = Some(hand_out);
    let starting = start::<Hostile>(args);
    let leaked = tokio::select! {
        _ = starting => panic!("init never returns"),
        leaked = handed => leaked.unwrap(),
    };
    // The start future was dropped by the select.
    assert_eq!(leaked.wait_for_exit(PATIENCE).await, Ok(ExitReason::Killed));
}

/// A kill while `init` awaits forever on the starter's task ends the start.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_kill_during_init_ends_the_start() {
    let (tx, _rx) = events();
    let (hand_out, handed) = oneshot::channel();
    let mut args = HostileArgs::new(&tx);
    args.hang_in_init = Some(hand_out);
    let starter = tokio::spawn(start_with::<Hostile>(
        args,
        ActorOptions::new().start_timeout(Duration::MAX),
    ));
    let actor = handed.await.unwrap();
    assert!(actor.kill());
    assert!(matches!(
        starter.await.unwrap(),
        Err(StartError::Init(ExitReason::Killed))
    ));
    assert_eq!(actor.exit_reason(), Some(ExitReason::Killed));
}

/// Kills and untrapped exit signals are asynchronous: they end an actor that
/// is awaiting inside a handler, without waiting for the handler to return.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_exit_signal_ends_an_actor_awaiting_in_a_handler() {
    let (tx, mut rx) = events();
    let (actor, handle) = start::<Hostile>(HostileArgs::new(&tx)).await.unwrap();
    actor.cast(Order::Hang).await.unwrap();
    assert_eq!(rx.recv().await, Some("hanging"));
    let reason = ExitReason::shutdown_because("linked partner crashed");
    assert!(actor.process_ref().exit_signal(Pid::new(), reason.clone()));
    assert_eq!(handle.wait(PATIENCE).await, Ok(reason));
    assert_eq!(
        rx.recv().await,
        Some("dropped"),
        "no terminate, the state is dropped"
    );
}

/// A `Normal` exit signal to an actor that does not trap exits does nothing.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_normal_exit_signal_is_ignored() {
    let (tx, _rx) = events();
    let (actor, _handle) = start::<Hostile>(HostileArgs::new(&tx)).await.unwrap();
    assert!(
        actor
            .process_ref()
            .exit_signal(Pid::new(), ExitReason::Normal)
    );
    actor.call(Order::Ping, PATIENCE).await.unwrap();
    assert!(actor.is_alive());
}

/// A state whose `Drop` panics: a kill of the idle actor publishes the exit
/// as a panic, and the panic never reaches the killer.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn killing_an_idle_actor_whose_drop_panics_still_ends_it() {
    let (tx, _rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.panic_on_drop = true;
    let (actor, handle) = start::<Hostile>(args).await.unwrap();
    assert!(actor.kill());
    assert!(!actor.is_alive());
    assert!(matches!(
        actor.try_cast(Order::Record),
        Err(SendError::NoProcess(_))
    ));
    assert_eq!(
        handle.wait(PATIENCE).await,
        Ok(ExitReason::panic("state refuses to drop"))
    );
}

/// The same state, stopped while idle: `terminate` runs, the stop returns
/// the panic as the reason, and the stopper does not panic.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn stopping_an_idle_actor_whose_drop_panics_returns_the_panic() {
    let (tx, mut rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.panic_on_drop = true;
    let (actor, _handle) = start::<Hostile>(args).await.unwrap();
    let stopped = actor.stop(ExitReason::shutdown(), PATIENCE).await;
    assert_eq!(stopped, Ok(ExitReason::panic("state refuses to drop")));
    assert_eq!(rx.recv().await, Some("terminating"));
}

/// The same state in a running actor that is stopped: the panic ends it as
/// a panic, on its own task.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_running_actor_whose_drop_panics_exits_with_the_panic() {
    let (tx, mut rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.panic_on_drop = true;
    let (actor, handle) = start::<Hostile>(args).await.unwrap();
    actor.cast(Order::Hang).await.unwrap();
    assert_eq!(rx.recv().await, Some("hanging"));
    assert!(actor.kill());
    assert_eq!(
        handle.wait(PATIENCE).await,
        Ok(ExitReason::panic("state refuses to drop"))
    );
}

/// Dropping the last reference to an idle actor whose state panics on drop
/// does not unwind into the code that dropped it, and its exit hooks run.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn the_last_reference_to_an_idle_actor_drops_quietly_and_tells_its_watchers() {
    let (tx, _rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.panic_on_drop = true;
    let (actor, handle) = start::<Hostile>(args).await.unwrap();
    let seen = exit_seen(&actor);
    drop(handle);
    drop(actor);
    assert_eq!(
        *seen.lock().unwrap(),
        Some(ExitReason::panic("state refuses to drop"))
    );
}

/// An idle actor nobody refers to any more still tells its watchers, with a
/// reason that says why.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_unreachable_idle_actor_runs_its_exit_hooks() {
    let (tx, mut rx) = events();
    let (actor, handle) = start::<Hostile>(HostileArgs::new(&tx)).await.unwrap();
    let seen = exit_seen(&actor);
    drop(handle);
    drop(actor);
    assert_eq!(rx.recv().await, Some("dropped"));
    assert_eq!(
        *seen.lock().unwrap(),
        Some(ExitReason::shutdown_because("no references left"))
    );
}

/// `ctx.stop()` inside `init` means the same for `start` and `spawn`:
/// `terminate` runs and the actor exits with the reason; `start` reports it.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn stop_in_init_is_honoured_by_start_and_spawn_alike() {
    let reason = ExitReason::shutdown_because("init said so");
    let (tx, mut rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.stop_in_init = true;
    let started = start::<Hostile>(args).await;
    assert!(matches!(started, Err(StartError::Init(ref r)) if *r == reason));
    assert_eq!(rx.recv().await, Some("terminating"));
    assert_eq!(rx.recv().await, Some("dropped"));

    let mut args = HostileArgs::new(&tx);
    args.stop_in_init = true;
    let (_actor, handle) = spawn::<Hostile>(args).unwrap();
    assert_eq!(handle.wait(PATIENCE).await, Ok(reason));
    assert_eq!(rx.recv().await, Some("terminating"));
    assert_eq!(rx.recv().await, Some("dropped"));
}

/// A stop that times out kills; the stopper learns of the timeout and the
/// actor is gone.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_stop_that_times_out_on_an_idle_actor_kills_it() {
    let (tx, _rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.hang_in_terminate = true;
    let (actor, handle) = start::<Hostile>(args).await.unwrap();
    let timeout = Duration::from_secs(1);
    assert_eq!(
        actor.stop(ExitReason::shutdown(), timeout).await,
        Err(StopError::Timeout(timeout))
    );
    assert_eq!(handle.wait(PATIENCE).await, Ok(ExitReason::Killed));
}

/// A stop of a dormant actor runs `terminate` on the stopper's task; if the
/// stopper is dropped there, the actor still exits (as killed) instead of
/// being left with its state claimed and no one to finish it.
#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn dropping_a_stop_during_terminate_still_ends_the_actor() {
    let (tx, mut rx) = events();
    let mut args = HostileArgs::new(&tx);
    args.hang_in_terminate = true;
    let (actor, handle) = start::<Hostile>(args).await.unwrap();
    tokio::select! {
        _ = actor.stop(ExitReason::shutdown(), Duration::MAX) => panic!("terminate never returns"),
        seen = rx.recv() => assert_eq!(seen, Some("terminating")),
    }
    // The stop future was dropped by the select, mid-terminate.
    assert_eq!(handle.wait(PATIENCE).await, Ok(ExitReason::Killed));
    assert_eq!(rx.recv().await, Some("dropped"));
    assert!(!actor.is_alive());
}
