//! An exiting actor's task runs the watcher its exit woke: a supervisor
//! taking a crashed child's DOWN, a monitor taking a worker's, costs no
//! task spawn. The task is free once the exit is published; a kill of the
//! dead actor never reaches the watcher, a kill of the watcher does.

use std::sync::Arc;

use foundation_mailbox::{
    Actor, ActorHandle, ActorRef, Context, ExitReason, Reference, Reply, SystemMessage, start,
};
use tokio::{
    sync::{Semaphore, mpsc},
    task::Id as TaskId,
};

use super::support::PATIENCE;

/// How a [`Quitter`] leaves.
#[derive(Debug)]
enum Leave {
    Stop,
    Panic,
    /// Stops with one more message queued behind this one.
    StopWithMore(Option<ActorRef<Quitter>>),
    /// Answers, then stops: as a call's request, it runs on the caller's
    /// task.
    AnswerAndStop(Reply<()>),
    /// Stops, and its state panics as it is dropped.
    StopAndPanicInDrop,
    Stay,
}

/// Reports the task each message runs on, then leaves as told.
#[derive(Debug)]
struct Quitter(mpsc::UnboundedSender<Option<TaskId>>, bool);

impl Drop for Quitter {
    fn drop(&mut self) {
        if self.1 {
            panic!("the state panics in drop");
        }
    }
}

impl Actor for Quitter {
    type Args = mpsc::UnboundedSender<Option<TaskId>>;
    type Msg = Leave;
    type Error = std::convert::Infallible;

    async fn init(tasks: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Quitter(tasks, false))
    }

    async fn handle(&mut self, leave: Leave, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        let _ = self.0.send(tokio::task::try_id());
        match leave {
            Leave::Stop => ctx.stop(ExitReason::Normal),
            Leave::Panic => panic!("quits by panicking"),
            Leave::StopWithMore(me) => {
                me.expect("its own reference")
                    .try_cast(Leave::Stay)
                    .expect("room");
                ctx.stop(ExitReason::Normal);
            }
            Leave::AnswerAndStop(reply) => {
                reply.send(()).unwrap_or_default();
                ctx.stop(ExitReason::Normal);
            }
            Leave::StopAndPanicInDrop => {
                self.1 = true;
                ctx.stop(ExitReason::Normal);
            }
            Leave::Stay => {}
        }
        Ok(())
    }
}

/// Reports the task each DOWN runs on, then waits on its gate (if it has
/// one) before it goes on.
#[derive(Debug)]
struct Watcher {
    downs: mpsc::UnboundedSender<Option<TaskId>>,
    gate: Option<Arc<Semaphore>>,
}

impl Actor for Watcher {
    type Args = (
        mpsc::UnboundedSender<Option<TaskId>>,
        Option<Arc<Semaphore>>,
    );
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init((downs, gate): Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Watcher { downs, gate })
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if let SystemMessage::Down(_) = message {
            let _ = self.downs.send(tokio::task::try_id());
            if let Some(gate) = &self.gate {
                gate.acquire().await.expect("open").forget();
            }
            let _ = self.downs.send(tokio::task::try_id());
        }
        Ok(())
    }
}

struct Pair {
    quitter: ActorRef<Quitter>,
    quitter_handle: ActorHandle,
    quitter_tasks: mpsc::UnboundedReceiver<Option<TaskId>>,
    watcher: ActorRef<Watcher>,
    watcher_handle: ActorHandle,
    watcher_tasks: mpsc::UnboundedReceiver<Option<TaskId>>,
}

/// A dormant quitter, watched by a dormant watcher with `gate`.
async fn pair(gate: Option<Arc<Semaphore>>) -> Pair {
    let (seen, quitter_tasks) = mpsc::unbounded_channel();
    let (quitter, quitter_handle) = start::<Quitter>(seen).await.expect("starts");
    let (seen, watcher_tasks) = mpsc::unbounded_channel();
    let (watcher, watcher_handle) = start::<Watcher>((seen, gate)).await.expect("starts");
    quitter
        .process_ref()
        .notify_on_exit(&watcher, Reference::new())
        .expect("the quitter is alive");
    Pair {
        quitter,
        quitter_handle,
        quitter_tasks,
        watcher,
        watcher_handle,
        watcher_tasks,
    }
}

async fn next(tasks: &mut mpsc::UnboundedReceiver<Option<TaskId>>) -> TaskId {
    tasks
        .recv()
        .await
        .expect("reported")
        .expect("runs on a task")
}

/// The watcher's DOWN runs on the task the quitter's last message ran on,
/// however the quitter left.
async fn watcher_runs_on_the_exited_task(
    leave: fn(&ActorRef<Quitter>) -> Leave,
    reason: ExitReason,
) {
    let mut pair = pair(None).await;
    pair.quitter.try_cast(leave(&pair.quitter)).expect("room");
    let quitter_task = next(&mut pair.quitter_tasks).await;
    assert_eq!(pair.quitter_handle.wait(PATIENCE).await, Ok(reason));
    assert_eq!(next(&mut pair.watcher_tasks).await, quitter_task);
    // The watcher lives on, and takes messages.
    assert!(pair.watcher.is_alive());
    pair.watcher.try_cast(()).expect("room");
}

#[tokio::test(flavor = "current_thread")]
async fn the_watcher_an_exit_wakes_runs_on_the_exited_actors_task() {
    watcher_runs_on_the_exited_task(|_| Leave::Stop, ExitReason::Normal).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_watcher_a_crash_wakes_runs_on_the_crashed_actors_task() {
    watcher_runs_on_the_exited_task(|_| Leave::Panic, ExitReason::panic("quits by panicking"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_an_exit_wakes_runs_on_the_exited_actors_task_on_two_workers() {
    watcher_runs_on_the_exited_task(|_| Leave::Stop, ExitReason::Normal).await;
}

/// Messages left in the mailbox go to dead letters before the DOWN goes
/// out (the exit is published after them); the watcher still runs on the
/// task.
#[tokio::test(flavor = "current_thread")]
async fn the_watcher_of_an_actor_that_exits_with_messages_queued_runs_on_its_task() {
    watcher_runs_on_the_exited_task(
        |me| Leave::StopWithMore(Some(me.clone())),
        ExitReason::Normal,
    )
    .await;
}

/// A panic in the state's `Drop` as the actor exits is its exit reason;
/// the watcher still runs on its task.
#[tokio::test(flavor = "current_thread")]
async fn the_watcher_of_an_actor_whose_state_panics_in_drop_runs_on_its_task() {
    watcher_runs_on_the_exited_task(
        |_| Leave::StopAndPanicInDrop,
        ExitReason::panic("the state panics in drop"),
    )
    .await;
}

/// A quitter of the watcher's own type: the task takes it over as its
/// loop, as it does an actor its handler woke.
#[tokio::test(flavor = "current_thread")]
async fn an_exit_that_wakes_an_actor_of_its_own_type_hands_it_the_task() {
    let (seen, mut first_tasks) = mpsc::unbounded_channel();
    let (first, first_handle) = start::<Quitter>(seen).await.expect("starts");
    let (seen, mut second_tasks) = mpsc::unbounded_channel();
    let (second, _second_handle) = start::<Quitter>(seen).await.expect("starts");
    // The second takes a cast from the first's exit hook.
    let woken = second.clone();
    first
        .process_ref()
        .on_exit(move |_| woken.try_cast(Leave::Stay).expect("room"))
        .expect("alive");
    first.try_cast(Leave::Stop).expect("room");
    let task = next(&mut first_tasks).await;
    assert_eq!(first_handle.wait(PATIENCE).await, Ok(ExitReason::Normal));
    assert_eq!(next(&mut second_tasks).await, task);
    assert!(second.is_alive());
}

/// An actor that exits while a call runs it on its caller's task has no
/// task to hand over: the watcher gets a task of its own, and nothing of
/// it stays on the caller's.
#[tokio::test(flavor = "current_thread")]
async fn the_watcher_of_an_actor_that_exits_on_its_callers_task_gets_a_task_of_its_own() {
    let pair = pair(None).await;
    let caller = tokio::spawn(async move {
        let answered = pair
            .quitter
            .call(Leave::AnswerAndStop, PATIENCE)
            .await
            .is_ok();
        (answered, tokio::task::try_id(), pair)
    });
    let (answered, caller_task, mut pair) = caller.await.expect("the caller ends");
    assert!(answered, "the request was answered");
    assert_eq!(
        Some(next(&mut pair.quitter_tasks).await),
        caller_task,
        "the callee ran on the caller's task"
    );
    assert_eq!(
        pair.quitter_handle.wait(PATIENCE).await,
        Ok(ExitReason::Normal)
    );
    assert_ne!(Some(next(&mut pair.watcher_tasks).await), caller_task);
    assert!(pair.watcher.is_alive());
}

/// The dead actor's kill comes after its exit: it must not abort the task
/// now running the watcher.
#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_the_exited_actor_does_not_reach_the_watcher_running_on_its_task() {
    let gate = Arc::new(Semaphore::new(0));
    let mut pair = pair(Some(gate.clone())).await;
    pair.quitter.try_cast(Leave::Stop).expect("room");
    let quitter_task = next(&mut pair.quitter_tasks).await;
    // The watcher waits on its gate, on the quitter's task.
    assert_eq!(next(&mut pair.watcher_tasks).await, quitter_task);
    assert!(!pair.quitter.kill(), "the quitter had exited");
    assert_eq!(
        pair.quitter_handle.wait(PATIENCE).await,
        Ok(ExitReason::Normal)
    );
    gate.add_permits(1);
    assert_eq!(next(&mut pair.watcher_tasks).await, quitter_task);
    assert!(pair.watcher.is_alive());
}

/// A kill of the watcher while it waits on the task it adopted aborts that
/// task, and ends the watcher alone.
#[tokio::test(flavor = "current_thread")]
async fn a_kill_of_the_watcher_running_on_an_exited_actors_task_ends_it() {
    let gate = Arc::new(Semaphore::new(0));
    let mut pair = pair(Some(gate.clone())).await;
    pair.quitter.try_cast(Leave::Panic).expect("room");
    let quitter_task = next(&mut pair.quitter_tasks).await;
    assert_eq!(next(&mut pair.watcher_tasks).await, quitter_task);
    assert!(pair.watcher.kill(), "the kill lands");
    assert_eq!(
        pair.watcher_handle.wait(PATIENCE).await,
        Ok(ExitReason::Killed)
    );
    // Its DOWN handler never went past the gate.
    assert_eq!(pair.watcher_tasks.recv().await, None);
    assert_eq!(gate.available_permits(), 0);
}

/// The watcher panics in its DOWN handler on the exited actor's task (its
/// gate closes under it): the panic ends the watcher alone, and the
/// runtime goes on running the next exit's handover.
#[tokio::test(flavor = "current_thread")]
async fn a_watcher_that_panics_on_an_exited_actors_task_ends_alone() {
    let gate = Arc::new(Semaphore::new(0));
    let mut pair = pair(Some(gate.clone())).await;
    pair.quitter.try_cast(Leave::Stop).expect("room");
    let quitter_task = next(&mut pair.quitter_tasks).await;
    assert_eq!(next(&mut pair.watcher_tasks).await, quitter_task);
    gate.close();
    let reason = pair.watcher_handle.wait(PATIENCE).await;
    assert!(matches!(reason, Ok(ExitReason::Panic(_))), "{reason:?}");
    assert_eq!(
        pair.quitter_handle.wait(PATIENCE).await,
        Ok(ExitReason::Normal)
    );
    // The next exit still hands its task over.
    watcher_runs_on_the_exited_task(|_| Leave::Stop, ExitReason::Normal).await;
}

/// A runtime shutting down while the watcher waits on the exited actor's
/// task ends the watcher: the task's drop finishes its exit.
#[test]
fn a_runtime_shutting_down_ends_the_watcher_running_on_an_exited_actors_task() {
    let actors = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let gate = Arc::new(Semaphore::new(0));
    let pair = actors.block_on(async {
        let mut pair = pair(Some(gate.clone())).await;
        pair.quitter.try_cast(Leave::Stop).expect("room");
        let quitter_task = next(&mut pair.quitter_tasks).await;
        assert_eq!(next(&mut pair.watcher_tasks).await, quitter_task);
        pair
    });
    drop(actors);
    assert_eq!(
        pair.watcher_handle.process().exit_reason(),
        Some(ExitReason::Killed)
    );
    assert_eq!(
        pair.quitter_handle.process().exit_reason(),
        Some(ExitReason::Normal)
    );
}
