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
use crate::{Actor, ActorOptions, CallError, Context, ExitReason, Reply, start_with};

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
    let killer = {
        let target = callee.clone();
        thread::spawn(move || target.kill())
    };
    let called = block_on(callee.call(|reply| reply, Duration::from_secs(60)));
    assert!(killer.join().unwrap(), "the kill lands");
    assert_eq!(block_on(handle.exited()), ExitReason::Killed);
    assert_eq!(exits.load(Ordering::SeqCst), 1, "one exit");
    let handled = handled.load(Ordering::SeqCst);
    match called {
        // Answered: the handler ran to its reply before the kill ended it.
        Ok(()) => assert_eq!(handled, 1),
        // Killed before the request was queued.
        Err(CallError::NoProcess(_)) => assert_eq!(handled, 0),
        // Killed with the request queued (a dead letter) or in hand.
        Err(CallError::Exited(reason)) => {
            assert_eq!(reason, ExitReason::Killed);
            assert!(handled + dead.load(Ordering::SeqCst) <= 1);
        }
        other => panic!("the caller gets an answer: {other:?}"),
    }
}
