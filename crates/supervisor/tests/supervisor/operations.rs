//! The runtime operations: which/count children, start, restart,
//! terminate and delete a child.

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    ChildCounts, ChildSpec, Restart, Strategy, Supervisor, SupervisorError, SupervisorRef,
    SupervisorSpec,
};

use super::support::{Journal, PATIENCE, crash, ids, started, stopped};

#[tokio::test]
async fn children_are_listed_in_order_and_counted() {
    let mut journal = Journal::new();
    let inner = SupervisorSpec::new(Strategy::OneForOne);
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a"))
        .child(ChildSpec::supervisor("inner", inner))
        .child(journal.worker("b").restart(Restart::Transient));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "b"]));
    assert_eq!(ids(&supervisor).await, ["a", "inner", "b"]);
    let children = supervisor.which_children().await.unwrap();
    assert!(
        children
            .iter()
            .all(|child| child.process.as_ref().is_some_and(|p| p.is_alive()))
    );
    assert_eq!(
        supervisor.count_children().await.unwrap(),
        ChildCounts {
            specs: 3,
            active: 3,
            supervisors: 1,
            workers: 2
        }
    );
    supervisor.terminate_child("b").await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["b"]));
    assert_eq!(supervisor.count_children().await.unwrap().active, 2);
}

#[tokio::test]
async fn terminate_restart_and_delete_follow_otps_rules() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("a"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));

    assert!(matches!(
        supervisor.restart_child("a").await,
        Err(SupervisorError::Running(_))
    ));
    assert!(matches!(
        supervisor.delete_child("a").await,
        Err(SupervisorError::Running(_))
    ));
    assert!(matches!(
        supervisor.terminate_child("zz").await,
        Err(SupervisorError::NotFound(_))
    ));

    supervisor.terminate_child("a").await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["a"]));
    assert!(
        supervisor.child("a").await.unwrap().is_none(),
        "terminated, not restarted"
    );
    let restarted = supervisor
        .restart_child("a")
        .await
        .unwrap()
        .into_process()
        .unwrap();
    assert!(restarted.is_alive());
    assert_eq!(journal.next(1).await, started(&["a"]));

    supervisor.terminate_child("a").await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["a"]));
    supervisor.delete_child("a").await.unwrap();
    assert!(matches!(
        supervisor.child("a").await,
        Err(SupervisorError::NotFound(_))
    ));
    journal.assert_quiet();
}

#[tokio::test]
async fn start_child_adds_at_the_end_and_refuses_a_used_id() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::RestForOne).child(journal.worker("a"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    supervisor.start_child(journal.worker("b")).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["b"]));
    assert!(matches!(
        supervisor.start_child(journal.worker("b")).await,
        Err(SupervisorError::DuplicateChild(_))
    ));
    // It takes part in the strategy like any other child.
    crash(&supervisor, "a").await;
    assert_eq!(
        journal.next(3).await,
        [stopped(&["b"]), started(&["a", "b"])].concat()
    );
}

#[tokio::test]
async fn children_added_at_run_time_are_gone_when_the_supervisor_restarts() {
    let mut journal = Journal::new();
    let inner = SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("static"));
    let spec =
        SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::supervisor("inner", inner));
    let root = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["static"]));
    let inner = SupervisorRef::from_process(&super::support::process(&root, "inner").await)
        .await
        .unwrap()
        .unwrap();
    inner.start_child(journal.worker("added")).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["added"]));

    // The inner supervisor exits abnormally; its parent restarts it from its spec.
    inner
        .process_ref()
        .exit_signal(root.pid(), ExitReason::error(std::io::Error::other("boom")));
    let reason = tokio::time::timeout(PATIENCE, inner.exited())
        .await
        .unwrap();
    assert!(!reason.is_normal());
    assert_eq!(
        journal.next(3).await,
        [stopped(&["added", "static"]), started(&["static"])].concat()
    );
    let inner = SupervisorRef::from_process(&super::support::process(&root, "inner").await)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ids(&inner).await, ["static"]);
}

#[tokio::test]
async fn whereis_follows_restarts_without_asking_the_supervisor() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("a"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    let first = supervisor.whereis("a").expect("a is registered");
    crash(&supervisor, "a").await;
    assert_eq!(journal.next(1).await, started(&["a"]));
    // `child` is ordered after the restart; `whereis` agrees with it.
    let second = supervisor.child("a").await.unwrap().unwrap();
    assert_ne!(first.pid(), second.pid());
    assert_eq!(
        supervisor.whereis("a").map(|process| process.pid()),
        Some(second.pid())
    );
    supervisor.terminate_child("a").await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["a"]));
    assert!(
        supervisor.whereis("a").is_none(),
        "not running, not registered"
    );
}

#[tokio::test]
async fn get_childspec_reads_back_a_childs_spec_running_or_not() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a").restart(Restart::Transient))
        .child(journal.worker("b"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "b"]));
    let a = supervisor.get_childspec("a").await.unwrap();
    assert_eq!((a.id(), a.restart_type()), ("a", Restart::Transient));
    supervisor.terminate_child("a").await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["a"]));
    assert_eq!(supervisor.get_childspec("a").await.unwrap().id(), "a");
    assert!(matches!(
        supervisor.get_childspec("zz").await,
        Err(SupervisorError::NotFound(id)) if &*id == "zz"
    ));
}
