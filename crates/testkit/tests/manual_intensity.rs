//! A supervisor counts its restart intensity on its runtime's clock: with a
//! manual clock installed, restarts further apart than the period do not
//! add up, however little wall-clock time passed, and restarts within it
//! still do.

use std::time::Duration;

use foundation_mailbox::{Actor, Context};
use foundation_supervisor::{ChildRef, ChildSpec, Intensity, Strategy, SupervisorSpec};
use foundation_testkit::{ManualClock, start_tree, wait_for};
use tokio::runtime::Handle;

const BOUND: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
#[error("crashed on purpose")]
struct Crashed;

/// Fails on every message.
#[derive(Debug)]
struct Crasher;

impl Actor for Crasher {
    type Args = ();
    type Msg = ();
    type Error = Crashed;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Crasher)
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Err(Crashed)
    }
}

/// Crashes the child and waits until its supervisor has restarted it.
async fn crash_and_wait_for_the_restart(child: &ChildRef<Crasher>) {
    let before = child.current().expect("the child runs").pid();
    child.try_cast(()).expect("the child has room");
    wait_for(
        || child.current().is_some_and(|now| now.pid() != before),
        BOUND,
    )
    .await
    .expect("the child is restarted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_further_apart_than_the_period_on_the_manual_clock_do_not_add_up() {
    let clock = ManualClock::new();
    clock
        .install(&Handle::current())
        .expect("nothing started on this runtime yet");
    // One restart allowed in any 10 s.
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(1, Duration::from_secs(10)))
        .child(ChildSpec::actor::<Crasher>("crasher", ()));
    let tree = start_tree(spec).await.expect("the tree starts");
    let child = tree
        .supervisor()
        .child_ref::<Crasher>("crasher")
        .expect("the child is there");

    crash_and_wait_for_the_restart(&child).await;
    clock.advance(Duration::from_secs(11));
    // The first restart has left the window: this one is the only one in it.
    crash_and_wait_for_the_restart(&child).await;
    assert!(
        tree.supervisor().which_children().await.is_ok(),
        "the supervisor lives on"
    );

    // A third crash within the same 10 s is one restart too many.
    child.try_cast(()).expect("the child has room");
    wait_for(|| !tree.supervisor().process_ref().is_alive(), BOUND)
        .await
        .expect("the supervisor reached its intensity and exited");
}
