//! Loom models of the handoff (`runtime::handoff`, `runtime::foreign`): an
//! actor whose handler wakes a dormant actor, of its type or of another,
//! runs it on its own task. A kill of the woken actor may land before the
//! wake, while its activation waits in the slot (or boxed beside it), while
//! the task adopts it, while it runs on the adopting task, or after: it
//! must end that actor exactly once, never the actor whose task adopted
//! it, and lose no message.

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
use crate::{Actor, ActorHandle, ActorOptions, ActorRef, Context, ExitReason, start_with};

/// Counts what it handles and, if it has a next relay, forwards each
/// message to it once (counting the forwards that were queued); the last
/// relay then never returns, so only an abort of its task can end it.
/// `KIND` makes relays of different types; each forwards to a `Relay<0>`.
#[derive(Debug)]
struct Relay<const KIND: u8> {
    next: Option<ActorRef<Relay<0>>>,
    handled: Arc<AtomicUsize>,
    forwarded: Arc<AtomicUsize>,
}

#[derive(Debug)]
struct Counters {
    handled: Arc<AtomicUsize>,
    forwarded: Arc<AtomicUsize>,
    dead: Arc<AtomicUsize>,
    exits: Arc<AtomicUsize>,
}

impl<const KIND: u8> Actor for Relay<KIND> {
    type Args = (
        Option<ActorRef<Relay<0>>>,
        Arc<AtomicUsize>,
        Arc<AtomicUsize>,
    );
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(
        (next, handled, forwarded): Self::Args,
        _: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        Ok(Relay {
            next,
            handled,
            forwarded,
        })
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        self.handled.fetch_add(1, Ordering::SeqCst);
        if let Some(next) = &self.next
            && next.try_cast(()).is_ok()
        {
            self.forwarded.fetch_add(1, Ordering::SeqCst);
        }
        if self.next.is_none() {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// A dormant relay forwarding to `next`, with its counters.
fn relay<const KIND: u8>(
    next: Option<ActorRef<Relay<0>>>,
) -> (ActorRef<Relay<KIND>>, ActorHandle, Counters) {
    let counters = Counters {
        handled: Arc::new(AtomicUsize::new(0)),
        forwarded: Arc::new(AtomicUsize::new(0)),
        dead: Arc::new(AtomicUsize::new(0)),
        exits: Arc::new(AtomicUsize::new(0)),
    };
    let options = ActorOptions::new().dead_letters(StdArc::new(Dead(counters.dead.clone())));
    let args = (next, counters.handled.clone(), counters.forwarded.clone());
    let (actor, handle) = block_on(start_with::<Relay<KIND>>(args, options)).unwrap();
    let exits = counters.exits.clone();
    actor
        .process_ref()
        .on_exit(move |_| {
            exits.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    (actor, handle, counters)
}

#[test]
fn a_kill_racing_a_handoff_ends_the_woken_actor_once_and_only_it() {
    loom::model(kill_racing_a_handoff::<0>);
}

#[test]
fn a_kill_racing_a_handoff_to_another_type_ends_the_woken_actor_once_and_only_it() {
    loom::model(kill_racing_a_handoff::<1>);
}

/// A `Relay<FIRST>` wakes a `Relay<0>` (of its own type or another) while
/// a thread kills the woken one.
fn kill_racing_a_handoff<const FIRST: u8>() {
    let (second, second_handle, second_counts) = relay::<0>(None);
    let (first, first_handle, first_counts) = relay::<FIRST>(Some(second.clone()));
    let killer = {
        let target = second.clone();
        thread::spawn(move || target.kill())
    };
    first.try_cast(()).expect("the first relay is alive");
    assert!(killer.join().unwrap(), "the kill lands");
    assert_eq!(block_on(second_handle.exited()), ExitReason::Killed);
    assert_eq!(second_counts.exits.load(Ordering::SeqCst), 1, "one exit");
    assert_eq!(
        second_counts.handled.load(Ordering::SeqCst) + second_counts.dead.load(Ordering::SeqCst),
        first_counts.forwarded.load(Ordering::SeqCst),
        "the forwarded message is handled or a dead letter, once"
    );
    // The relay whose task adopted the killed one was not killed with it.
    let stopped = block_on(first.stop(ExitReason::shutdown(), Duration::from_secs(60)));
    assert_eq!(stopped, Ok(ExitReason::shutdown()));
    assert_eq!(block_on(first_handle.exited()), ExitReason::shutdown());
    assert_eq!(
        first_counts.handled.load(Ordering::SeqCst) + first_counts.dead.load(Ordering::SeqCst),
        1,
        "the first relay's message is handled or a dead letter, once"
    );
}
