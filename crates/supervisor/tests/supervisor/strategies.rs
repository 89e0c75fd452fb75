//! Restart order for each strategy, and shutdown order.

use foundation_supervisor::{Strategy, Supervisor, SupervisorSpec};

use super::support::{Journal, PATIENCE, crash, started, stopped, worker};

async fn tree(
    strategy: Strategy,
    journal: &mut Journal,
    ids: &[&'static str],
) -> foundation_supervisor::SupervisorRef {
    let spec = ids.iter().fold(SupervisorSpec::new(strategy), |spec, id| {
        spec.child(journal.worker(id))
    });
    let supervisor = Supervisor::start(spec).await.expect("tree starts");
    assert_eq!(
        journal.next(ids.len()).await,
        started(ids),
        "children start in spec order"
    );
    supervisor
}

#[tokio::test]
async fn one_for_one_restarts_only_the_child_that_exited() {
    let mut journal = Journal::new();
    let supervisor = tree(Strategy::OneForOne, &mut journal, &["a", "b", "c"]).await;
    let (a, c) = (
        worker(&supervisor, "a").await,
        worker(&supervisor, "c").await,
    );
    crash(&supervisor, "b").await;
    assert_eq!(journal.next(1).await, started(&["b"]));
    assert_eq!(worker(&supervisor, "a").await, a, "a untouched");
    assert_eq!(worker(&supervisor, "c").await, c, "c untouched");
    assert_eq!(
        worker(&supervisor, "b")
            .await
            .call(super::support::Ask::Ping, PATIENCE)
            .await
            .unwrap(),
        "b"
    );
    journal.assert_quiet();
}

#[tokio::test]
async fn one_for_all_stops_the_others_in_reverse_then_starts_all_in_order() {
    let mut journal = Journal::new();
    let supervisor = tree(Strategy::OneForAll, &mut journal, &["a", "b", "c", "d"]).await;
    crash(&supervisor, "b").await;
    let mut expected = stopped(&["d", "c", "a"]);
    expected.extend(started(&["a", "b", "c", "d"]));
    assert_eq!(journal.next(7).await, expected);
    journal.assert_quiet();
}

#[tokio::test]
async fn rest_for_one_restarts_the_failed_child_and_those_after_it() {
    let mut journal = Journal::new();
    let supervisor = tree(Strategy::RestForOne, &mut journal, &["a", "b", "c", "d"]).await;
    let a = worker(&supervisor, "a").await;
    crash(&supervisor, "b").await;
    let mut expected = stopped(&["d", "c"]);
    expected.extend(started(&["b", "c", "d"]));
    assert_eq!(journal.next(5).await, expected);
    assert_eq!(
        worker(&supervisor, "a").await,
        a,
        "a, started before b, untouched"
    );
    journal.assert_quiet();
}

#[tokio::test]
async fn shutdown_stops_children_in_reverse_start_order() {
    let mut journal = Journal::new();
    let supervisor = tree(Strategy::OneForOne, &mut journal, &["a", "b", "c"]).await;
    let children: Vec<_> = supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|child| child.process.unwrap())
        .collect();
    let reason = supervisor.shutdown(PATIENCE).await.unwrap();
    assert!(reason.is_normal(), "{reason:?}");
    assert_eq!(journal.next(3).await, stopped(&["c", "b", "a"]));
    assert!(children.iter().all(|child| !child.is_alive()));
}
