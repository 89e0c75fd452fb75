//! Start functions that panic or are cancelled: the panic is a typed start
//! error, the supervisor survives, and a dynamic supervisor's
//! `max_children` slot is given back every time.

use std::sync::{
    Arc,
    atomic::{AtomicU32, Ordering},
};

use foundation_mailbox::{ActorOptions, StartError, start_with};
use foundation_supervisor::{
    ChildSpec, DynamicSpec, DynamicSupervisorRef, Strategy, Supervisor, SupervisorError,
    SupervisorSpec,
};

use super::support::{Args, Journal, PATIENCE, Worker, crash, started};

/// A spec for worker `id` whose start function panics on the calls whose
/// number (from 0) is in `panics`: in its body on even numbers, inside its
/// future on odd ones, so both places are covered.
fn panicking(journal: &Journal, id: &'static str, panics: &'static [u32]) -> ChildSpec {
    let args = journal.args(id);
    let calls = Arc::new(AtomicU32::new(0));
    ChildSpec::worker(id, move || {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let panics_now = panics.contains(&call);
        assert!(
            !(panics_now && call.is_multiple_of(2)),
            "{id} start {call} panicked"
        );
        let args = args.clone();
        async move {
            assert!(!panics_now, "{id} start {call} panicked inside its future");
            let (worker, _) = start_with::<Worker>(args, ActorOptions::new()).await?;
            Ok::<_, StartError>(worker.process_ref())
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_panicking_start_fails_the_supervisors_start_with_the_panic_message() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(journal.worker("a"))
        .child(panicking(&journal, "b", &[0]));
    let error = Supervisor::start(spec).await.unwrap_err();
    assert!(
        matches!(&error, SupervisorError::ChildStart { id, .. } if &**id == "b"),
        "{error:?}"
    );
    assert_eq!(error.start_panic(), Some("b start 0 panicked"));
    // The sibling started before it was unwound.
    assert_eq!(
        journal.next(2).await,
        [started(&["a"]), super::support::stopped(&["a"])].concat()
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_start_child_is_an_error_and_the_supervisor_survives() {
    let mut journal = Journal::new();
    let supervisor =
        Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(journal.worker("a")))
            .await
            .unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    for (id, expected) in [
        ("b", "b start 0 panicked"),
        ("c", "c start 1 panicked inside its future"),
    ] {
        let panics: &'static [u32] = if id == "b" { &[0] } else { &[1] };
        let spec = panicking(&journal, id, panics);
        if id == "c" {
            // Use up call 0 of c's start function on a start that works.
            let child =
                Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(spec.clone()))
                    .await
                    .unwrap();
            assert_eq!(journal.next(1).await, started(&["c"]));
            child.shutdown(PATIENCE).await.unwrap();
            journal.next(1).await;
        }
        let error = supervisor.start_child(spec).await.unwrap_err();
        assert_eq!(error.start_panic(), Some(expected), "{error:?}");
    }
    assert!(supervisor.is_alive());
    assert_eq!(super::support::ids(&supervisor).await, ["a"]);
    journal.assert_quiet();
}

#[tokio::test(start_paused = true)]
async fn a_restart_whose_start_panics_is_retried_and_the_supervisor_survives() {
    let mut journal = Journal::new();
    // Start 0 works; restarts 1 (inside its future) and 2 (in its body)
    // panic; restart 3 works: three restarts, within the default intensity.
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(panicking(&journal, "a", &[1, 2]));
    let supervisor = Supervisor::start(spec).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    crash(&supervisor, "a").await;
    assert_eq!(journal.next(1).await, started(&["a"]));
    assert!(supervisor.is_alive());
    super::support::worker(&supervisor, "a")
        .await
        .call(super::support::Ask::Ping, PATIENCE)
        .await
        .unwrap();
}

async fn pool(spec: DynamicSpec<Args>) -> DynamicSupervisorRef<Args> {
    DynamicSupervisorRef::start(spec.max_children(1))
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_panicking_dynamic_start_is_an_error_and_gives_its_slot_back() {
    let mut journal = Journal::new();
    let pool = pool(failing_starts(tokio::sync::mpsc::unbounded_channel().0)).await;
    let error = pool.start_child(journal.args("panics")).await.unwrap_err();
    assert_eq!(
        error.start_panic(),
        Some("dynamic start panicked"),
        "{error:?}"
    );
    assert!(pool.is_alive());
    // max_children is 1: the panicked start's slot is free again.
    pool.start_child(journal.args("a")).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
}

/// A dynamic spec whose start panics for id `panics`, never finishes for
/// id `hangs` (saying so on `entered` first), and starts a worker otherwise.
fn failing_starts(entered: tokio::sync::mpsc::UnboundedSender<()>) -> DynamicSpec<Args> {
    DynamicSpec::new(move |args: Args| {
        let entered = entered.clone();
        async move {
            assert!(args.id != "panics", "dynamic start panicked");
            if args.id == "hangs" {
                let _ = entered.send(());
                std::future::pending::<()>().await;
            }
            let (worker, _) = start_with::<Worker>(args, ActorOptions::new()).await?;
            Ok::<_, StartError>(worker.process_ref())
        }
    })
}

/// Starts a `hangs` child of `pool`, waits until its start runs, runs
/// `meanwhile`, and then drops the start future: a cancelled start.
async fn cancel_a_start<F: Future<Output = ()>>(
    pool: &DynamicSupervisorRef<Args>,
    journal: &Journal,
    entered: &mut tokio::sync::mpsc::UnboundedReceiver<()>,
    meanwhile: impl FnOnce() -> F,
) {
    let start = pool.start_child(journal.args("hangs"));
    tokio::pin!(start);
    tokio::select! {
        _ = &mut start => panic!("the hanging start finished"),
        _ = entered.recv() => {}
    }
    meanwhile().await;
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_dynamic_start_gives_its_slot_back() {
    let mut journal = Journal::new();
    let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let pool = pool(failing_starts(entered)).await;
    cancel_a_start(&pool, &journal, &mut entered_rx, || async {
        // Full while the start runs.
        assert!(matches!(
            pool.start_child(journal.args("b")).await,
            Err(SupervisorError::MaxChildren(1))
        ));
    })
    .await;
    pool.start_child(journal.args("a")).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
}

/// Without `max_children` a pool counts no slots: a cancelled start and a
/// panicking one must still leave nothing behind (no entry, no refusal of
/// later starts), and a shut-down pool must still refuse starts.
#[tokio::test(start_paused = true)]
async fn a_pool_without_max_children_forgets_failed_starts_and_refuses_once_shut_down() {
    let mut journal = Journal::new();
    let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let pool = DynamicSupervisorRef::start(failing_starts(entered))
        .await
        .unwrap();
    cancel_a_start(&pool, &journal, &mut entered_rx, || async {}).await;
    let error = pool.start_child(journal.args("panics")).await.unwrap_err();
    assert_eq!(
        error.start_panic(),
        Some("dynamic start panicked"),
        "{error:?}"
    );
    assert_eq!(pool.count_children().specs, 0, "nothing registered");

    pool.start_child(journal.args("a")).await.unwrap();
    pool.start_child(journal.args("b")).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "b"]));
    let counts = pool.count_children();
    assert_eq!((counts.specs, counts.active), (2, 2));

    pool.shutdown(PATIENCE).await.unwrap();
    assert!(matches!(
        pool.start_child(journal.args("late")).await,
        Err(SupervisorError::Exited(_))
    ));
}
