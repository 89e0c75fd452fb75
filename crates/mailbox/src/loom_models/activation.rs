//! Loom models of the activation layer: actors started, woken, killed and
//! stopped through the crate's own `start`, `try_cast`, `kill` and `stop`,
//! with activation tasks run by the `sync` shim's model of tokio's tasks
//! (an abort before the first poll drops the future unpolled; an abort
//! during a poll that completes is ignored). Every model checks that the
//! exit is published exactly once and that the message sent is handled or
//! dead-lettered exactly once, whatever the interleaving.

use std::{
    future::{Future, pending},
    pin::pin,
    sync::{Arc as StdArc, Mutex as StdMutex},
    task::{Context as TaskContext, Poll},
    time::Duration,
};

use loom::{
    future::block_on,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use super::Dead;
use crate::{Actor, ActorHandle, ActorOptions, ActorRef, Context, ExitReason, start_with};

/// Counts the casts it handles; with `hang_in_init`, its `init` hands out
/// its reference and never returns.
#[derive(Debug)]
struct Counted {
    handled: Arc<AtomicUsize>,
    hang_in_terminate: bool,
}

#[derive(Debug)]
struct CountedArgs {
    handled: Arc<AtomicUsize>,
    hang_in_init: Option<StdArc<StdMutex<Option<ActorRef<Counted>>>>>,
    hang_in_terminate: bool,
}

impl Actor for Counted {
    type Args = CountedArgs;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(args: CountedArgs, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        if let Some(slot) = args.hang_in_init {
            *slot.lock().unwrap() = Some(ctx.myself().clone());
            pending::<()>().await;
        }
        Ok(Counted {
            handled: args.handled,
            hang_in_terminate: args.hang_in_terminate,
        })
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.handled.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    async fn terminate(&mut self, _: &ExitReason, _: &mut Context<Self>) {
        if self.hang_in_terminate {
            pending::<()>().await;
        }
    }
}

struct Started {
    actor: ActorRef<Counted>,
    handle: ActorHandle,
    handled: Arc<AtomicUsize>,
    dead: Arc<AtomicUsize>,
    exits: Arc<AtomicUsize>,
}

/// A dormant actor, with counters for what it handles, its dead letters
/// and its published exits.
fn started(hang_in_terminate: bool) -> Started {
    let handled = Arc::new(AtomicUsize::new(0));
    let dead = Arc::new(AtomicUsize::new(0));
    let options = ActorOptions::new().dead_letters(StdArc::new(Dead(dead.clone())));
    let args = CountedArgs {
        handled: handled.clone(),
        hang_in_init: None,
        hang_in_terminate,
    };
    let (actor, handle) = block_on(start_with::<Counted>(args, options)).unwrap();
    let exits = counted_exits(&actor);
    Started {
        actor,
        handle,
        handled,
        dead,
        exits,
    }
}

fn counted_exits(actor: &ActorRef<Counted>) -> Arc<AtomicUsize> {
    let exits = Arc::new(AtomicUsize::new(0));
    let count = exits.clone();
    actor
        .process_ref()
        .on_exit(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    exits
}

/// A kill racing a send that wakes the dormant actor: the kill may land
/// before the woken activation's task is first polled, while it handles
/// the message, during the poll that parks its state again, or after it
/// went dormant. It lands exactly once, and the message is handled or
/// dead-lettered exactly once.
#[test]
fn a_kill_lands_exactly_once_wherever_the_activation_is() {
    loom::model(|| {
        let actor = started(false);
        let killer = {
            let target = actor.actor.clone();
            thread::spawn(move || target.kill())
        };
        let sent = actor.actor.try_cast(()).is_ok();
        assert!(killer.join().unwrap(), "the first kill lands");
        assert_eq!(block_on(actor.handle.exited()), ExitReason::Killed);
        assert_eq!(actor.exits.load(Ordering::SeqCst), 1, "one exit published");
        assert_eq!(
            actor.handled.load(Ordering::SeqCst) + actor.dead.load(Ordering::SeqCst),
            usize::from(sent),
            "the message is handled or a dead letter, once"
        );
        assert!(!actor.actor.kill(), "a second kill finds it gone");
    });
}

/// A kill racing a stop whose `terminate` runs on the stopper's thread
/// (the actor was dormant): one of them wins, the exit is published once,
/// and the stop never waits for a kill that already landed.
#[test]
fn a_kill_racing_a_stop_of_a_dormant_actor_lands_once() {
    loom::model(|| {
        let actor = started(false);
        let stopper = {
            let target = actor.actor.clone();
            thread::spawn(move || {
                block_on(target.stop(ExitReason::shutdown(), Duration::from_secs(60)))
            })
        };
        let killed = actor.actor.kill();
        let stopped = stopper.join().unwrap();
        let reason = block_on(actor.handle.exited());
        assert_eq!(actor.exits.load(Ordering::SeqCst), 1, "one exit published");
        match stopped {
            Ok(stopped) => assert_eq!(stopped, reason),
            Err(_) => assert!(
                killed,
                "the stop found nothing only because the kill came first"
            ),
        }
        assert!(
            reason == ExitReason::Killed || (!killed && reason == ExitReason::shutdown()),
            "a kill that lands decides the reason: {reason:?}"
        );
    });
}

/// A kill of an actor whose `terminate`, run by a stopper that claimed it
/// dormant, never returns: only the kill can end that stop, and it must.
#[test]
fn a_kill_ends_a_stop_whose_terminate_never_returns() {
    loom::model(|| {
        let actor = started(true);
        let stopper = {
            let target = actor.actor.clone();
            thread::spawn(move || {
                block_on(target.stop(ExitReason::shutdown(), Duration::from_secs(60)))
            })
        };
        assert!(actor.actor.kill());
        let stopped = stopper.join().unwrap();
        assert_eq!(block_on(actor.handle.exited()), ExitReason::Killed);
        assert_eq!(actor.exits.load(Ordering::SeqCst), 1, "one exit published");
        assert!(
            matches!(
                stopped,
                Ok(ExitReason::Killed) | Err(crate::StopError::NoProcess)
            ),
            "{stopped:?}"
        );
    });
}

/// `start`'s future dropped while `init` runs, racing a kill of the process
/// `init` handed out: the half-started process exits exactly once.
#[test]
fn a_cancelled_start_racing_a_kill_exits_once() {
    loom::model(|| {
        let slot = StdArc::new(StdMutex::new(None));
        let args = CountedArgs {
            handled: Arc::new(AtomicUsize::new(0)),
            hang_in_init: Some(slot.clone()),
            hang_in_terminate: false,
        };
        let mut cx = TaskContext::from_waker(futures::task::noop_waker_ref());
        let mut starting = Box::pin(start_with::<Counted>(args, ActorOptions::new()));
        assert!(starting.as_mut().poll(&mut cx).is_pending());
        let actor = slot.lock().unwrap().take().unwrap();
        let exits = counted_exits(&actor);
        let killer = {
            let target = actor.clone();
            thread::spawn(move || target.kill())
        };
        drop(starting);
        let killed = killer.join().unwrap();
        let mut exited = pin!(actor.exited());
        assert_eq!(
            exited.as_mut().poll(&mut cx),
            Poll::Ready(ExitReason::Killed),
            "both the cancel and the kill end the process as killed, and it is over"
        );
        assert_eq!(exits.load(Ordering::SeqCst), 1, "one exit published");
        let _ = killed;
    });
}

/// The runtime shutting down (its reaper killing every process it holds)
/// racing a send that wakes the dormant actor: the reaper may find it
/// dormant, with a task not yet polled, or running. It exits once, killed,
/// and the message is handled or dead-lettered exactly once.
#[test]
fn a_runtime_shutdown_racing_a_wake_ends_the_actor_once() {
    loom::model(|| {
        let actor = started(false);
        let reaper = {
            let target = actor.actor.clone();
            thread::spawn(move || target.process.host().reap())
        };
        let sent = actor.actor.try_cast(()).is_ok();
        reaper.join().unwrap();
        assert_eq!(block_on(actor.handle.exited()), ExitReason::Killed);
        assert_eq!(actor.exits.load(Ordering::SeqCst), 1, "one exit published");
        assert_eq!(
            actor.handled.load(Ordering::SeqCst) + actor.dead.load(Ordering::SeqCst),
            usize::from(sent),
            "the message is handled or a dead letter, once"
        );
    });
}
