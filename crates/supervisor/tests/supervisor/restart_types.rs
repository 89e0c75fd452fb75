//! Permanent, transient and temporary children, and auto-shutdown with
//! significant children.

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    AutoShutdown, Restart, Strategy, Supervisor, SupervisorError, SupervisorSpec,
};

use super::support::{Journal, PATIENCE, crash, exit, ids, started, stopped};

#[tokio::test]
async fn a_permanent_child_is_restarted_even_after_a_normal_exit() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("p"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["p"]));
    exit(&supervisor, "p", ExitReason::Normal).await;
    assert_eq!(
        journal.next(2).await,
        [stopped(&["p"]), started(&["p"])].concat()
    );
}

#[tokio::test]
async fn a_transient_child_is_restarted_after_an_abnormal_exit_only() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("t").restart(Restart::Transient));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["t"]));

    crash(&supervisor, "t").await;
    assert_eq!(
        journal.next(1).await,
        started(&["t"]),
        "restarted after a panic"
    );

    exit(
        &supervisor,
        "t",
        ExitReason::error(std::io::Error::other("disk gone")),
    )
    .await;
    assert_eq!(
        journal.next(2).await,
        [stopped(&["t"]), started(&["t"])].concat(),
        "restarted after an error"
    );

    exit(&supervisor, "t", ExitReason::shutdown()).await;
    assert_eq!(journal.next(1).await, stopped(&["t"]));
    let children = supervisor.which_children().await.unwrap();
    assert_eq!(children.len(), 1, "the spec stays");
    assert!(
        children[0].process.is_none(),
        "not restarted after a shutdown exit"
    );
    journal.assert_quiet();

    // It can be started again by hand.
    supervisor.restart_child("t").await.unwrap();
    assert_eq!(journal.next(1).await, started(&["t"]));
}

#[tokio::test]
async fn a_temporary_child_is_never_restarted_and_its_spec_is_forgotten() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("tmp").restart(Restart::Temporary))
        .child(journal.worker("p"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["tmp", "p"]));
    crash(&supervisor, "tmp").await;
    assert_eq!(ids(&supervisor).await, ["p"]);
    journal.assert_quiet();
}

#[tokio::test]
async fn a_temporary_child_taken_down_by_a_sibling_under_one_for_all_stays_down() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForAll)
        .child(journal.worker("a"))
        .child(journal.worker("tmp").restart(Restart::Temporary))
        .child(journal.worker("c"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(3).await, started(&["a", "tmp", "c"]));
    crash(&supervisor, "a").await;
    assert_eq!(
        journal.next(4).await,
        [stopped(&["c", "tmp"]), started(&["a", "c"])].concat()
    );
    assert_eq!(ids(&supervisor).await, ["a", "c"]);
    journal.assert_quiet();
}

#[tokio::test]
async fn significant_children_follow_otps_validity_rules() {
    let journal = Journal::new();
    let permanent = SupervisorSpec::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(journal.worker("p").significant(true));
    assert!(matches!(
        Supervisor::start(permanent).await,
        Err(SupervisorError::InvalidChild { ref id, .. }) if &**id == "p"
    ));
    let never = SupervisorSpec::new(Strategy::OneForOne).child(
        journal
            .worker("t")
            .restart(Restart::Transient)
            .significant(true),
    );
    assert!(matches!(
        Supervisor::start(never).await,
        Err(SupervisorError::InvalidChild { ref id, .. }) if &**id == "t"
    ));
    let duplicate = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("x"))
        .child(journal.worker("x"));
    assert!(matches!(
        Supervisor::start(duplicate).await,
        Err(SupervisorError::DuplicateChild(ref id)) if &**id == "x"
    ));
}

#[tokio::test]
async fn any_significant_shuts_down_when_one_significant_child_exits_normally() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AnySignificant)
        .child(journal.worker("w"))
        .child(
            journal
                .worker("job")
                .restart(Restart::Transient)
                .significant(true),
        );
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["w", "job"]));
    // A crash restarts it: that is not the end of its work.
    crash(&supervisor, "job").await;
    assert_eq!(journal.next(1).await, started(&["job"]));
    exit(&supervisor, "job", ExitReason::Normal).await;
    let reason = tokio::time::timeout(PATIENCE, supervisor.exited())
        .await
        .unwrap();
    assert_eq!(reason, ExitReason::shutdown());
    assert_eq!(journal.next(2).await, stopped(&["job", "w"]));
}

#[tokio::test]
async fn all_significant_waits_for_every_significant_child() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .auto_shutdown(AutoShutdown::AllSignificant)
        .child(
            journal
                .worker("one")
                .restart(Restart::Temporary)
                .significant(true),
        )
        .child(
            journal
                .worker("two")
                .restart(Restart::Transient)
                .significant(true),
        );
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["one", "two"]));
    exit(&supervisor, "one", ExitReason::Normal).await;
    assert_eq!(journal.next(1).await, stopped(&["one"]));
    assert_eq!(
        supervisor.count_children().await.unwrap().active,
        1,
        "still running"
    );
    // Terminating a significant child on purpose does not count.
    supervisor.terminate_child("two").await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["two"]));
    assert!(supervisor.is_alive());
    supervisor.restart_child("two").await.unwrap();
    assert_eq!(journal.next(1).await, started(&["two"]));
    exit(&supervisor, "two", ExitReason::shutdown()).await;
    let reason = tokio::time::timeout(PATIENCE, supervisor.exited())
        .await
        .unwrap();
    assert_eq!(reason, ExitReason::shutdown());
}
