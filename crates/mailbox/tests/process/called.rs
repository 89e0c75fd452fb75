//! A call from outside any actor to a dormant actor runs the callee's
//! handler on the caller's task, and nothing of the callee
//! stays there past the caller's poll: its panics, its exit, a kill, more
//! work than the caller's request, or a caller that gives up while the
//! handler awaits, all end or move the callee and never the caller.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    task::Poll,
};

use foundation_mailbox::{
    Actor, ActorHandle, ActorRef, CallError, Context, ExitReason, ProcessRef, Reply, start,
};
use tokio::{runtime::Id as RuntimeId, sync::Semaphore, task::Id as TaskId};

use super::support::PATIENCE;

/// Where a handler ran: its task (none from `block_on`) and its runtime.
type Place = (Option<TaskId>, RuntimeId);

fn here() -> Place {
    (
        tokio::task::try_id(),
        tokio::runtime::Handle::current().id(),
    )
}

#[derive(Debug)]
struct Callee {
    handled: Arc<AtomicU64>,
    /// Panics when the state is dropped, once armed.
    bomb: Option<Bomb>,
}

#[derive(Debug)]
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the callee's state panics as it is dropped");
    }
}

#[derive(Debug)]
enum Ask {
    /// Answers where it runs.
    Where(Reply<Place>),
    /// Answers how many messages it has handled, this one included.
    Count(Reply<u64>),
    /// Panics in the handler (the port goes unanswered).
    Panic(#[allow(dead_code)] Reply<()>),
    /// Arms the state to panic in `Drop`, then fails: the actor exits (the
    /// port goes unanswered).
    Fail(#[allow(dead_code)] Reply<()>),
    /// Waits for a permit, then answers.
    Wait(Arc<Semaphore>, Reply<()>),
    /// Queues `n` more messages to itself, then answers.
    Flood(u64, Reply<()>),
    /// Nothing: queued by `Flood`.
    Extra,
    /// Kills itself through a reference, then answers.
    KillSelf(ProcessRef, Reply<()>),
}

#[derive(Debug, thiserror::Error)]
#[error("asked to fail")]
struct Failed;

impl Actor for Callee {
    type Args = Arc<AtomicU64>;
    type Msg = Ask;
    type Error = Failed;

    async fn init(handled: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Callee {
            handled,
            bomb: None,
        })
    }

    async fn handle(&mut self, ask: Ask, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        let count = self.handled.fetch_add(1, Ordering::SeqCst) + 1;
        match ask {
            Ask::Where(reply) => reply.send(here()).unwrap_or_default(),
            Ask::Count(reply) => reply.send(count).unwrap_or_default(),
            Ask::Panic(_) => panic!("the callee's handler panics"),
            Ask::Fail(_) => {
                self.bomb = Some(Bomb);
                return Err(Failed);
            }
            Ask::Wait(gate, reply) => {
                gate.acquire().await.expect("the gate stays open").forget();
                reply.send(()).unwrap_or_default();
            }
            Ask::Flood(n, reply) => {
                for _ in 0..n {
                    ctx.myself().try_cast(Ask::Extra).expect("room");
                }
                reply.send(()).unwrap_or_default();
            }
            Ask::Extra => {}
            Ask::KillSelf(me, reply) => {
                assert!(me.kill(), "the kill lands");
                reply.send(()).unwrap_or_default();
            }
        }
        Ok(())
    }
}

async fn callee() -> (ActorRef<Callee>, ActorHandle, Arc<AtomicU64>) {
    let handled = Arc::new(AtomicU64::new(0));
    let (callee, handle) = start::<Callee>(Arc::clone(&handled)).await.expect("starts");
    (callee, handle, handled)
}

/// Runs `work` on a task of the current runtime and waits for it: a
/// caller that is a task, as a service's request handler is.
async fn on_a_task<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> T {
    tokio::spawn(work)
        .await
        .expect("the caller's task ends well")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_to_a_dormant_actor_runs_on_the_callers_task() {
    let (callee, _handle, _) = callee().await;
    let (ran, caller) = on_a_task(async move {
        let ran = callee.call(Ask::Where, PATIENCE).await.expect("answers");
        (ran, here())
    })
    .await;
    assert_eq!(ran, caller);
}

// On one thread too, from a task as from the runtime's `block_on`.
#[tokio::test]
async fn on_one_thread_a_call_runs_the_callee_on_the_callers_task() {
    let (callee, _handle, _) = callee().await;
    let from_block_on = callee.call(Ask::Where, PATIENCE).await.expect("answers");
    assert_eq!(from_block_on, here());
    let (from_a_task, caller) = on_a_task({
        let callee = callee.clone();
        async move {
            let ran = callee.call(Ask::Where, PATIENCE).await.expect("answers");
            (ran, here())
        }
    })
    .await;
    assert_eq!(from_a_task, caller);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_on_another_runtime_runs_there() {
    let other = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("a runtime");
    let (callee, _handle, _) = other.spawn(callee()).await.expect("started there");
    let ran = on_a_task(async move { callee.call(Ask::Where, PATIENCE).await })
        .await
        .expect("answers");
    assert_eq!(ran.1, other.handle().id());
    other.shutdown_background();
}

/// Calls a callee from its handler. It runs on a task of its own (it opts
/// out of running on its callers' tasks), so its calls are made from an
/// actor's task, whose abort handle is registered.
#[derive(Debug)]
struct Caller(ActorRef<Callee>);

#[derive(Debug)]
enum Order {
    /// Answers where the callee ran, and where this caller runs.
    Where(Reply<(Place, Place)>),
    /// Has the callee kill this caller, then answers whether the call did.
    KillMe(Reply<bool>),
    /// Casts to `woken`, dormant, then calls the callee, then answers.
    WakeThenCall(ActorRef<Callee>, Reply<()>),
}

impl Actor for Caller {
    type Args = ActorRef<Callee>;
    type Msg = Order;
    type Error = std::convert::Infallible;
    const INLINE_CALLS: bool = false;

    async fn init(callee: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Caller(callee))
    }

    async fn handle(&mut self, order: Order, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match order {
            Order::Where(reply) => {
                let caller = here();
                let ran = self.0.call(Ask::Where, PATIENCE).await.expect("answers");
                reply.send((ran, caller)).unwrap_or_default();
            }
            Order::KillMe(reply) => {
                let me = ctx.myself().process_ref();
                let called = self.0.call(|port| Ask::KillSelf(me, port), PATIENCE).await;
                reply.send(called.is_ok()).unwrap_or_default();
            }
            Order::WakeThenCall(woken, reply) => {
                woken.try_cast(Ask::Extra).expect("room");
                self.0.call(Ask::Count, PATIENCE).await.expect("answers");
                reply.send(()).unwrap_or_default();
            }
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_from_an_actor_runs_the_callee_on_that_actors_task() {
    let (callee, _handle, _) = callee().await;
    let (caller, _caller_handle) = start::<Caller>(callee).await.expect("starts");
    let (ran, caller_ran) = caller.call(Order::Where, PATIENCE).await.expect("answers");
    assert_eq!(ran, caller_ran);
    assert_ne!(
        caller_ran.0,
        tokio::task::try_id(),
        "the caller has a task of its own"
    );
}

// The caller's task belongs to the caller: the callee, run there, kills
// it. The kill aborts that task once its poll returns, and by then the
// callee is dormant again in its own cell, untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_killing_the_actor_whose_task_it_runs_on_ends_that_actor_alone() {
    let (callee, _handle, handled) = callee().await;
    let (caller, caller_handle) = start::<Caller>(callee.clone()).await.expect("starts");
    let answered = caller.call(Order::KillMe, PATIENCE).await;
    assert!(
        matches!(answered, Ok(true)),
        "the caller's handler went on to answer: {answered:?}"
    );
    assert_eq!(caller_handle.exited().await, ExitReason::Killed);
    let count = callee.call(Ask::Count, PATIENCE).await.expect("answers");
    assert_eq!(count, 2, "the callee lives on");
    assert_eq!(handled.load(Ordering::SeqCst), 2);
}

// A handler that woke an actor of another type (boxed beside its task's
// slot) and then runs a callee on its task: the callee's poll opens a slot
// of its own, and the woken actor must still run once the handler is done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_woken_before_a_call_runs_after_the_callee_ran_on_the_same_task() {
    let (woken, _woken_handle, woken_handled) = callee().await;
    let (callee, _handle, _) = callee().await;
    let (caller, _caller_handle) = start::<Caller>(callee).await.expect("starts");
    caller
        .call(|reply| Order::WakeThenCall(woken.clone(), reply), PATIENCE)
        .await
        .expect("answers");
    let count = woken.call(Ask::Count, PATIENCE).await.expect("answers");
    assert_eq!(count, 2, "the cast ran, then this call");
    assert_eq!(woken_handled.load(Ordering::SeqCst), 2);
}

/// Calls the next link and answers with the task every link ran on when
/// it was called, its own first.
#[derive(Debug)]
struct Link(Option<ActorRef<Link>>);

impl Actor for Link {
    type Args = Option<ActorRef<Link>>;
    type Msg = Reply<Vec<Option<TaskId>>>;
    type Error = std::convert::Infallible;

    async fn init(next: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Link(next))
    }

    async fn handle(
        &mut self,
        reply: Reply<Vec<Option<TaskId>>>,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let mut tasks = vec![tokio::task::try_id()];
        if let Some(next) = &self.0 {
            tasks.extend(next.call(|port| port, PATIENCE).await.expect("answers"));
        }
        reply.send(tasks).unwrap_or_default();
        Ok(())
    }
}

// Each call run on its caller's task nests one activation deeper on that
// task's stack; eight deep, the next callee gets a task of its own, and
// the links after it run on that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_calls_runs_eight_deep_on_one_task_and_the_rest_on_another() {
    let mut next = None;
    let mut handles = Vec::new();
    for _ in 0..12 {
        let (link, handle) = start::<Link>(next.take()).await.expect("starts");
        next = Some(link);
        handles.push(handle);
    }
    let first = next.expect("twelve links");
    let (tasks, caller) = on_a_task(async move {
        let tasks = first.call(|port| port, PATIENCE).await.expect("answers");
        (tasks, tokio::task::try_id())
    })
    .await;
    assert_eq!(tasks.len(), 12);
    assert!(tasks[..8].iter().all(|&task| task == caller), "{tasks:?}");
    assert_ne!(tasks[8], caller, "{tasks:?}");
    assert!(tasks[8..].iter().all(|&task| task == tasks[8]), "{tasks:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_panicking_on_the_callers_task_ends_the_callee_alone() {
    let (callee, handle, _) = callee().await;
    let called = on_a_task({
        let callee = callee.clone();
        async move { callee.call(Ask::Panic, PATIENCE).await }
    })
    .await;
    let Err(CallError::Exited(reason)) = called else {
        panic!("the caller learns the callee died: {called:?}");
    };
    assert!(reason.is_panic(), "{reason:?}");
    assert_eq!(handle.exited().await, reason);
    assert!(!callee.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_panicking_in_drop_on_the_callers_task_ends_the_callee_alone() {
    let (callee, handle, _) = callee().await;
    let called = on_a_task(async move { callee.call(Ask::Fail, PATIENCE).await }).await;
    let Err(CallError::Exited(reason)) = called else {
        panic!("the caller learns the callee died: {called:?}");
    };
    // The panic in `Drop` overrides the error the handler returned.
    assert!(reason.is_panic(), "{reason:?}");
    assert_eq!(handle.exited().await, reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callee_killing_itself_on_the_callers_task_exits_once() {
    let (callee, handle, _) = callee().await;
    let exits = Arc::new(AtomicUsize::new(0));
    callee
        .process_ref()
        .on_exit({
            let exits = Arc::clone(&exits);
            move |_| {
                exits.fetch_add(1, Ordering::SeqCst);
            }
        })
        .expect("alive");
    let called = on_a_task({
        let callee = callee.clone();
        let me = callee.process_ref();
        async move {
            callee
                .call(|reply| Ask::KillSelf(me, reply), PATIENCE)
                .await
        }
    })
    .await;
    // It answered before the kill took effect.
    assert!(called.is_ok(), "{called:?}");
    assert_eq!(handle.exited().await, ExitReason::Killed);
    assert_eq!(exits.load(Ordering::SeqCst), 1);
    let again = callee.call(Ask::Count, PATIENCE).await;
    assert!(matches!(again, Err(CallError::NoProcess(_))), "{again:?}");
}

// The handler awaits on the caller's task; the caller gives up after that
// first poll. The callee must go on, on a task of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_giving_up_while_its_callee_awaits_leaves_the_callee_running() {
    let (callee, handle, handled) = callee().await;
    let gate = Arc::new(Semaphore::new(0));
    on_a_task({
        let callee = callee.clone();
        let gate = Arc::clone(&gate);
        async move {
            let mut call = std::pin::pin!(callee.call(|reply| Ask::Wait(gate, reply), PATIENCE));
            let polled = futures::poll!(call.as_mut());
            assert!(matches!(polled, Poll::Pending), "the handler waits");
        }
    })
    .await;
    assert_eq!(handled.load(Ordering::SeqCst), 1, "the handler ran");
    gate.add_permits(1);
    let count = callee.call(Ask::Count, PATIENCE).await.expect("answers");
    assert_eq!(count, 2, "the waiting handler finished, then this one ran");
    assert!(callee.is_alive());
    drop(handle);
}

// The caller waits for its own request, never for the messages the callee
// has besides: with more queued, the callee moves to a task of its own.
// One thread, from `block_on`: that task cannot run before the call returns.
#[tokio::test]
async fn a_callee_with_more_to_do_than_the_callers_request_moves_off_the_callers_task() {
    let (callee, _handle, handled) = callee().await;
    callee
        .call(|reply| Ask::Flood(5, reply), PATIENCE)
        .await
        .expect("answers");
    assert_eq!(
        handled.load(Ordering::SeqCst),
        1,
        "the call returned before the callee's own messages ran"
    );
    let count = callee.call(Ask::Count, PATIENCE).await.expect("answers");
    assert_eq!(
        count, 7,
        "the five extra messages ran, on the callee's task"
    );
}

/// Answers where it runs; opts out of running on its callers' tasks.
#[derive(Debug)]
struct Apart;

impl Actor for Apart {
    type Args = ();
    type Msg = Reply<Place>;
    type Error = std::convert::Infallible;
    const INLINE_CALLS: bool = false;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Apart)
    }

    async fn handle(
        &mut self,
        reply: Reply<Place>,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        reply.send(here()).unwrap_or_default();
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_actor_that_opts_out_runs_every_call_on_its_own_task() {
    let (apart, _handle) = start::<Apart>(()).await.expect("starts");
    let (ran, caller) = on_a_task(async move {
        let ran = apart.call(|reply| reply, PATIENCE).await.expect("answers");
        (ran, here())
    })
    .await;
    assert_ne!(ran.0, caller.0);
    assert!(ran.0.is_some(), "it ran on a task of its own");
}

// Two callers race for one dormant callee: one gets it handed to its task,
// the other queues behind (or finds it busy and gets the scheduler path).
// Every call is answered by its own request, none lost or answered twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_racing_for_one_dormant_callee_each_get_their_own_answer() {
    const CALLS: u64 = 2_000;
    let (callee, _handle, handled) = callee().await;
    let racer = |callee: ActorRef<Callee>| async move {
        let mut counts = Vec::new();
        for _ in 0..CALLS {
            counts.push(callee.call(Ask::Count, PATIENCE).await.expect("answers"));
        }
        counts
    };
    let first = tokio::spawn(racer(callee.clone()));
    let second = tokio::spawn(racer(callee.clone()));
    let mut counts = first.await.expect("the first caller ends well");
    counts.extend(second.await.expect("the second caller ends well"));
    counts.sort_unstable();
    // Each answer is the count at its own request: all distinct, 1..=2N.
    assert_eq!(counts, (1..=2 * CALLS).collect::<Vec<_>>());
    assert_eq!(handled.load(Ordering::SeqCst), 2 * CALLS);
}

// The callee awaited on its caller's task and moved to a task of its own;
// then the runtime shuts down. It ends with its runtime, once, killed.
#[test]
fn a_runtime_shutting_down_ends_a_callee_that_moved_off_its_callers_task() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (handle, handled, gate) = runtime.block_on(async {
        let (callee, handle, handled) = callee().await;
        let gate = Arc::new(Semaphore::new(0));
        let mut call =
            std::pin::pin!(callee.call(|reply| Ask::Wait(Arc::clone(&gate), reply), PATIENCE));
        let polled = futures::poll!(call.as_mut());
        assert!(matches!(polled, Poll::Pending), "the handler waits");
        (handle, handled, gate)
    });
    assert_eq!(handled.load(Ordering::SeqCst), 1, "the handler ran");
    drop(runtime);
    assert_eq!(
        handle.process().exit_reason(),
        Some(ExitReason::Killed),
        "the callee outlived its runtime"
    );
    drop(gate);
}
