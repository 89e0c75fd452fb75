//! A thousand crash/restart cycles leave no task, process or tie behind.

use std::sync::Arc;

use foundation_mailbox::{ActorOptions, DeadLetter, DeadLetterSink, ExitReason};
use foundation_supervisor::{ChildSpec, Intensity, Strategy, Supervisor, SupervisorSpec};

use super::support::{Journal, PATIENCE, Worker, exit, started, stopped};

/// Every process cell holds its dead-letter sink, so the sink's strong count
/// counts the live process cells that use it: a leaked cell shows up here.
#[derive(Debug)]
struct CountingSink;

impl DeadLetterSink for CountingSink {
    fn dead_letter(&self, _: DeadLetter) {}
}

#[tokio::test]
async fn a_thousand_restarts_leak_no_task_no_process_and_no_tie() {
    let metrics = tokio::runtime::Handle::current().metrics();
    let tasks_before = metrics.num_alive_tasks();
    let mut journal = Journal::new();
    let sink = Arc::new(CountingSink);
    let options = ActorOptions::new().dead_letters(sink.clone());
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(u32::MAX, std::time::Duration::from_secs(5)))
        .child(ChildSpec::actor_with::<Worker>(
            "w",
            journal.args("w"),
            options,
        ));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["w"]));
    // The test's, the spec's, and the one running cell's.
    let baseline = Arc::strong_count(&sink);
    assert_eq!(baseline, 3);

    for cycle in 0..1_000 {
        let failure = ExitReason::error(std::io::Error::other(format!("cycle {cycle}")));
        exit(&supervisor, "w", failure).await;
        assert_eq!(
            journal.next(2).await,
            [stopped(&["w"]), started(&["w"])].concat()
        );
    }
    assert_eq!(
        Arc::strong_count(&sink),
        baseline,
        "exactly one process cell is alive"
    );
    assert_eq!(supervisor.count_children().await.unwrap().active, 1);

    supervisor.shutdown(PATIENCE).await.unwrap();
    assert_eq!(journal.next(1).await, stopped(&["w"]));
    assert_eq!(
        Arc::strong_count(&sink),
        1,
        "no process cell and no spec left: only the test's own reference"
    );
    // The one task more is the runtime's reaper (one per runtime, started
    // with its first process), which ends its processes at shutdown.
    assert_eq!(
        metrics.num_alive_tasks(),
        tasks_before + 1,
        "no task left behind"
    );
}
