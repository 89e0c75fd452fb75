//! What an actor's runtime shutting down does to it: every process on it
//! ends, dormant ones (which have no task for the runtime to drop)
//! included, and whoever watches from another runtime is told at once.

use std::time::Duration;

use foundation_mailbox::{
    Actor, ActorOptions, Context, ExitReason, Reply, ReplyError, SendError, start, start_with,
};
use tokio::runtime::{Builder, Runtime};

/// Long enough never to be reached: a test that waits it out has failed.
const PATIENCE: Duration = Duration::from_secs(60);

/// Keeps the port it was started with, unanswered, in its state.
#[derive(Debug)]
struct Holder {
    _kept: Option<Reply<u32>>,
}

#[derive(Debug)]
enum Msg {
    Ping(Reply<()>),
}

impl Actor for Holder {
    type Args = Option<Reply<u32>>;
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init(kept: Option<Reply<u32>>, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Holder { _kept: kept })
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Ping(reply) => reply.send(()).unwrap_or_default(),
        }
        Ok(())
    }
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().enable_all().build().unwrap()
}

/// An actor is dormant once `start` returns: its runtime shutting down
/// ends it there and then, with no message needed to find out. A watcher
/// on another runtime sees the exit, and the caller whose port it kept is
/// told it is exiting instead of waiting out its timeout.
#[test]
fn a_dormant_actor_whose_runtime_shuts_down_exits_and_tells_its_watchers() {
    let actors = current_thread();
    let watchers = current_thread();
    let (port, answer) = Reply::<u32>::pair();
    let (holder, handle) = actors.block_on(start::<Holder>(Some(port))).unwrap();
    let watcher = watchers.spawn({
        let process = handle.process().clone();
        async move { process.wait_for_exit(PATIENCE).await }
    });
    let caller = watchers.spawn(async move { tokio::time::timeout(PATIENCE, answer).await });
    assert!(holder.is_alive());

    drop(actors);

    assert_eq!(holder.exit_reason(), Some(ExitReason::Killed));
    assert!(handle.is_finished());
    assert_eq!(watchers.block_on(watcher).unwrap(), Ok(ExitReason::Killed));
    assert_eq!(
        watchers.block_on(caller).unwrap(),
        Ok(Err(ReplyError::Exiting))
    );
    assert!(matches!(
        holder.try_cast(Msg::Ping(Reply::pair().0)),
        Err(SendError::NoProcess(_))
    ));
}

/// The same on a multi-thread runtime, for many actors, some dormant and
/// some with a task at the moment of the shutdown: every one ends.
#[test]
fn every_actor_of_a_multi_thread_runtime_that_shuts_down_exits() {
    let actors = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let handles = actors.block_on(async {
        let mut handles = Vec::new();
        for i in 0..200 {
            let (holder, handle) = start_with::<Holder>(None, ActorOptions::new())
                .await
                .unwrap();
            if i % 2 == 0 {
                // Half of them are woken, and may still have a task.
                holder.cast(Msg::Ping(Reply::pair().0)).await.unwrap();
            }
            handles.push(handle);
        }
        handles
    });
    drop(actors);
    for handle in &handles {
        assert!(
            handle.is_finished(),
            "{:?} outlived its runtime",
            handle.pid()
        );
        assert_eq!(handle.process().exit_reason(), Some(ExitReason::Killed));
    }
}

/// An actor freed while its runtime runs takes its entry out of the
/// runtime's register: the shutdown does not find it, nor does a later
/// actor that reuses its place confuse the two.
#[test]
fn actors_freed_before_the_shutdown_are_forgotten_and_later_ones_still_end() {
    let actors = current_thread();
    let survivor = actors.block_on(async {
        for _ in 0..10 {
            let (holder, handle) = start::<Holder>(None).await.unwrap();
            drop((holder, handle));
        }
        start::<Holder>(None).await.unwrap()
    });
    drop(actors);
    assert_eq!(survivor.0.exit_reason(), Some(ExitReason::Killed));
}

/// Starting an actor after its runtime has gone is refused with a typed
/// error, never a process that can neither run nor exit.
#[test]
fn a_runtime_that_has_shut_down_starts_nothing() {
    let actors = current_thread();
    let handle = actors.handle().clone();
    drop(actors);
    let _entered = handle.enter();
    let refused = foundation_mailbox::spawn::<Holder>(None);
    assert!(
        matches!(refused, Err(foundation_mailbox::StartError::NoRuntime)),
        "{refused:?}"
    );
}
