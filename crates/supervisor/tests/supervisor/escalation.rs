//! Restart intensity, and escalation through nested trees.

use std::time::Duration;

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    ChildSpec, DynamicSpec, DynamicSupervisorRef, Intensity, Strategy, Supervisor, SupervisorError,
    SupervisorSpec, reached_intensity,
};

use super::support::{Journal, PATIENCE, Worker, crash, started, stopped, worker};

#[tokio::test(start_paused = true)]
async fn one_restart_more_than_the_intensity_stops_everything_and_exits() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a"))
        .child(journal.worker("b"))
        .child(journal.worker("c"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(3).await, started(&["a", "b", "c"]));
    // The default: 3 restarts in 5 seconds are fine...
    for _ in 0..3 {
        crash(&supervisor, "b").await;
        assert_eq!(journal.next(1).await, started(&["b"]));
    }
    // ...the fourth within the period is one too many.
    crash(&supervisor, "b").await;
    let reason = tokio::time::timeout(PATIENCE, supervisor.exited())
        .await
        .unwrap();
    assert!(reached_intensity(&reason), "{reason:?}");
    assert!(
        reason.is_normal(),
        "exits with shutdown, as OTP's supervisor does"
    );
    assert_eq!(
        journal.next(2).await,
        stopped(&["c", "a"]),
        "the rest stop in reverse order"
    );
    journal.assert_quiet();
}

#[tokio::test(start_paused = true)]
async fn restarts_spread_wider_than_the_period_never_trip_the_intensity() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(1, Duration::from_secs(5)))
        .child(journal.worker("a"));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    for _ in 0..5 {
        crash(&supervisor, "a").await;
        assert_eq!(journal.next(1).await, started(&["a"]));
        tokio::time::advance(Duration::from_secs(6)).await;
    }
    assert!(supervisor.is_alive());
}

#[tokio::test(start_paused = true)]
async fn reaching_the_intensity_escalates_and_the_parents_strategy_applies() {
    let mut journal = Journal::new();
    let inner = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(1, Duration::from_secs(5)))
        .child(journal.worker("leaf"));
    // rest-for-one in the parent: the inner tree's failure takes "after" with it.
    let spec = SupervisorSpec::new(Strategy::RestForOne)
        .child(journal.worker("before"))
        .child(ChildSpec::supervisor("inner", inner))
        .child(journal.worker("after"));
    let root = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(3).await, started(&["before", "leaf", "after"]));
    let inner_before = super::support::process(&root, "inner").await;
    let inner_tree = foundation_supervisor::SupervisorRef::from_process(&inner_before)
        .await
        .unwrap()
        .unwrap();

    crash(&inner_tree, "leaf").await;
    assert_eq!(
        journal.next(1).await,
        started(&["leaf"]),
        "within the inner intensity"
    );
    crash(&inner_tree, "leaf").await;
    let reason = tokio::time::timeout(PATIENCE, inner_before.exited())
        .await
        .unwrap();
    assert!(reached_intensity(&reason), "{reason:?}");
    // The parent stops "after" (reverse order), then restarts the inner tree and "after".
    assert_eq!(
        journal.next(3).await,
        [stopped(&["after"]), started(&["leaf", "after"])].concat()
    );
    let inner_after = super::support::process(&root, "inner").await;
    assert_ne!(inner_after.pid(), inner_before.pid());
    let _ = worker(&root, "before").await;
    assert!(root.is_alive());
    assert_eq!(
        root.shutdown(PATIENCE).await.unwrap(),
        ExitReason::shutdown()
    );
    assert_eq!(journal.next(3).await, stopped(&["after", "leaf", "before"]));
}

#[tokio::test(start_paused = true)]
async fn a_period_of_zero_is_rejected_before_anything_starts() {
    let mut journal = Journal::new();
    let zero = Intensity::new(1, Duration::ZERO);
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(zero)
        .child(journal.worker("a"));
    assert!(matches!(
        spec.validate(),
        Err(SupervisorError::InvalidPeriod(period)) if period.is_zero()
    ));
    assert!(matches!(
        Supervisor::start(spec).await,
        Err(SupervisorError::InvalidPeriod(_))
    ));
    let dynamic = DynamicSpec::actor::<Worker>().intensity(zero);
    assert!(matches!(
        dynamic.validate(),
        Err(SupervisorError::InvalidPeriod(_))
    ));
    assert!(matches!(
        DynamicSupervisorRef::start(dynamic).await,
        Err(SupervisorError::InvalidPeriod(_))
    ));
    journal.assert_quiet();
}
