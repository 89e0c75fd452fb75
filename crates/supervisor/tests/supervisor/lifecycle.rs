//! Starting, stopping and killing trees: start failures unwind, stops that
//! are ignored end in kills, nested trees stop leaves first, and no child
//! outlives a supervisor that was killed.

use std::{sync::atomic::Ordering, time::Duration};

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    ChildSpec, Shutdown, Strategy, Supervisor, SupervisorError, SupervisorSpec,
};

use super::support::{Journal, PATIENCE, Worker, started, stopped};

#[tokio::test]
async fn a_child_that_fails_to_start_unwinds_the_ones_before_it() {
    let mut journal = Journal::new();
    let failing = journal.args("b");
    failing.failures.store(1, Ordering::SeqCst);
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a0"))
        .child(journal.worker("a1"))
        .child(ChildSpec::actor::<Worker>("b", failing))
        .child(journal.worker("c"));
    match Supervisor::start(spec).await {
        Err(SupervisorError::ChildStart { id, cause }) => {
            assert_eq!(&*id, "b");
            assert!(
                cause.to_string().contains("worker b failed to start"),
                "{cause}"
            );
        }
        other => panic!("expected a child start error, got {other:?}"),
    }
    assert_eq!(
        journal.next(4).await,
        [started(&["a0", "a1"]), stopped(&["a1", "a0"])].concat()
    );
    journal.assert_quiet();
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_its_shutdown_is_killed_at_the_timeout() {
    let mut journal = Journal::new();
    let mut stubborn = journal.args("stubborn");
    stubborn.ignore_stop = true;
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(
        ChildSpec::actor::<Worker>("stubborn", stubborn)
            .shutdown(Shutdown::Timeout(Duration::from_millis(300))),
    );
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["stubborn"]));
    let child = super::support::process(&supervisor, "stubborn").await;
    let before = tokio::time::Instant::now();
    supervisor.terminate_child("stubborn").await.unwrap();
    assert_eq!(child.exit_reason(), Some(ExitReason::Killed));
    assert_eq!(
        before.elapsed(),
        Duration::from_millis(300),
        "killed at the timeout, not before"
    );
    assert!(supervisor.is_alive());
    journal.assert_quiet();
}

#[tokio::test]
async fn brutal_kill_skips_terminate() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a").shutdown(Shutdown::BrutalKill));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    let child = super::support::process(&supervisor, "a").await;
    supervisor.shutdown(PATIENCE).await.unwrap();
    assert_eq!(child.exit_reason(), Some(ExitReason::Killed));
    journal.assert_quiet();
}

#[tokio::test]
async fn three_levels_start_top_down_and_stop_bottom_up() {
    let mut journal = Journal::new();
    let leaf = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("l1"))
        .child(journal.worker("l2"));
    let middle = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("m1"))
        .child(ChildSpec::supervisor("leaf", leaf));
    let root = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::supervisor("middle", middle))
        .child(journal.worker("r1"));
    let root = Supervisor::start(root).await.unwrap();
    assert_eq!(journal.next(4).await, started(&["m1", "l1", "l2", "r1"]));
    root.shutdown(PATIENCE).await.unwrap();
    assert_eq!(journal.next(4).await, stopped(&["r1", "l2", "l1", "m1"]));
}

#[tokio::test]
async fn a_killed_supervisor_takes_its_children_down() {
    let mut journal = Journal::new();
    let inner = SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("deep"));
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a"))
        .child(ChildSpec::supervisor("inner", inner));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "deep"]));
    let a = super::support::process(&supervisor, "a").await;
    let inner = super::support::process(&supervisor, "inner").await;
    supervisor.process_ref().kill();
    assert_eq!(a.wait_for_exit(PATIENCE).await.unwrap(), ExitReason::Killed);
    // The inner supervisor traps the signal and shuts its own child down first.
    assert_eq!(
        inner.wait_for_exit(PATIENCE).await.unwrap(),
        ExitReason::Killed
    );
    assert_eq!(journal.next(1).await, stopped(&["deep"]));
}
