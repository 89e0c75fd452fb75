//! Loom models of an exiting actor's task running the watcher its exit
//! woke (`ActivationTask`'s exit path): the exit closes the mailbox and
//! takes the task's abort handle in one lock, delivers the DOWN with the
//! slot open, and the task adopts the woken watcher with that handle. A
//! kill of the exiting actor racing its exit must not reach the watcher;
//! a kill of the watcher racing the adoption must end the watcher, once.

use std::time::Duration;

use loom::{
    future::block_on,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
};

use crate::{
    Actor, ActorHandle, ActorRef, Context, ExitReason, Reference, Reply, SystemMessage, start,
};

const PATIENCE: Duration = Duration::from_secs(60);

/// Stops after its first message.
#[derive(Debug)]
struct Quitter;

impl Actor for Quitter {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Quitter)
    }

    async fn handle(&mut self, (): (), ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        ctx.stop(ExitReason::Normal);
        Ok(())
    }
}

/// Counts the DOWNs it takes and waits inside each: one turn (so a wrong
/// abort of the task running it has a poll to land in) or, with
/// `FOREVER`, until an abort ends it. Answers a request with its count.
#[derive(Debug)]
struct Watcher<const FOREVER: bool> {
    downs: Arc<AtomicUsize>,
}

impl<const FOREVER: bool> Actor for Watcher<FOREVER> {
    type Args = Arc<AtomicUsize>;
    type Msg = Reply<usize>;
    type Error = std::convert::Infallible;

    async fn init(downs: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Watcher { downs })
    }

    async fn handle(
        &mut self,
        reply: Reply<usize>,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        reply
            .send(self.downs.load(Ordering::SeqCst))
            .unwrap_or_default();
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if let SystemMessage::Down(_) = message {
            self.downs.fetch_add(1, Ordering::SeqCst);
            if FOREVER {
                std::future::pending::<()>().await;
            }
            crate::wait::YieldOnce::new().await;
        }
        Ok(())
    }
}

/// A dormant quitter watched by a dormant watcher; the watcher's DOWN
/// counter.
fn pair<const FOREVER: bool>() -> (
    (ActorRef<Quitter>, ActorHandle),
    (ActorRef<Watcher<FOREVER>>, ActorHandle),
    Arc<AtomicUsize>,
) {
    let downs = Arc::new(AtomicUsize::new(0));
    let watcher = block_on(start::<Watcher<FOREVER>>(downs.clone())).unwrap();
    let quitter = block_on(start::<Quitter>(())).unwrap();
    let watched = quitter
        .0
        .process_ref()
        .notify_on_exit(&watcher.0, Reference::new());
    assert!(watched.is_some(), "the quitter is alive");
    (quitter, watcher, downs)
}

#[test]
fn a_kill_racing_an_exit_never_reaches_the_watcher_the_exit_woke() {
    loom::model(|| {
        let ((quitter, quitter_handle), (watcher, watcher_handle), _) = pair::<false>();
        let killer = {
            let target = quitter.clone();
            thread::spawn(move || target.kill())
        };
        // Refused if the kill came first: the DOWN comes all the same.
        let _ = quitter.try_cast(());
        killer.join().unwrap();
        let reason = block_on(quitter_handle.exited());
        assert!(
            reason == ExitReason::Normal || reason == ExitReason::Killed,
            "{reason:?}"
        );
        // The DOWN was pushed before the exit was published, so the request
        // queues behind it. A watcher killed with the quitter's task (in the
        // turn its DOWN handler waits) would fail it.
        let seen = block_on(watcher.call(|reply| reply, PATIENCE));
        assert!(matches!(seen, Ok(1)), "{seen:?}");
        drop(watcher_handle);
    });
}

#[test]
fn a_kill_racing_the_adoption_of_the_woken_watcher_ends_the_watcher_once() {
    loom::model(|| {
        let ((quitter, quitter_handle), (watcher, watcher_handle), downs) = pair::<true>();
        let exits = Arc::new(AtomicUsize::new(0));
        {
            let exits = exits.clone();
            watcher
                .process_ref()
                .on_exit(move |_| {
                    exits.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
        }
        let killer = {
            let target = watcher.clone();
            thread::spawn(move || target.kill())
        };
        quitter.try_cast(()).expect("the quitter is alive");
        assert!(killer.join().unwrap(), "the kill lands");
        // Only an abort of the task it runs on ends a watcher that took
        // its DOWN: the kill must have reached that task.
        assert_eq!(block_on(watcher_handle.exited()), ExitReason::Killed);
        assert_eq!(block_on(quitter_handle.exited()), ExitReason::Normal);
        assert_eq!(exits.load(Ordering::SeqCst), 1, "one exit");
        assert!(downs.load(Ordering::SeqCst) <= 1);
    });
}
