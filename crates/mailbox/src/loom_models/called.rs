//! Loom models of a call that runs its dormant callee on the caller's task
//! (`runtime::inline`; under loom the path is always taken). A kill of the
//! callee may land before the request, while the caller's poll runs the
//! callee (no task to abort: the activation meets the kill where it parks
//! its state), while the handler awaits and the activation moves to a task
//! of its own, or after: the callee exits exactly once, the request is
//! handled or dropped with the exit, and the caller always gets an answer.

use std::{sync::Arc as StdArc, time::Duration};

use loom::{
    future::block_on,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use super::Dead;
use crate::{
    Actor, ActorHandle, ActorOptions, ActorRef, CallError, Context, ExitReason, Reply, start_with,
};

/// Answers each request; with `AWAITS`, only after one turn of waiting,
/// so that its activation moves off the caller's task.
#[derive(Debug)]
struct Callee<const AWAITS: bool> {
    handled: Arc<AtomicUsize>,
}

impl<const AWAITS: bool> Actor for Callee<AWAITS> {
    type Args = Arc<AtomicUsize>;
    type Msg = Reply<()>;
    type Error = std::convert::Infallible;

    async fn init(handled: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Callee { handled })
    }

    async fn handle(&mut self, reply: Reply<()>, _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.handled.fetch_add(1, Ordering::SeqCst);
        if AWAITS {
            crate::wait::YieldOnce::new().await;
        }
        reply.send(()).unwrap_or_default();
        Ok(())
    }
}

#[test]
fn a_kill_racing_a_call_run_on_the_callers_task_ends_the_callee_once() {
    loom::model(kill_racing_a_called::<false>);
}

#[test]
fn a_kill_racing_a_called_handler_that_moves_off_the_callers_task_ends_the_callee_once() {
    loom::model(kill_racing_a_called::<true>);
}

fn kill_racing_a_called<const AWAITS: bool>() {
    let watched = Watched::<AWAITS>::new();
    let killer = watched.killer();
    let called = block_on(watched.callee.call(|reply| reply, Duration::from_secs(60)));
    assert!(killer.join().unwrap(), "the kill lands");
    watched.check(&called);
}

/// A dormant callee, watched: what it handled, what became a dead letter,
/// how many times it exited.
struct Watched<const AWAITS: bool> {
    callee: ActorRef<Callee<AWAITS>>,
    handle: ActorHandle,
    handled: Arc<AtomicUsize>,
    dead: Arc<AtomicUsize>,
    exits: Arc<AtomicUsize>,
}

impl<const AWAITS: bool> Watched<AWAITS> {
    fn new() -> Self {
        let handled = Arc::new(AtomicUsize::new(0));
        let dead = Arc::new(AtomicUsize::new(0));
        let exits = Arc::new(AtomicUsize::new(0));
        let options = ActorOptions::new().dead_letters(StdArc::new(Dead(dead.clone())));
        let (callee, handle) =
            block_on(start_with::<Callee<AWAITS>>(handled.clone(), options)).unwrap();
        callee
            .process_ref()
            .on_exit({
                let exits = exits.clone();
                move |_| {
                    exits.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap();
        Self {
            callee,
            handle,
            handled,
            dead,
            exits,
        }
    }

    /// A thread that kills the callee.
    fn killer(&self) -> thread::JoinHandle<bool> {
        let target = self.callee.clone();
        thread::spawn(move || target.kill())
    }

    /// The callee exited once, killed, and the call's answer agrees with
    /// what it handled.
    fn check(&self, called: &Result<(), CallError<Reply<()>>>) {
        assert_eq!(block_on(self.handle.exited()), ExitReason::Killed);
        assert_eq!(self.exits.load(Ordering::SeqCst), 1, "one exit");
        let handled = self.handled.load(Ordering::SeqCst);
        match called {
            // Answered: the handler ran to its reply before the kill ended it.
            Ok(()) => assert_eq!(handled, 1),
            // Killed before the request was queued.
            Err(CallError::NoProcess(_)) => assert_eq!(handled, 0),
            // Killed with the request queued (a dead letter) or in hand.
            Err(CallError::Exited(reason)) => {
                assert_eq!(*reason, ExitReason::Killed);
                assert!(handled + self.dead.load(Ordering::SeqCst) <= 1);
            }
            other => panic!("the caller gets an answer: {other:?}"),
        }
    }
}

/// What a call to a watched callee answered.
type Called = Result<(), CallError<Reply<()>>>;

/// Calls its callee from its handler and answers with what that call
/// answered. It runs on a task of its own (it opts out of running on its
/// callers' tasks), whose abort handle is registered.
#[derive(Debug)]
struct Asker(ActorRef<Callee<false>>);

impl Actor for Asker {
    type Args = ActorRef<Callee<false>>;
    type Msg = Reply<Called>;
    type Error = std::convert::Infallible;
    const INLINE_CALLS: bool = false;

    async fn init(callee: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Asker(callee))
    }

    async fn handle(
        &mut self,
        reply: Reply<Called>,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let called = self.0.call(|port| port, Duration::from_secs(60)).await;
        reply.send(called).unwrap_or_default();
        Ok(())
    }
}

#[test]
fn a_kill_racing_a_call_run_inside_the_calling_actors_poll_ends_the_callee_alone() {
    loom::model(|| {
        let watched = Watched::<false>::new();
        let asker = watched.callee.clone();
        let (asker, asker_handle) =
            block_on(start_with::<Asker>(asker, ActorOptions::new())).unwrap();
        let killer = watched.killer();
        let called = block_on(asker.call(|reply| reply, Duration::from_secs(60)))
            .expect("the asker answers");
        assert!(killer.join().unwrap(), "the kill lands");
        watched.check(&called);
        // The asker, on whose task the callee ran, was not killed with it.
        let stopped = block_on(asker.stop(ExitReason::shutdown(), Duration::from_secs(60)));
        assert_eq!(stopped, Ok(ExitReason::shutdown()));
        assert_eq!(block_on(asker_handle.exited()), ExitReason::shutdown());
    });
}
