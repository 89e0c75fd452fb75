//! Typed reply ports: deferred replies, and what a caller is told, at once,
//! when a port is dropped unanswered by whoever held it.
//!
//! Every test runs on paused time with an hour's timeout: the clock moves
//! only when every task waits on a timer, so a caller that waited for its
//! timeout instead of being told at once shows up as elapsed time.

use std::time::Duration;

use foundation_mailbox::{
    Actor, ActorRef, CallError, Context, ExitReason, Reply, ReplyError, start,
};
use tokio::time::Instant;

const HOUR: Duration = Duration::from_secs(3_600);

#[derive(Debug, thiserror::Error)]
#[error("the keeper failed on purpose")]
struct Failed;

/// What an offloaded task does with the port it was given.
#[derive(Debug)]
enum Plan {
    Answer(u32),
    Drop,
    Panic,
}

#[derive(Debug)]
enum Msg {
    /// Kept: answered by a later `Release` (a deferred reply).
    Wait(Reply<u32>),
    /// Answers every kept port with this value.
    Release(u32),
    /// How many kept ports still have a caller waiting.
    Waiting(Reply<usize>),
    /// Dropped unanswered; the handler returns `Ok`.
    Ignore(Reply<u32>),
    /// Dropped unanswered; the handler then awaits (its task may move to
    /// another worker) and returns `Ok`.
    IgnoreThenYield(Reply<u32>),
    /// Dropped unanswered; the handler fails.
    Fail(Reply<u32>),
    /// Held while the handler panics.
    Panic(Reply<u32>),
    /// Dropped unanswered while the handler asks its actor to stop.
    Stop(Reply<u32>),
    /// Moved into a task of its own, which follows the plan.
    Offload(Reply<u32>, Plan),
    /// Held by a handler that says it entered, then never returns.
    Hang(Reply<u32>, tokio::sync::oneshot::Sender<()>),
    /// Handed to another actor, which answers it.
    Forward(Reply<u32>, ActorRef<Keeper>),
    /// Dropped unanswered; the handler then calls the other keeper with the
    /// request built by the function, `Fail` or `Panic` (that keeper is
    /// dormant, so its handler begins inside this poll), and returns `Ok`.
    DropThenCallFailing(Reply<u32>, ActorRef<Keeper>, fn(Reply<u32>) -> Msg),
}

/// Keeps ports in its state and answers them on request.
#[derive(Debug, Default)]
struct Keeper {
    waiting: Vec<Reply<u32>>,
}

impl Actor for Keeper {
    type Args = ();
    type Msg = Msg;
    type Error = Failed;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Failed> {
        Ok(Keeper::default())
    }

    async fn handle(&mut self, msg: Msg, ctx: &mut Context<Self>) -> Result<(), Failed> {
        match msg {
            Msg::Wait(reply) => self.waiting.push(reply),
            Msg::Release(value) => {
                for reply in self.waiting.drain(..) {
                    reply.send(value).unwrap_or_default();
                }
            }
            Msg::Waiting(reply) => {
                let open = self.waiting.iter().filter(|r| !r.is_closed()).count();
                reply.send(open).unwrap_or_default();
            }
            Msg::Ignore(reply) => drop(reply),
            Msg::IgnoreThenYield(reply) => {
                drop(reply);
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
            }
            Msg::Fail(reply) => {
                drop(reply);
                // Something after the drop, so the drop is not the last act.
                tokio::task::yield_now().await;
                return Err(Failed);
            }
            Msg::Panic(_reply) => panic!("the keeper panicked holding a port"),
            Msg::Stop(reply) => {
                drop(reply);
                ctx.stop(ExitReason::shutdown_because("asked to stop"));
            }
            Msg::Offload(reply, plan) => {
                // A plain task: the port must behave outside any actor too.
                tokio::spawn(async move {
                    match plan {
                        Plan::Answer(value) => reply.send(value).unwrap_or_default(),
                        Plan::Drop => drop(reply),
                        Plan::Panic => {
                            let _held = reply;
                            panic!("the offloaded task panicked holding a port");
                        }
                    }
                });
            }
            Msg::Hang(reply, entered) => {
                let _held = reply;
                let _listening = entered.send(());
                std::future::pending::<()>().await;
            }
            Msg::DropThenCallFailing(reply, other, failing) => {
                drop(reply);
                // The other handler fails or panics with its port, while the
                // port dropped above still waits for this handler's verdict.
                let inner = other.call(failing, HOUR).await;
                assert!(matches!(inner, Err(CallError::Exited(_))), "{inner:?}");
            }
            Msg::Forward(reply, to) => {
                if let Err(refused) = to.cast(Msg::Wait(reply)).await {
                    // Dropping the refused message drops the port: the caller
                    // is told.
                    drop(refused);
                }
            }
        }
        Ok(())
    }
}

async fn keeper() -> ActorRef<Keeper> {
    start::<Keeper>(()).await.unwrap().0
}

/// Runs `call` and returns its outcome and how long the paused clock moved.
async fn timed<T>(call: impl Future<Output = T>) -> (T, Duration) {
    let before = Instant::now();
    let outcome = call.await;
    (outcome, before.elapsed())
}

#[tokio::test(start_paused = true)]
async fn a_kept_port_is_answered_by_a_later_message() {
    let keeper = keeper().await;
    let first = tokio::spawn({
        let keeper = keeper.clone();
        async move { keeper.call(Msg::Wait, HOUR).await }
    });
    let second = tokio::spawn({
        let keeper = keeper.clone();
        async move { keeper.call(Msg::Wait, HOUR).await }
    });
    // Both requests are held, not answered, and the keeper goes on.
    while keeper.call(Msg::Waiting, HOUR).await.unwrap() < 2 {
        tokio::task::yield_now().await;
    }
    keeper.cast(Msg::Release(7)).await.unwrap();
    assert_eq!(first.await.unwrap().unwrap(), 7);
    assert_eq!(second.await.unwrap().unwrap(), 7);
}

#[tokio::test(start_paused = true)]
async fn a_port_dropped_by_a_handler_that_goes_on_is_no_reply_at_once() {
    let keeper = keeper().await;
    let (outcome, waited) = timed(keeper.call(Msg::Ignore, HOUR)).await;
    assert!(matches!(outcome, Err(CallError::NoReply)), "{outcome:?}");
    assert_eq!(waited, Duration::ZERO);
    assert!(keeper.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_port_dropped_by_a_failing_handler_gives_the_exit_reason() {
    let keeper = keeper().await;
    let (outcome, waited) = timed(keeper.call(Msg::Fail, HOUR)).await;
    match outcome {
        Err(CallError::Exited(ExitReason::Error(cause))) => {
            assert!(cause.downcast_ref::<Failed>().is_some(), "{cause}");
        }
        other => panic!("expected the handler's error, got {other:?}"),
    }
    assert_eq!(waited, Duration::ZERO);
}

// The callee begins on the caller's task, inside the poll of a handler that
// has dropped a port already: each handler's verdict settles its own ports.
// Taken by the failing or panicking callee, the first port would leave its
// caller waiting for an exit that never comes.
#[tokio::test(start_paused = true)]
async fn a_port_dropped_before_a_call_run_in_the_same_poll_gets_its_own_handlers_verdict() {
    for failing in [Msg::Fail as fn(Reply<u32>) -> Msg, Msg::Panic] {
        let (keeper, other) = (keeper().await, keeper().await);
        let request = |reply| Msg::DropThenCallFailing(reply, other.clone(), failing);
        let (outcome, waited) = timed(keeper.call(request, HOUR)).await;
        assert!(matches!(outcome, Err(CallError::NoReply)), "{outcome:?}");
        assert_eq!(waited, Duration::ZERO);
        assert!(keeper.is_alive());
        assert!(!other.is_alive());
    }
}

#[tokio::test(start_paused = true)]
async fn a_port_held_by_a_panicking_handler_gives_the_panic() {
    let keeper = keeper().await;
    let (outcome, waited) = timed(keeper.call(Msg::Panic, HOUR)).await;
    assert!(
        matches!(outcome, Err(CallError::Exited(ExitReason::Panic(_)))),
        "{outcome:?}"
    );
    assert_eq!(waited, Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_port_dropped_by_a_handler_that_stops_its_actor_gives_the_stop_reason() {
    let keeper = keeper().await;
    let (outcome, waited) = timed(keeper.call(Msg::Stop, HOUR)).await;
    assert_eq!(
        outcome.unwrap_err().exit_reason(),
        Some(&ExitReason::shutdown_because("asked to stop"))
    );
    assert_eq!(waited, Duration::ZERO);
}

/// Ports kept in the state go with it; each waiting caller gets the reason
/// the actor exited with, whichever way it ended.
#[tokio::test(start_paused = true)]
async fn kept_ports_give_their_callers_the_exit_reason_on_stop_and_kill() {
    for kill in [false, true] {
        let keeper = keeper().await;
        let caller = tokio::spawn({
            let keeper = keeper.clone();
            async move { timed(keeper.call(Msg::Wait, HOUR)).await }
        });
        while keeper.call(Msg::Waiting, HOUR).await.unwrap() < 1 {
            tokio::task::yield_now().await;
        }
        let expected = if kill {
            assert!(keeper.kill());
            ExitReason::Killed
        } else {
            keeper.stop(ExitReason::Normal, HOUR).await.unwrap()
        };
        let (outcome, waited) = caller.await.unwrap();
        assert_eq!(outcome.unwrap_err().exit_reason(), Some(&expected));
        assert_eq!(waited, Duration::ZERO, "kill: {kill}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_port_answered_from_another_task_reaches_its_caller() {
    let keeper = keeper().await;
    let answered = keeper.call(|r| Msg::Offload(r, Plan::Answer(9)), HOUR);
    assert_eq!(answered.await.unwrap(), 9);
}

/// Outside any actor nobody is exiting: a dropped port, even one a
/// panicking task held, means no reply, at once.
#[tokio::test(start_paused = true)]
async fn a_port_dropped_or_panicked_away_by_a_plain_task_is_no_reply_at_once() {
    let keeper = keeper().await;
    for plan in [Plan::Drop, Plan::Panic] {
        let (outcome, waited) = timed(keeper.call(|r| Msg::Offload(r, plan), HOUR)).await;
        assert!(matches!(outcome, Err(CallError::NoReply)), "{outcome:?}");
        assert_eq!(waited, Duration::ZERO);
    }
    assert!(keeper.is_alive());
}

#[tokio::test(start_paused = true)]
async fn a_port_forwarded_to_another_actor_is_answered_there() {
    let front = keeper().await;
    let back = keeper().await;
    let caller = tokio::spawn({
        let (front, back) = (front.clone(), back.clone());
        async move { front.call(|r| Msg::Forward(r, back), HOUR).await }
    });
    while back.call(Msg::Waiting, HOUR).await.unwrap() < 1 {
        tokio::task::yield_now().await;
    }
    back.cast(Msg::Release(3)).await.unwrap();
    assert_eq!(caller.await.unwrap().unwrap(), 3);
}

/// A caller that gave up is visible to the handler holding its port, and an
/// answer to it comes back to the handler instead of vanishing.
#[tokio::test(start_paused = true)]
async fn a_caller_that_timed_out_closes_its_port() {
    let keeper = keeper().await;
    let gave_up = keeper.call(Msg::Wait, Duration::from_secs(1)).await;
    assert!(matches!(gave_up, Err(CallError::Timeout)), "{gave_up:?}");
    assert_eq!(keeper.call(Msg::Waiting, HOUR).await.unwrap(), 0);

    let (port, answer) = Reply::<u32>::pair();
    drop(answer);
    assert!(port.is_closed());
    assert_eq!(port.send(5), Err(5));
}

/// A dropped call future withdraws nothing already queued, but its port
/// reports the caller gone.
#[tokio::test(start_paused = true)]
async fn a_dropped_call_future_closes_its_port() {
    let keeper = keeper().await;
    {
        let mut call = std::pin::pin!(keeper.call(Msg::Wait, HOUR));
        assert!(futures::poll!(call.as_mut()).is_pending());
    }
    let mut open = keeper.call(Msg::Waiting, HOUR).await.unwrap();
    while open > 0 {
        tokio::task::yield_now().await;
        open = keeper.call(Msg::Waiting, HOUR).await.unwrap();
    }
    assert_eq!(open, 0);
}

#[tokio::test]
async fn a_receiver_reports_why_its_port_went_unanswered() {
    let (port, answer) = Reply::<u32>::pair();
    drop(port);
    assert_eq!(answer.await, Err(ReplyError::NoReply));
}

/// The caller runs on another worker and may look at the callee between the
/// handler's return and the exit being published: it must still see the
/// exit, never "no reply", for a handler that failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_never_reported_as_no_reply_across_threads() {
    for _ in 0..500 {
        let keeper = keeper().await;
        let outcome = keeper.call(Msg::Fail, HOUR).await;
        assert!(
            matches!(outcome, Err(CallError::Exited(ExitReason::Error(_)))),
            "{outcome:?}"
        );
    }
}

/// A port dropped before the handler's task moved to another worker still
/// waits for that handler's verdict, wherever it returns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_dropped_before_the_handler_moves_threads_gets_that_handlers_verdict() {
    let keeper = keeper().await;
    for _ in 0..300 {
        // A port lost between threads would leave the call to its timeout.
        let outcome = keeper
            .call(Msg::IgnoreThenYield, Duration::from_secs(10))
            .await;
        assert!(matches!(outcome, Err(CallError::NoReply)), "{outcome:?}");
    }
    assert!(keeper.is_alive());
}

/// The runtime running the actor shuts down while a handler holds a port:
/// the activation is dropped with the runtime, and the caller, on another
/// runtime, gets the exit (a kill) instead of waiting out its timeout.
/// (A *dormant* actor keeping a port: see `runtimes.rs`.)
#[test]
fn a_port_held_by_a_handler_whose_runtime_shuts_down_gives_its_caller_the_exit() {
    let actors = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let callers = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let keeper = actors.block_on(keeper());
    let (entered, inside) = tokio::sync::oneshot::channel();
    let caller = callers.spawn({
        let keeper = keeper.clone();
        async move {
            keeper
                .call(|r| Msg::Hang(r, entered), Duration::from_secs(10))
                .await
        }
    });
    callers.block_on(inside).unwrap();
    drop(actors);
    let outcome = callers.block_on(caller).unwrap();
    assert!(
        matches!(outcome, Err(CallError::Exited(ExitReason::Killed))),
        "{outcome:?}"
    );
}
