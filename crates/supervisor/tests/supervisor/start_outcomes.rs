//! A start function's outcome beyond "running": `ignore` ("not now", no
//! process runs) and `ok` with info (a value handed to `start_child`'s
//! caller), as in OTP.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use foundation_mailbox::{ActorOptions, StartError, start_with};
use foundation_supervisor::{
    ChildCallError, ChildSpec, DynamicSpec, DynamicSupervisorRef, Intensity, Restart, Started,
    Strategy, Supervisor, SupervisorError, SupervisorRef, SupervisorSpec,
};

use super::support::{Args, Ask, Journal, PATIENCE, Worker, ids, started, until};

/// Which starts run the worker; the others are ignored. Counts them.
#[derive(Clone, Debug)]
struct Outcomes {
    starts: Arc<AtomicU32>,
    /// Given the start's number (from 0), whether it runs.
    runs: fn(u32) -> bool,
}

impl Outcomes {
    fn new(runs: fn(u32) -> bool) -> Self {
        Self {
            starts: Arc::new(AtomicU32::new(0)),
            runs,
        }
    }

    async fn start(&self, args: Args) -> Result<Started, StartError> {
        let number = self.starts.fetch_add(1, Ordering::SeqCst);
        if !(self.runs)(number) {
            return Ok(Started::Ignored);
        }
        let (worker, _) = start_with::<Worker>(args, ActorOptions::new()).await?;
        Ok(Started::with_info(worker.process_ref(), number))
    }

    fn spec(&self, args: Args) -> ChildSpec {
        let outcomes = self.clone();
        ChildSpec::worker(args.id, move || {
            let outcomes = outcomes.clone();
            let args = args.clone();
            async move { outcomes.start(args).await }
        })
    }
}

fn never(_: u32) -> bool {
    false
}

fn first_only(start: u32) -> bool {
    start == 0
}

fn not_first(start: u32) -> bool {
    start > 0
}

async fn listed(tree: &SupervisorRef, id: &str) -> Option<(bool, bool)> {
    let children = tree.which_children().await.unwrap();
    let child = children.iter().find(|child| &*child.id == id)?;
    Some((child.process.is_some(), child.restarting))
}

#[tokio::test(start_paused = true)]
async fn a_static_child_whose_start_is_ignored_stays_listed_as_not_running() {
    let mut journal = Journal::new();
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne)
            .child(Outcomes::new(never).spec(journal.args("off")))
            .child(
                Outcomes::new(never)
                    .spec(journal.args("gone"))
                    .restart(Restart::Temporary),
            )
            .child(journal.worker("a")),
    )
    .await
    .unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    // Listed, not running; a temporary one is not kept (as OTP).
    assert_eq!(ids(&tree).await, ["off", "a"]);
    assert_eq!(listed(&tree, "off").await, Some((false, false)));
    let counts = tree.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (2, 1));
    assert!(tree.whereis("off").is_none());
    let off = tree.child_ref::<Worker>("off").unwrap();
    assert!(matches!(
        off.call(Ask::Ping, PATIENCE).await,
        Err(ChildCallError::NotRunning(Ask::Ping(_)))
    ));
    // restart_child asks again, and answers what the start said.
    assert!(tree.restart_child("off").await.unwrap().is_ignored());
    journal.assert_quiet();
}

#[tokio::test(start_paused = true)]
async fn start_child_answers_ignored_and_keeps_the_spec_but_not_a_temporary_ones() {
    let mut journal = Journal::new();
    let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne))
        .await
        .unwrap();
    let later = Outcomes::new(not_first);
    let answer = tree.start_child(later.spec(journal.args("later"))).await;
    assert!(answer.unwrap().is_ignored());
    let temporary = Outcomes::new(never)
        .spec(journal.args("once"))
        .restart(Restart::Temporary);
    assert!(tree.start_child(temporary).await.unwrap().is_ignored());
    assert_eq!(ids(&tree).await, ["later"]);
    // Its id is taken, as OTP's `already_present`.
    assert!(matches!(
        tree.start_child(journal.worker("later")).await,
        Err(SupervisorError::DuplicateChild(_))
    ));
    // Now it runs; the reference taken while it was ignored reaches it.
    let child = tree.child_ref::<Worker>("later").unwrap();
    let restarted = tree.restart_child("later").await.unwrap();
    assert_eq!(restarted.info::<u32>(), Some(&1));
    assert_eq!(journal.next(1).await, started(&["later"]));
    assert_eq!(child.call(Ask::Ping, PATIENCE).await.unwrap(), "later");
}

#[tokio::test(start_paused = true)]
async fn a_static_restart_that_is_ignored_leaves_the_child_not_running() {
    let mut journal = Journal::new();
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne)
            .child(Outcomes::new(first_only).spec(journal.args("a"))),
    )
    .await
    .unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    let child = tree.child_ref::<Worker>("a").unwrap();
    assert!(child.call(Ask::Crash, PATIENCE).await.is_err());
    // A call made now waits out the restart, which says "not now".
    assert!(matches!(
        child.call(Ask::Ping, PATIENCE).await,
        Err(ChildCallError::NotRunning(Ask::Ping(_)))
    ));
    assert_eq!(listed(&tree, "a").await, Some((false, false)));
    journal.assert_quiet();
}

/// A dynamic spec whose children run when their argument says so.
fn dynamic() -> DynamicSpec<(bool, Args)> {
    DynamicSpec::new(|(run, args): (bool, Args)| async move {
        if !run {
            return Ok(Started::Ignored);
        }
        let (worker, _) = start_with::<Worker>(args, ActorOptions::new()).await?;
        Ok::<_, StartError>(Started::with_info(worker.process_ref(), "hello"))
    })
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_child_whose_start_is_ignored_is_not_added_and_gives_its_slot_back() {
    let mut journal = Journal::new();
    let pool = DynamicSupervisorRef::start(dynamic().max_children(1))
        .await
        .unwrap();
    let ignored = pool.start_child((false, journal.args("no"))).await.unwrap();
    assert!(ignored.is_ignored());
    assert_eq!(pool.count_children().specs, 0);
    // Its slot went back: the one allowed child starts, with its info.
    let running = pool.start_child((true, journal.args("yes"))).await.unwrap();
    assert_eq!(running.info::<&str>(), Some(&"hello"));
    assert!(running.downcast::<Worker>().is_some());
    assert_eq!(journal.next(1).await, started(&["yes"]));
    assert_eq!(pool.count_children().specs, 1);
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_restart_that_is_ignored_removes_the_child() {
    let mut journal = Journal::new();
    let outcomes = Outcomes::new(first_only);
    let spec = DynamicSpec::new(move |args: Args| {
        let outcomes = outcomes.clone();
        async move { outcomes.start(args).await }
    })
    .intensity(Intensity::new(10, std::time::Duration::from_secs(5)))
    .max_children(1);
    let pool = DynamicSupervisorRef::start(spec).await.unwrap();
    let started_child = pool.start_child(journal.args("d")).await.unwrap();
    assert_eq!(started_child.info::<u32>(), Some(&0));
    assert_eq!(journal.next(1).await, started(&["d"]));
    let worker = started_child.downcast::<Worker>().unwrap();
    assert!(worker.call(Ask::Crash, PATIENCE).await.is_err());
    until(|| pool.count_children().specs == 0).await;
    assert!(pool.which_children().is_empty());
    assert!(matches!(
        pool.terminate_child(worker.pid()).await,
        Err(SupervisorError::NoSuchPid(_))
    ));
    // Removed, its slot is free again (the start says "not now" again).
    assert!(
        pool.start_child(journal.args("e"))
            .await
            .unwrap()
            .is_ignored()
    );
    assert!(pool.is_alive());
    journal.assert_quiet();
}
