//! A running system: shutdown on a signal, within a budget, and the end of
//! the system when its root gives up.

use std::time::Duration;

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    ChildSpec, Ended, Intensity, Root, Shutdown, Strategy, SupervisorSpec, reached_intensity,
};
use tokio::sync::oneshot;

use super::support::{Journal, PATIENCE, Worker, crash, started, stopped};

#[tokio::test]
async fn a_signal_shuts_the_whole_system_down_in_reverse_order() {
    let mut journal = Journal::new();
    let inner = SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("i1"));
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a"))
        .child(ChildSpec::supervisor("inner", inner))
        .child(journal.worker("z"));
    let root = Root::start(spec).await.unwrap();
    assert_eq!(journal.next(3).await, started(&["a", "i1", "z"]));
    let (signal, ctrl_c) = oneshot::channel::<()>();
    let running = tokio::spawn(root.run_until(ctrl_c, PATIENCE));
    signal.send(()).unwrap();
    assert_eq!(
        running.await.unwrap(),
        Ended::Shutdown(ExitReason::shutdown())
    );
    assert_eq!(journal.next(3).await, stopped(&["z", "i1", "a"]));
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_that_overruns_its_budget_kills_everything() {
    let mut journal = Journal::new();
    let mut stubborn = journal.args("stubborn");
    stubborn.ignore_stop = true;
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a"))
        .child(ChildSpec::actor::<Worker>("stubborn", stubborn).shutdown(Shutdown::Infinity));
    let root = Root::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "stubborn"]));
    let a = super::support::process(root.supervisor(), "a").await;
    let stuck = super::support::process(root.supervisor(), "stubborn").await;
    let budget = Duration::from_secs(2);
    let before = tokio::time::Instant::now();
    assert_eq!(root.shutdown(budget).await, Ended::Killed(budget));
    assert_eq!(before.elapsed(), budget);
    assert_eq!(
        stuck.wait_for_exit(PATIENCE).await.unwrap(),
        ExitReason::Killed
    );
    assert_eq!(a.wait_for_exit(PATIENCE).await.unwrap(), ExitReason::Killed);
}

#[tokio::test(start_paused = true)]
async fn the_system_ends_when_its_root_reaches_its_intensity() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(0, Duration::from_secs(5)))
        .child(journal.worker("a"));
    let root = Root::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    let supervisor = root.supervisor().clone();
    let running = tokio::spawn(root.run_until(std::future::pending::<()>(), PATIENCE));
    crash(&supervisor, "a").await;
    match running.await.unwrap() {
        Ended::Exited(reason) => assert!(reached_intensity(&reason), "{reason:?}"),
        other => panic!("expected the system to end, got {other:?}"),
    }
}
