//! The dynamic supervisor's slot accounting, read from inside the crate.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{Actor, ActorOptions, Context, StartError, start_with};

use crate::{DynamicSpec, DynamicSupervisorRef};

const PATIENCE: Duration = Duration::from_secs(10);

/// Panics on every message; the crate's unit tests start it where they
/// need a live process.
#[derive(Debug)]
pub(crate) struct Crasher;

impl Actor for Crasher {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Crasher)
    }

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        panic!("crasher crashed on purpose");
    }
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_killed_mid_restart_gives_the_slot_back() {
    let starts = Arc::new(AtomicU32::new(0));
    let (restarting, mut restarting_rx) = tokio::sync::mpsc::unbounded_channel();
    let counted = Arc::clone(&starts);
    let spec = DynamicSpec::new(move |(): ()| {
        let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
        let restarting = restarting.clone();
        async move {
            if !first {
                // The restart hangs until the supervisor is killed.
                let _ = restarting.send(());
                std::future::pending::<()>().await;
            }
            let (actor, _) = start_with::<Crasher>((), ActorOptions::new()).await?;
            Ok::<_, StartError>(actor.process_ref())
        }
    })
    .max_children(1);
    let pool = DynamicSupervisorRef::start(spec).await.unwrap();
    let child = pool.start_child(()).await.unwrap().into_process().unwrap();
    assert_eq!(pool.shared.registry.reserved(), 1);
    child.downcast::<Crasher>().unwrap().cast(()).await.unwrap();
    restarting_rx.recv().await.unwrap();
    assert_eq!(pool.shared.registry.reserved(), 1, "held by the restart");
    assert!(pool.process_ref().kill());
    pool.process_ref().wait_for_exit(PATIENCE).await.unwrap();
    assert_eq!(pool.shared.registry.reserved(), 0);
}

/// Counts its `init`s in the counter it is started with.
#[derive(Debug)]
struct Counted;

impl Actor for Counted {
    type Args = Arc<AtomicU32>;
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(inits: Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        inits.fetch_add(1, Ordering::SeqCst);
        Ok(Counted)
    }

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// An actor spec's start future is built in place and started on its first
/// poll: a start future dropped unpolled (a start cancelled before it ran)
/// runs no `init` and leaves no process; the next one polled starts the
/// actor once.
#[tokio::test]
async fn an_actor_specs_start_runs_nothing_until_polled() {
    let inits = Arc::new(AtomicU32::new(0));
    for spec in [
        DynamicSpec::actor::<Counted>(),
        DynamicSpec::temporary_actor::<Counted>(),
    ] {
        drop(spec.start_future(Arc::clone(&inits)));
        assert_eq!(
            inits.load(Ordering::SeqCst),
            0,
            "an unpolled start ran init"
        );
    }
    let started = DynamicSpec::actor::<Counted>()
        .start_future(Arc::clone(&inits))
        .await
        .expect("the actor starts");
    assert_eq!(inits.load(Ordering::SeqCst), 1);
    let process = started.process().expect("a started actor has a process");
    process.kill();
}

/// Every start and restart boxes the spec's start future, static or
/// dynamic: the box holds `start_with`'s future once. An async block
/// awaiting a future it captured lays that future out twice, and doubled
/// (1,496 bytes) the box missed the allocator's per-thread cache on every
/// start.
#[test]
fn an_actor_specs_boxed_start_holds_the_start_once() {
    let counter = || Arc::new(AtomicU32::new(0));
    let plain = std::mem::size_of_val(&start_with::<Counted>(counter(), ActorOptions::new()));
    let fits = |size: usize| {
        assert!(
            size <= plain + 32,
            "a boxed start of {size} bytes around a start of {plain}"
        );
    };
    for spec in [
        DynamicSpec::actor::<Counted>(),
        DynamicSpec::temporary_actor::<Counted>(),
    ] {
        fits(std::mem::size_of_val(&*spec.start_future(counter())));
    }
    let spec = crate::ChildSpec::actor::<Counted>("counted", counter());
    fits(std::mem::size_of_val(&*spec.start_future()));
}
