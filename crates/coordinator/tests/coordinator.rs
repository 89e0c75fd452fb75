//! The coordinator's promises, each with the test an adversary would write:
//! steps recorded done never rerun, whatever crashes; retries keep to their
//! policy on paused time; failures name their step; cancel aborts the
//! running step; ids follow their reuse policy; waiting costs no task.

#[path = "support/steps.rs"]
mod support;

use std::{sync::Arc, time::Duration};

use foundation_coordinator::{
    Coordinator, CoordinatorError, IdReuse, Retry, Status, StatusKind, Step, StepContext,
    StepError, Workflow, encode,
};
use foundation_persistence::{MemoryStore, Store};
use support::{PATIENCE, Runs, counted, flaky, gated};
use tokio::sync::{Semaphore, mpsc};

fn retry(attempts: u32) -> Retry {
    Retry::exponential(attempts, Duration::from_secs(1), Duration::from_secs(60))
}

#[tokio::test(start_paused = true)]
async fn steps_run_in_order_each_seeing_the_outputs_before_it() {
    let first = Runs::default();
    let order = Workflow::new("order")
        .step(counted("reserve", &first))
        .step(Step::new("charge", |ctx: StepContext| async move {
            let reserved = ctx
                .output("reserve")
                .ok_or_else(|| StepError::permanent("no reservation"))?;
            let amount: u32 = StepContext::decode(ctx.input())?;
            encode(&(String::from_utf8_lossy(reserved).into_owned(), amount * 2))
        }));
    let coordinator = Coordinator::start(MemoryStore::new(), [order])
        .await
        .unwrap();
    coordinator
        .start_workflow("order", "o-1", encode(&21_u32).unwrap())
        .await
        .unwrap();
    let done = coordinator.wait("o-1", PATIENCE).await.unwrap();
    assert_eq!(done.status, Status::Completed);
    let (reserved, charged): (String, u32) =
        StepContext::decode(done.output("charge").unwrap()).unwrap();
    assert_eq!((reserved.as_str(), charged), ("reserve", 42));
    assert_eq!(first.get(), 1);
    assert_eq!(
        coordinator.list(StatusKind::Completed).await.unwrap(),
        ["o-1"]
    );
    assert_eq!(
        coordinator.running_processes(),
        0,
        "a finished workflow's process ends"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failing_step_is_retried_with_backoff_then_fails_naming_itself() {
    let runs = Runs::default();
    let job = Workflow::new("job").step(flaky("fetch", 10, &runs).retry(retry(3)));
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    let started = tokio::time::Instant::now();
    coordinator
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    let done = coordinator.wait("j-1", PATIENCE).await.unwrap();
    assert_eq!(runs.get(), 3, "three attempts in all, no more");
    assert_eq!(
        done.status,
        Status::Failed {
            step: "fetch".into(),
            error: "failure 3".into()
        }
    );
    let attempts: Vec<_> = done
        .failures
        .iter()
        .map(|f| (f.step.as_str(), f.attempt))
        .collect();
    assert_eq!(attempts, [("fetch", 1), ("fetch", 2), ("fetch", 3)]);
    // Backoff 1 s then 2 s, each with at most a quarter off.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(2_250) && waited <= Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_permanent_error_is_never_retried_and_later_steps_never_run() {
    let later = Runs::default();
    let job = Workflow::new("job")
        .step(
            Step::new("validate", |_| async {
                Err(StepError::permanent("bad order"))
            })
            .retry(retry(5)),
        )
        .step(counted("ship", &later));
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    coordinator
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    let done = coordinator.wait("j-1", PATIENCE).await.unwrap();
    assert!(
        matches!(&done.status, Status::Failed { step, .. } if step == "validate"),
        "{:?}",
        done.status
    );
    assert_eq!(done.failures.len(), 1);
    assert_eq!(later.get(), 0);
    assert_eq!(coordinator.list(StatusKind::Failed).await.unwrap(), ["j-1"]);
}

#[tokio::test(start_paused = true)]
async fn a_step_that_hangs_times_out_and_one_that_panics_fails_without_a_zombie() {
    let hangs = Workflow::new("hangs").step(
        Step::new("forever", |_| std::future::pending())
            .timeout(Duration::from_secs(5))
            .retry(retry(2)),
    );
    let panics = Workflow::new("panics").step(Step::new("boom", |_| async {
        panic!("step blew up");
    }));
    let coordinator = Coordinator::start(MemoryStore::new(), [hangs, panics])
        .await
        .unwrap();
    coordinator
        .start_workflow("hangs", "h", Vec::new())
        .await
        .unwrap();
    coordinator
        .start_workflow("panics", "p", Vec::new())
        .await
        .unwrap();
    let hung = coordinator.wait("h", PATIENCE).await.unwrap();
    assert_eq!(hung.failures.len(), 2);
    assert!(
        hung.failures[0].error.contains("timed out after 5s"),
        "{:?}",
        hung.failures
    );
    let panicked = coordinator.wait("p", PATIENCE).await.unwrap();
    assert!(
        matches!(&panicked.status, Status::Failed { error, .. } if error.contains("panicked: step blew up")),
        "{:?}",
        panicked.status
    );
    assert_eq!(coordinator.running_processes(), 0);
}

/// Kills the workflow's process while its second step runs: the supervisor
/// restarts it, the first step (recorded done) does not rerun, the second
/// (in flight) does, and its aborted run's future is dropped.
#[tokio::test(start_paused = true)]
async fn a_crash_of_the_workflow_process_resumes_at_the_last_recorded_step() {
    let first = Runs::default();
    let second = Runs::default();
    let gate = Arc::new(Semaphore::new(0));
    let (started, mut starts) = mpsc::channel(8);
    let (dropped, mut drops) = mpsc::channel(8);
    let job = Workflow::new("job")
        .step(counted("one", &first))
        .step(gated("two", &second, &gate, started, dropped));
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    coordinator
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    assert_eq!(starts.recv().await, Some(1));

    let victim = coordinator_process(&coordinator, "j-1");
    assert!(victim.kill());
    assert_eq!(drops.recv().await, Some(1), "the aborted run is dropped");
    assert_eq!(starts.recv().await, Some(2), "the in-flight step reruns");
    gate.add_permits(1);
    let done = coordinator.wait("j-1", PATIENCE).await.unwrap();
    assert_eq!(done.status, Status::Completed);
    assert_eq!(first.get(), 1, "a step recorded done never reruns");
    assert_eq!(second.get(), 2);
}

/// The whole coordinator goes down mid-workflow; a new one on the same
/// store resumes it without rerunning what was recorded.
#[tokio::test(start_paused = true)]
async fn a_new_coordinator_resumes_running_workflows_from_the_store() {
    let store = Store::new(MemoryStore::new());
    let first = Runs::default();
    let second = Runs::default();
    let gate = Arc::new(Semaphore::new(0));
    let (started, mut starts) = mpsc::channel(8);
    let (dropped, mut drops) = mpsc::channel(8);
    let definition = Workflow::new("job")
        .step(counted("one", &first))
        .step(gated("two", &second, &gate, started, dropped));

    let before = Coordinator::start(store.clone(), [definition.clone()])
        .await
        .unwrap();
    before
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    assert_eq!(starts.recv().await, Some(1));
    before.shutdown(PATIENCE).await.unwrap();
    assert_eq!(drops.recv().await, Some(1));
    assert_eq!(before.status("j-1").await.unwrap().status, Status::Running);

    let after = Coordinator::start(store, [definition]).await.unwrap();
    assert_eq!(starts.recv().await, Some(2));
    gate.add_permits(1);
    let done = after.wait("j-1", PATIENCE).await.unwrap();
    assert_eq!(done.status, Status::Completed);
    assert_eq!(first.get(), 1);
    assert_eq!(second.get(), 2);
}

#[tokio::test(start_paused = true)]
async fn cancel_aborts_the_running_step_and_records_it() {
    let runs = Runs::default();
    let gate = Arc::new(Semaphore::new(0));
    let (started, mut starts) = mpsc::channel(8);
    let (dropped, mut drops) = mpsc::channel(8);
    let job = Workflow::new("job").step(gated("wait", &runs, &gate, started, dropped));
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    coordinator
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    assert_eq!(starts.recv().await, Some(1));
    assert!(coordinator.cancel("j-1").await.unwrap());
    assert_eq!(
        drops.recv().await,
        Some(1),
        "the running step's future is dropped"
    );
    assert_eq!(
        coordinator.status("j-1").await.unwrap().status,
        Status::Cancelled
    );
    assert!(
        !coordinator.cancel("j-1").await.unwrap(),
        "a finished workflow is not cancelled again"
    );
    assert!(matches!(
        coordinator.cancel("nope").await,
        Err(CoordinatorError::NotFound(_))
    ));
    assert_eq!(
        coordinator.list(StatusKind::Cancelled).await.unwrap(),
        ["j-1"]
    );
}

#[tokio::test(start_paused = true)]
async fn ids_follow_their_reuse_policy() {
    let runs = Runs::default();
    let gate = Arc::new(Semaphore::new(0));
    let (started, mut starts) = mpsc::channel(8);
    let (dropped, _drops) = mpsc::channel(8);
    let job = Workflow::new("job").step(gated("wait", &runs, &gate, started, dropped));
    let quick = Workflow::new("quick").step(counted("only", &Runs::default()));
    let store = Store::new(MemoryStore::new());
    let strict = Coordinator::start(store.clone(), [job.clone(), quick.clone()])
        .await
        .unwrap();

    strict.start_workflow("job", "a", Vec::new()).await.unwrap();
    assert_eq!(starts.recv().await, Some(1));
    let running = strict.start_workflow("quick", "a", Vec::new()).await;
    assert!(
        matches!(running, Err(CoordinatorError::IdTaken { .. })),
        "{running:?}"
    );
    gate.add_permits(1);
    strict.wait("a", PATIENCE).await.unwrap();
    let reused = strict.start_workflow("quick", "a", Vec::new()).await;
    assert!(
        matches!(reused, Err(CoordinatorError::IdTaken { .. })),
        "{reused:?}"
    );

    let lenient = strict.clone().id_reuse(IdReuse::AllowAfterFinish);
    lenient
        .start_workflow("quick", "a", Vec::new())
        .await
        .unwrap();
    let again = lenient.wait("a", PATIENCE).await.unwrap();
    assert_eq!(again.workflow, "quick");

    for bad in ["", "a/b", &"x".repeat(257)] {
        let refused = strict.start_workflow("quick", bad, Vec::new()).await;
        assert!(
            matches!(refused, Err(CoordinatorError::InvalidId(_))),
            "{refused:?}"
        );
    }
    let unknown = strict.start_workflow("nope", "b", Vec::new()).await;
    assert!(
        matches!(unknown, Err(CoordinatorError::UnknownWorkflow(_))),
        "{unknown:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_signal_is_saved_and_seen_by_the_steps_after_it() {
    let runs = Runs::default();
    let gate = Arc::new(Semaphore::new(0));
    let (started, mut starts) = mpsc::channel(8);
    let (dropped, _drops) = mpsc::channel(8);
    let job = Workflow::new("job")
        .step(gated("wait", &runs, &gate, started, dropped))
        .step(Step::new("read", |ctx: StepContext| async move {
            Ok(ctx
                .signals()
                .iter()
                .flat_map(|s| s.payload.clone())
                .collect())
        }));
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    coordinator
        .start_workflow("job", "j-1", Vec::new())
        .await
        .unwrap();
    assert_eq!(starts.recv().await, Some(1));
    coordinator
        .signal("j-1", "approve", b"yes".to_vec())
        .await
        .unwrap();
    assert_eq!(coordinator.status("j-1").await.unwrap().signals.len(), 1);
    gate.add_permits(1);
    let done = coordinator.wait("j-1", PATIENCE).await.unwrap();
    assert_eq!(done.output("read"), Some(&b"yes"[..]));
}

/// Workflows waiting between retries are dormant processes: a thousand of
/// them add no task to the runtime.
#[tokio::test(start_paused = true)]
async fn waiting_workflows_hold_no_task() {
    const WAITING: usize = 1_000;
    let slow = Retry::exponential(2, Duration::from_secs(3_600), Duration::from_secs(3_600));
    let job = Workflow::new("job").step(
        Step::new("fetch", |ctx: StepContext| async move {
            match ctx.attempt() {
                1 => Err(StepError::retryable("not yet")),
                _ => Ok(Vec::new()),
            }
        })
        .retry(slow),
    );
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    let tasks = || {
        tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks()
    };
    let baseline = tasks();
    for n in 0..WAITING {
        coordinator
            .start_workflow("job", &format!("j-{n}"), Vec::new())
            .await
            .unwrap();
    }
    // Every first attempt fails and its retry waits an hour.
    let waiting = async {
        for n in 0..WAITING {
            let id = format!("j-{n}");
            while coordinator.status(&id).await.unwrap().failures.is_empty() {
                tokio::task::yield_now().await;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), waiting)
        .await
        .expect("all waiting");
    assert_eq!(coordinator.running_processes(), WAITING);
    // The last steps' tasks and activations end just after their work:
    // wait for the count to settle, bounded. One task more than before:
    // the runtime's timer service, which holds every retry's timer.
    let settled = async {
        while tasks() > baseline + 1 {
            tokio::task::yield_now().await;
        }
    };
    let settled = tokio::time::timeout(Duration::from_secs(60), settled).await;
    assert!(
        settled.is_ok() && tasks() <= baseline + 1,
        "{} tasks for {WAITING} waiting workflows",
        tasks() - baseline
    );
}

fn coordinator_process(coordinator: &Coordinator, id: &str) -> foundation_mailbox::ProcessRef {
    coordinator
        .process_of(id)
        .expect("the workflow's process is registered")
}

/// A step that coordinates a worker goes through supervised send: when the
/// worker is gone, the step fails (and is retried by its own policy), and
/// the dead letter says which workflow, step and attempt sent it.
#[tokio::test(start_paused = true)]
async fn a_steps_supervised_send_carries_the_workflow_into_its_dead_letter() {
    use foundation_dead_letter::{Config, DeadLetterQueue, Filter};
    use foundation_mailbox::{Actor, Context, ExitReason, start};
    use foundation_supervised_send::{OnError, SendOptions, Target, send_supervised};

    #[derive(Debug)]
    struct Worker;
    impl Actor for Worker {
        type Args = ();
        type Msg = String;
        type Error = std::convert::Infallible;
        async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
            Ok(Worker)
        }
        async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    let dead_letters = DeadLetterQueue::new(Config::default()).unwrap();
    let (worker, _handle) = start::<Worker>(()).await.unwrap();
    worker.stop(ExitReason::Normal, PATIENCE).await.unwrap();
    let job = Workflow::new("job").step(Step::new("notify", {
        let dead_letters = dead_letters.clone();
        move |ctx: StepContext| {
            let target = Target::actor(&worker);
            let options = ctx.send_options(
                SendOptions::new().on_error(OnError::DeadLetter(dead_letters.clone())),
            );
            async move {
                send_supervised(&target, "shipped".to_owned(), &options)
                    .await
                    .map_err(StepError::retryable)?;
                Ok(Vec::new())
            }
        }
    }));
    let coordinator = Coordinator::start(MemoryStore::new(), [job]).await.unwrap();
    coordinator
        .start_workflow("job", "o-7", Vec::new())
        .await
        .unwrap();
    let done = coordinator.wait("o-7", PATIENCE).await.unwrap();
    assert!(
        matches!(&done.status, Status::Failed { step, .. } if step == "notify"),
        "{:?}",
        done.status
    );
    let entries = dead_letters.list(&Filter::all(), 10);
    assert_eq!(entries.len(), 1);
    let metadata = &entries[0].metadata;
    assert_eq!(metadata["workflow"], "o-7");
    assert_eq!(metadata["step"], "notify");
    assert_eq!(metadata["attempt"], "1");
    assert_eq!(metadata["idempotency_key"], "o-7/notify");
}
