//! A failed restart is retried as a queued message (OTP's
//! `try_again_restart`): between attempts the supervisor answers requests,
//! and a stop is honoured before the next attempt.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{ActorOptions, ProcessRef, StartError, start_with};
use foundation_supervisor::{
    ChildSpec, DynamicSpec, DynamicSupervisorRef, Intensity, Strategy, Supervisor, SupervisorError,
    SupervisorRef, SupervisorSpec,
};
use tokio::{sync::mpsc, time::Instant};

use super::support::{Args, Ask, Journal, PATIENCE, Worker, crash, started};

/// How long one failing start takes.
const ATTEMPT: Duration = Duration::from_secs(1);

/// Room for many attempts: only a stop or a terminate ends the retries.
const PLENTY: Intensity = Intensity::new(1_000, Duration::from_secs(3_600));

#[derive(Debug, thiserror::Error)]
#[error("start failed slowly on purpose")]
struct SlowFailure;

/// Counts the attempts and reports each as it begins.
#[derive(Clone, Debug)]
struct Attempts {
    count: Arc<AtomicU32>,
    begun: mpsc::UnboundedSender<()>,
}

impl Attempts {
    fn new() -> (Self, mpsc::UnboundedReceiver<()>) {
        let (begun, receiver) = mpsc::unbounded_channel();
        let count = Arc::new(AtomicU32::new(0));
        (Self { count, begun }, receiver)
    }

    fn count(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }

    /// The first start runs `args` as a worker; every later one fails after
    /// [`ATTEMPT`].
    async fn start(&self, args: Args) -> Result<foundation_mailbox::ProcessRef, StartError> {
        if self.count.fetch_add(1, Ordering::SeqCst) > 0 {
            let _ = self.begun.send(());
            // A start that takes ATTEMPT on the paused clock: it models
            // slow work, it waits for nothing.
            let _ = tokio::time::timeout(ATTEMPT, std::future::pending::<()>()).await;
            return Err(StartError::Init(foundation_mailbox::ExitReason::error(
                SlowFailure,
            )));
        }
        let (worker, _) = start_with::<Worker>(args, ActorOptions::new()).await?;
        Ok(worker.process_ref())
    }
}

fn slow_to_restart(journal: &Journal, id: &'static str, attempts: &Attempts) -> ChildSpec {
    let args = journal.args(id);
    let attempts = attempts.clone();
    ChildSpec::worker(id, move || {
        let attempts = attempts.clone();
        let args = args.clone();
        async move { attempts.start(args).await }
    })
}

async fn failing_tree(journal: &mut Journal, attempts: &Attempts) -> SupervisorRef {
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(PLENTY)
        .child(journal.worker("a"))
        .child(slow_to_restart(journal, "b", attempts));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "b"]));
    supervisor
}

#[tokio::test(start_paused = true)]
async fn a_supervisor_stopped_mid_retry_stops_within_one_attempt() {
    let mut journal = Journal::new();
    let (attempts, mut begun) = Attempts::new();
    let supervisor = failing_tree(&mut journal, &attempts).await;
    crash(&supervisor, "b").await;
    begun.recv().await.unwrap();
    let asked = Instant::now();
    let reason = supervisor.shutdown(PATIENCE).await;
    assert!(reason.is_ok(), "{reason:?}");
    assert!(asked.elapsed() <= ATTEMPT, "took {:?}", asked.elapsed());
    // The stop came before the next attempt: the restart (start 1) only.
    assert_eq!(attempts.count(), 2);
    assert_eq!(journal.next(1).await, super::support::stopped(&["a"]));
}

#[tokio::test(start_paused = true)]
async fn between_retries_the_supervisor_answers_and_shows_the_child_restarting() {
    let mut journal = Journal::new();
    let (attempts, mut begun) = Attempts::new();
    let supervisor = failing_tree(&mut journal, &attempts).await;
    crash(&supervisor, "b").await;
    begun.recv().await.unwrap();

    let children = supervisor.which_children().await.unwrap();
    let b = children.iter().find(|child| &*child.id == "b").unwrap();
    assert!(b.restarting && b.process.is_none(), "{b:?}");
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (2, 1));
    assert!(matches!(
        supervisor.restart_child("b").await,
        Err(SupervisorError::Restarting(id)) if &*id == "b"
    ));
    assert!(matches!(
        supervisor.delete_child("b").await,
        Err(SupervisorError::Restarting(id)) if &*id == "b"
    ));
    assert!(matches!(
        supervisor.start_child(journal.worker("b")).await,
        Err(SupervisorError::DuplicateChild(id)) if &*id == "b"
    ));
    assert!(
        attempts.count() > 2,
        "the retries went on between the calls"
    );

    // Terminating it ends the retries: no attempt after its answer.
    supervisor.terminate_child("b").await.unwrap();
    let after = attempts.count();
    let children = supervisor.which_children().await.unwrap();
    let b = children.iter().find(|child| &*child.id == "b").unwrap();
    assert!(!b.restarting && b.process.is_none(), "{b:?}");
    supervisor.count_children().await.unwrap();
    assert_eq!(attempts.count(), after);
    journal.assert_quiet();
}

async fn failing_pool(attempts: &Attempts, max_children: usize) -> DynamicSupervisorRef<Args> {
    let attempts = attempts.clone();
    let spec = DynamicSpec::new(move |args: Args| {
        let attempts = attempts.clone();
        async move { attempts.start(args).await }
    })
    .intensity(PLENTY)
    .max_children(max_children);
    DynamicSupervisorRef::start(spec).await.unwrap()
}

/// Starts one child under `pool`, then crashes it so its restarts begin;
/// returns the crashed incarnation.
async fn crash_dynamic_child(
    pool: &DynamicSupervisorRef<Args>,
    journal: &mut Journal,
) -> ProcessRef {
    let child = pool
        .start_child(journal.args("d"))
        .await
        .unwrap()
        .into_process()
        .unwrap();
    assert_eq!(journal.next(1).await, started(&["d"]));
    let worker = child.downcast::<Worker>().unwrap();
    assert!(worker.call(Ask::Crash, PATIENCE).await.is_err());
    child
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_supervisor_stopped_mid_retry_stops_within_one_attempt() {
    let mut journal = Journal::new();
    let (attempts, mut begun) = Attempts::new();
    let pool = failing_pool(&attempts, 1).await;
    crash_dynamic_child(&pool, &mut journal).await;
    begun.recv().await.unwrap();
    let asked = Instant::now();
    let reason = pool.shutdown(PATIENCE).await;
    assert!(reason.is_ok(), "{reason:?}");
    assert!(asked.elapsed() <= ATTEMPT, "took {:?}", asked.elapsed());
    assert_eq!(attempts.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn terminating_a_restarting_dynamic_child_by_its_old_pid_ends_the_retries() {
    let mut journal = Journal::new();
    let (attempts, mut begun) = Attempts::new();
    let pool = failing_pool(&attempts, 1).await;
    let child = crash_dynamic_child(&pool, &mut journal).await;
    begun.recv().await.unwrap();

    let counts = pool.count_children();
    assert_eq!((counts.specs, counts.active, counts.workers), (1, 0, 1));
    assert!(pool.which_children().is_empty());
    // The restarting child keeps its max_children slot.
    assert!(matches!(
        pool.start_child(journal.args("e")).await,
        Err(SupervisorError::MaxChildren(1))
    ));
    let reason = pool.terminate_child(child.pid()).await.unwrap();
    assert!(reason.is_panic(), "{reason:?}");
    assert_eq!(pool.count_children().specs, 0);
    // The attempt under way ends; no other follows.
    let asked = Instant::now();
    pool.shutdown(PATIENCE).await.unwrap();
    assert!(asked.elapsed() <= ATTEMPT, "took {:?}", asked.elapsed());
    assert_eq!(attempts.count(), 2);
    journal.assert_quiet();
}
