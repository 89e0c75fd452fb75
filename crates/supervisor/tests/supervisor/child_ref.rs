//! A child reference follows its child's restarts: a call while the child
//! restarts waits for the new incarnation or fails with `Restarting`, no
//! call reaches an incarnation its supervisor has seen exit, and a type
//! mismatch is an error.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{ActorOptions, Context, ProcessRef, Reply, StartError, start_with};
use foundation_supervisor::{
    ChildCallError, ChildRef, ChildRefError, ChildSendError, ChildSpec, Intensity, Strategy,
    Supervisor, SupervisorRef, SupervisorSpec,
};
use tokio::sync::{Semaphore, mpsc};

use super::support::{Args, Ask, Journal, PATIENCE, Worker, started};

/// Room for many restarts.
const PLENTY: Intensity = Intensity::new(1_000, Duration::from_secs(3_600));

/// A child whose first start is immediate and whose every restart reports
/// that it began (so the supervisor has seen the exit) and then waits for
/// a permit.
#[derive(Clone, Debug)]
struct SlowRestart {
    starts: Arc<AtomicU32>,
    begun: mpsc::UnboundedSender<()>,
    gate: Arc<Semaphore>,
}

impl SlowRestart {
    fn new() -> (Self, mpsc::UnboundedReceiver<()>) {
        let (begun, receiver) = mpsc::unbounded_channel();
        let slow = Self {
            starts: Arc::new(AtomicU32::new(0)),
            begun,
            gate: Arc::new(Semaphore::new(0)),
        };
        (slow, receiver)
    }

    fn spec(&self, args: Args) -> ChildSpec {
        let slow = self.clone();
        ChildSpec::worker(args.id, move || {
            let slow = slow.clone();
            let args = args.clone();
            async move {
                if slow.starts.fetch_add(1, Ordering::SeqCst) > 0 {
                    let _ = slow.begun.send(());
                    slow.gate.acquire().await.expect("gate open").forget();
                }
                let (worker, _) = start_with::<Worker>(args, ActorOptions::new()).await?;
                Ok::<_, StartError>(worker.process_ref())
            }
        })
    }
}

async fn tree(spec: ChildSpec) -> SupervisorRef {
    Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne)
            .intensity(PLENTY)
            .child(spec),
    )
    .await
    .expect("tree starts")
}

#[tokio::test(start_paused = true)]
async fn a_call_racing_a_crash_reaches_the_restarted_child() {
    let mut journal = Journal::new();
    let tree = tree(journal.worker("a")).await;
    let child = tree.child_ref::<Worker>("a").unwrap();
    assert_eq!(journal.next(1).await, started(&["a"]));
    for _ in 0..20 {
        let old = child.current().expect("running");
        // The incarnation dies; the call is made before the supervisor can
        // have run to see it (one thread, and no await in between).
        assert!(old.kill());
        let reply = child.call(Ask::Ping, PATIENCE).await;
        assert_eq!(reply.unwrap(), "a");
        let new = child.current().expect("restarted");
        assert_ne!(new.pid(), old.pid(), "answered by the new incarnation");
        assert!(!old.is_alive());
        assert_eq!(journal.next(1).await, started(&["a"]));
    }
    // And the other way round: the crash and the call race in one select.
    let old = child.current().unwrap();
    let (crashed, reply) = tokio::join!(
        child.call(Ask::Crash, PATIENCE),
        child.call(Ask::Ping, PATIENCE)
    );
    assert!(
        matches!(crashed, Err(ChildCallError::Exited(_))),
        "{crashed:?}"
    );
    // The ping was queued behind the crash in the dying mailbox, or sent
    // to the new incarnation: never answered by a dead one.
    match reply {
        Ok(id) => assert_eq!(id, "a"),
        Err(ChildCallError::Exited(reason)) => assert!(reason.is_panic(), "{reason:?}"),
        Err(other) => panic!("unexpected {other:?}"),
    }
    assert_ne!(child.current().map(|actor| actor.pid()), Some(old.pid()));
}

#[tokio::test(start_paused = true)]
async fn a_call_during_a_slow_restart_waits_for_the_new_incarnation_or_fails_restarting() {
    let journal = Journal::new();
    let (slow, mut begun) = SlowRestart::new();
    let tree = tree(slow.spec(journal.args("a"))).await;
    let child = tree.child_ref::<Worker>("a").unwrap();
    let old = child.current().expect("running");
    assert!(matches!(
        child.call(Ask::Crash, PATIENCE).await,
        Err(ChildCallError::Exited(_))
    ));
    // The restart has begun: the supervisor has seen the exit.
    begun.recv().await.unwrap();
    assert!(child.current().is_none());
    assert!(tree.whereis("a").is_none(), "whereis no longer names it");
    // A short call gives its request back as `Restarting`.
    match child.call(Ask::Ping, Duration::from_secs(1)).await {
        Err(ChildCallError::Restarting(Ask::Ping(_))) => {}
        other => panic!("expected Restarting, got {other:?}"),
    }
    // A patient call is answered by the new incarnation once it is up.
    let waiting = child.call(Ask::Ping, PATIENCE);
    let open = async {
        tokio::task::yield_now().await;
        slow.gate.add_permits(1);
    };
    let (reply, ()) = tokio::join!(waiting, open);
    assert_eq!(reply.unwrap(), "a");
    assert_ne!(child.current().unwrap().pid(), old.pid());
}

#[tokio::test(start_paused = true)]
async fn a_restarting_child_whose_supervisor_is_killed_fails_removed_at_once() {
    let journal = Journal::new();
    let (slow, mut begun) = SlowRestart::new();
    let tree = tree(slow.spec(journal.args("a"))).await;
    let child = tree.child_ref::<Worker>("a").unwrap();
    let _ = child.call(Ask::Crash, PATIENCE).await;
    begun.recv().await.unwrap();
    let started = tokio::time::Instant::now();
    let kill = async {
        tokio::task::yield_now().await;
        assert!(tree.process_ref().kill());
    };
    let (reply, ()) = tokio::join!(child.call(Ask::Ping, PATIENCE), kill);
    assert!(
        matches!(reply, Err(ChildCallError::Removed(Ask::Ping(_)))),
        "{reply:?}"
    );
    assert!(started.elapsed() < PATIENCE, "not by the timeout");
}

#[derive(Debug)]
struct Other;

#[derive(Debug)]
enum OtherMsg {
    Poke,
    Ping(Reply<()>),
}

/// A poke is sent as `()`, so a cast that fails gives back a `()` to compare.
impl From<()> for OtherMsg {
    fn from((): ()) -> Self {
        OtherMsg::Poke
    }
}

impl foundation_mailbox::Actor for Other {
    type Args = ();
    type Msg = OtherMsg;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Other)
    }

    async fn handle(
        &mut self,
        message: OtherMsg,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match message {
            OtherMsg::Poke => {}
            OtherMsg::Ping(reply) => reply.send(()).unwrap_or_default(),
        }
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_reference_of_the_wrong_type_is_an_error_not_none() {
    let journal = Journal::new();
    let untyped = ChildSpec::worker("untyped", || async {
        let (other, _) = start_with::<Other>((), ActorOptions::new()).await?;
        Ok::<ProcessRef, StartError>(other.process_ref())
    });
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne)
            .child(journal.worker("typed"))
            .child(untyped),
    )
    .await
    .unwrap();
    // Checked from the spec.
    assert_eq!(
        tree.child_ref::<Other>("typed").unwrap_err(),
        ChildRefError::WrongType {
            id: "typed".into(),
            expected: std::any::type_name::<Other>(),
        }
    );
    // Checked from the running child, for a start function that does not say.
    assert!(matches!(
        tree.child_ref::<Worker>("untyped"),
        Err(ChildRefError::WrongType { .. })
    ));
    tree.child_ref::<Other>("untyped")
        .unwrap()
        .call(OtherMsg::Ping, PATIENCE)
        .await
        .unwrap();
    assert_eq!(
        tree.child_ref::<Worker>("nobody").unwrap_err(),
        ChildRefError::NotFound("nobody".into())
    );
}

#[tokio::test(start_paused = true)]
async fn a_reference_held_across_many_restarts_follows_every_one() {
    let mut journal = Journal::new();
    let tree = tree(journal.worker("a")).await;
    let child = tree.child_ref::<Worker>("a").unwrap();
    let copy = child.clone();
    assert_eq!(journal.next(1).await, started(&["a"]));
    let mut pids = std::collections::HashSet::new();
    for _ in 0..200 {
        pids.insert(child.current().unwrap().pid());
        assert!(matches!(
            child.call(Ask::Crash, PATIENCE).await,
            Err(ChildCallError::Exited(_))
        ));
        assert_eq!(copy.call(Ask::Ping, PATIENCE).await.unwrap(), "a");
        assert_eq!(journal.next(1).await, started(&["a"]));
    }
    pids.insert(child.current().unwrap().pid());
    assert_eq!(pids.len(), 201, "a new incarnation each time");
    // Terminated: not running, until restarted by hand.
    tree.terminate_child("a").await.unwrap();
    assert!(matches!(
        child.call(Ask::Ping, PATIENCE).await,
        Err(ChildCallError::NotRunning(Ask::Ping(_)))
    ));
    tree.restart_child("a").await.unwrap();
    assert_eq!(child.call(Ask::Ping, PATIENCE).await.unwrap(), "a");
    // Deleted, or its supervisor gone: removed.
    tree.terminate_child("a").await.unwrap();
    tree.delete_child("a").await.unwrap();
    assert!(matches!(
        child.call(Ask::Ping, PATIENCE).await,
        Err(ChildCallError::Removed(Ask::Ping(_)))
    ));
    tree.shutdown(PATIENCE).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn casts_follow_restarts_and_try_cast_never_waits() {
    let tree = tree(ChildSpec::actor::<Other>("o", ())).await;
    let child = tree.child_ref::<Other>("o").unwrap();
    child.try_cast(OtherMsg::Poke).unwrap();
    child.cast(OtherMsg::Poke).await.unwrap();
    // Dead, and its supervisor has not run yet: try_cast does not wait.
    let old = child.current().unwrap();
    assert!(old.kill());
    assert_eq!(child.try_cast_from(()), Err(ChildSendError::Restarting(())));
    // cast waits for the next incarnation.
    child.cast(OtherMsg::Poke).await.unwrap();
    assert_ne!(child.current().unwrap().pid(), old.pid());
    tree.terminate_child("o").await.unwrap();
    assert_eq!(child.try_cast_from(()), Err(ChildSendError::NotRunning(())));
    assert_eq!(
        child.cast_from(()).await,
        Err(ChildSendError::NotRunning(()))
    );
    tree.shutdown(PATIENCE).await.unwrap();
    assert_eq!(child.try_cast_from(()), Err(ChildSendError::Removed(())));
}

#[tokio::test(start_paused = true)]
async fn a_request_dropped_unanswered_fails_no_reply_at_once() {
    let journal = Journal::new();
    let tree = tree(journal.worker("a")).await;
    let child = tree.child_ref::<Worker>("a").unwrap();
    let old = child.current().unwrap();
    let started = tokio::time::Instant::now();
    let reply = child.call(Ask::Ignore, PATIENCE).await;
    assert!(matches!(reply, Err(ChildCallError::NoReply)), "{reply:?}");
    assert!(started.elapsed() < PATIENCE, "not by the timeout");
    // The child goes on: the same incarnation answers the next call.
    assert_eq!(child.call(Ask::Ping, PATIENCE).await.unwrap(), "a");
    assert_eq!(child.current().unwrap().pid(), old.pid());
}

/// Asks a child on behalf of its own caller: a call made from inside a
/// handler.
#[derive(Debug)]
struct Relay;

#[derive(Debug)]
struct Ping(ChildRef<Worker>, Reply<Option<&'static str>>);

impl foundation_mailbox::Actor for Relay {
    type Args = ();
    type Msg = Ping;
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Relay)
    }

    async fn handle(
        &mut self,
        Ping(child, reply): Ping,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let answer = child.call(Ask::Ping, PATIENCE).await.ok();
        reply.send(answer).unwrap_or_default();
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_from_inside_a_handler_is_answered_in_time() {
    let journal = Journal::new();
    let tree = tree(journal.worker("a")).await;
    let child = tree.child_ref::<Worker>("a").unwrap();
    let (relay, _handle) = start_with::<Relay>((), ActorOptions::new()).await.unwrap();
    let started = tokio::time::Instant::now();
    let answer = relay
        .call(|reply| Ping(child.clone(), reply), PATIENCE * 2)
        .await
        .unwrap();
    assert_eq!(answer, Some("a"));
    assert!(started.elapsed() < PATIENCE, "not by the timeout");
}
