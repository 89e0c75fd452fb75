//! The coordinator's recovery promises: a failed save reruns only what was
//! never recorded, a damaged record harms only its own workflow, and a
//! passivated workflow wakes when its retry is due, not before.

// Shared with the other test binaries, which use the parts this one does not.
#[allow(dead_code)]
#[path = "support/steps.rs"]
mod support;

use std::{sync::Arc, time::Duration};

use foundation_coordinator::{
    Coordinator, CoordinatorError, Retry, Status, StatusKind, Step, StepContext, StepError,
    Workflow,
};
use foundation_persistence::{MemoryStore, Store};
use support::{PATIENCE, Runs, counted, gated};
use tokio::sync::{Semaphore, mpsc};

/// Passivation: a workflow whose retry is an hour away saves when, and its
/// process stops; the waker starts it again when the retry is due. A
/// signal meanwhile wakes the process and is saved, but the attempt still
/// waits its time.
#[tokio::test(start_paused = true)]
async fn a_waiting_workflow_passivates_and_wakes_when_its_retry_is_due() {
    const WORKFLOWS: usize = 100;
    let hour = Duration::from_secs(3_600);
    // When each second attempt ran, on tokio's (paused) clock.
    let retried = Arc::new(std::sync::Mutex::new(Vec::new()));
    let job = Workflow::new("job").step(
        Step::new("fetch", {
            let retried = Arc::clone(&retried);
            move |ctx: StepContext| {
                if ctx.attempt() > 1 {
                    retried.lock().unwrap().push(tokio::time::Instant::now());
                }
                async move {
                    match ctx.attempt() {
                        1 => Err(StepError::retryable("not yet")),
                        _ => Ok(Vec::new()),
                    }
                }
            }
        })
        .retry(Retry::exponential(2, hour, hour)),
    );
    let coordinator =
        Coordinator::start_with(MemoryStore::new(), [job], Some(Duration::from_secs(60)))
            .await
            .unwrap();
    let started = tokio::time::Instant::now();
    for n in 0..WORKFLOWS {
        coordinator
            .start_workflow("job", &format!("j-{n}"), Vec::new())
            .await
            .unwrap();
    }
    let passivated = async {
        for n in 0..WORKFLOWS {
            while coordinator
                .status(&format!("j-{n}"))
                .await
                .unwrap()
                .wake_at
                .is_none()
            {
                tokio::task::yield_now().await;
            }
        }
        while coordinator.running_processes() > 0 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), passivated)
        .await
        .expect("all passivated");
    assert!(retried.lock().unwrap().is_empty());

    coordinator
        .signal("j-0", "nudge", Vec::new())
        .await
        .unwrap();
    assert_eq!(coordinator.status("j-0").await.unwrap().signals.len(), 1);

    for n in 0..WORKFLOWS {
        let done = coordinator.wait(&format!("j-{n}"), 2 * hour).await.unwrap();
        assert_eq!(done.status, Status::Completed);
        assert_eq!(done.completed[0].attempt, 2);
        assert_eq!(done.wake_at, None);
    }
    let retried = retried.lock().unwrap();
    assert_eq!(retried.len(), WORKFLOWS, "each retry ran once");
    // An hour's backoff, less at most a quarter of jitter: none ran early,
    // the signalled one included.
    assert!(
        retried
            .iter()
            .all(|at| *at - started >= Duration::from_secs(2_700)),
        "a retry ran early"
    );
}

/// A store whose `n`-th write fails (the disk was full for a moment).
#[derive(Clone)]
struct FailsOnce {
    store: MemoryStore,
    writes: Arc<std::sync::atomic::AtomicU32>,
    fail_write: u32,
}

impl foundation_persistence::StateStore for FailsOnce {
    async fn get(
        &self,
        key: &str,
    ) -> Result<Option<foundation_persistence::Entry>, foundation_persistence::StoreError> {
        self.store.get(key).await
    }

    async fn put(
        &self,
        key: &str,
        value: Vec<u8>,
    ) -> Result<foundation_persistence::Version, foundation_persistence::StoreError> {
        self.store.put(key, value).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<foundation_persistence::Version>,
        value: Vec<u8>,
    ) -> Result<foundation_persistence::Version, foundation_persistence::StoreError> {
        let write = self
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        if write == self.fail_write {
            return Err(foundation_persistence::StoreError::unavailable(
                key,
                "disk full",
            ));
        }
        self.store.compare_and_set(key, expected, value).await
    }

    async fn delete(&self, key: &str) -> Result<bool, foundation_persistence::StoreError> {
        self.store.delete(key).await
    }

    async fn list(
        &self,
        prefix: &str,
    ) -> Result<Vec<foundation_persistence::Listed>, foundation_persistence::StoreError> {
        self.store.list(prefix).await
    }
}

/// The save of a finished step fails: the process crashes, its supervisor
/// restarts it, it reloads what was saved and runs the step again (its
/// result was never recorded), and the workflow completes.
#[tokio::test(start_paused = true)]
async fn a_failed_save_reruns_the_unrecorded_step_and_the_workflow_completes() {
    let first = Runs::default();
    let second = Runs::default();
    let store = FailsOnce {
        store: MemoryStore::new(),
        writes: Arc::default(),
        // Write 1 creates the record; write 2 saves step one's output.
        fail_write: 2,
    };
    let job = Workflow::new("job")
        .step(counted("one", &first))
        .step(counted("two", &second));
    let coordinator = Coordinator::start(store.clone(), [job]).await.unwrap();
    coordinator
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    let done = coordinator.wait("j-1", PATIENCE).await.unwrap();
    assert_eq!(done.status, Status::Completed);
    assert_eq!(
        first.get(),
        2,
        "its first result was never saved, so it ran again"
    );
    assert_eq!(second.get(), 1);
    assert!(store.writes.load(std::sync::atomic::Ordering::SeqCst) >= 4);
}

/// A corrupt record (a damaged file, a bad migration) neither stops the
/// coordinator from starting nor keeps the other workflows down; its own
/// status names the problem.
#[tokio::test(start_paused = true)]
async fn a_corrupt_record_does_not_keep_the_others_down() {
    let store = Store::new(MemoryStore::new());
    let gate = Arc::new(Semaphore::new(0));
    let (started, mut starts) = mpsc::channel(8);
    let (dropped, _drops) = mpsc::channel(8);
    let job = Workflow::new("job").step(gated("wait", &Runs::default(), &gate, started, dropped));
    let before = Coordinator::start(store.clone(), [job.clone()])
        .await
        .unwrap();
    before
        .start_workflow("job", "good", Vec::new())
        .await
        .unwrap();
    assert_eq!(starts.recv().await, Some(1));
    before.shutdown(PATIENCE).await.unwrap();
    let bad = format!("{}bad", foundation_coordinator::RECORD_PREFIX);
    foundation_persistence::StateStore::put(&store, &bad, b"\x01not a record".to_vec())
        .await
        .unwrap();

    let after = Coordinator::start(store, [job]).await.unwrap();
    assert_eq!(starts.recv().await, Some(2), "the good workflow resumed");
    assert_eq!(after.list(StatusKind::Running).await.unwrap(), ["good"]);
    assert!(
        matches!(after.status("bad").await, Err(CoordinatorError::Record(_))),
        "the damaged one says why"
    );
    gate.add_permits(1);
    assert_eq!(
        after.wait("good", PATIENCE).await.unwrap().status,
        Status::Completed
    );
}
