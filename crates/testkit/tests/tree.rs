//! `start_tree`: the production spec, a bounded teardown that reports overruns, and no leftovers when dropped.

use std::time::Duration;

use foundation_mailbox::{Actor, Context, ExitReason};
use foundation_supervisor::{ChildSpec, Shutdown, Strategy, SupervisorSpec};
use foundation_testkit::{Probe, TreeShutdownError, start_tree};

const WITHIN: Duration = Duration::from_secs(1);

#[derive(Debug)]
struct Worker;

impl Actor for Worker {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker)
    }

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A worker whose `terminate` never finishes: a child that overruns any budget.
#[derive(Debug)]
struct Stuck;

impl Actor for Stuck {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Stuck)
    }

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn terminate(&mut self, _: &ExitReason, _: &mut Context<Self>) {
        std::future::pending::<()>().await;
    }
}

fn spec() -> SupervisorSpec {
    SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ()))
}

#[tokio::test(start_paused = true)]
async fn a_tree_shuts_down_cleanly_within_its_budget() {
    let tree = start_tree(spec()).await.unwrap();
    let worker = tree.supervisor().whereis("worker").unwrap();
    let mut probe = Probe::<()>::start().await.unwrap();
    probe.watch(&worker);

    assert!(tree.shutdown().await.is_ok());
    assert_eq!(
        probe.expect_down(worker.pid(), WITHIN).await.unwrap(),
        ExitReason::shutdown()
    );
}

#[tokio::test(start_paused = true)]
async fn a_tree_that_overruns_its_budget_is_reported_and_killed() {
    let child = ChildSpec::actor::<Stuck>("stuck", ()).shutdown(Shutdown::Infinity);
    let tree = start_tree(SupervisorSpec::new(Strategy::OneForOne).child(child))
        .await
        .unwrap();
    let stuck = tree.supervisor().whereis("stuck").unwrap();

    let error = tree
        .shutdown_within(Duration::from_millis(200))
        .shutdown()
        .await
        .unwrap_err();
    assert_eq!(
        error,
        TreeShutdownError::Overran(Duration::from_millis(200))
    );
    assert!(
        stuck.wait_for_exit(WITHIN).await.is_ok(),
        "the root's kill reached the child"
    );
}

#[tokio::test(start_paused = true)]
async fn a_tree_dropped_without_shutdown_leaves_no_process_behind() {
    let tree = start_tree(spec()).await.unwrap();
    let root = tree.supervisor().process_ref();
    let worker = tree.supervisor().whereis("worker").unwrap();
    drop(tree);
    assert_eq!(
        root.wait_for_exit(WITHIN).await.unwrap(),
        ExitReason::Killed
    );
    assert!(worker.wait_for_exit(WITHIN).await.is_ok());
}
