//! Supervisor integration: a persistent actor that panics is restarted by its supervisor with its saved state.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{Context, ExitReason, Reply};
use foundation_persistence::{
    MemoryStore, Persistence, Persistent, PersistentActor, PersistentCallError, PersistentRef,
    SavePolicy, Tracked, start,
};
use foundation_supervisor::{
    ChildSpec, Restart, Strategy, Supervisor, SupervisorRef, SupervisorSpec,
};
use serde::{Deserialize, Serialize};

const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, Serialize, Deserialize)]
struct Tally {
    total: u64,
    /// Appended on every add: a state with structure, recovered whole.
    history: Vec<u64>,
}

/// What the tally is asked; every request answers with the tally.
#[derive(Debug)]
enum Request {
    Add(u64),
    Read,
    Crash,
}

#[derive(Debug)]
struct Ask(Request, Reply<(u64, Vec<u64>)>);

fn ask(request: Request) -> impl FnOnce(Reply<(u64, Vec<u64>)>) -> Ask {
    move |reply| Ask(request, reply)
}

impl PersistentActor for Tally {
    type Args = ();
    type Msg = Ask;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Tally {
            total: 0,
            history: Vec::new(),
        })
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        Ask(request, reply): Ask,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        match request {
            Request::Add(add) => {
                state.total += add;
                state.history.push(add);
            }
            Request::Read => {}
            Request::Crash => {
                // Half-updated state at the panic: it must not survive.
                state.total = 999;
                panic!("tally crashed on purpose");
            }
        }
        reply
            .send((state.total, state.history.clone()))
            .unwrap_or_default();
        Ok(())
    }
}

async fn current(tree: &SupervisorRef) -> PersistentRef<Tally> {
    let process = tree
        .child("tally")
        .await
        .unwrap()
        .expect("the tally is running");
    PersistentRef::from(
        process
            .downcast::<Persistent<Tally>>()
            .expect("the child is a Tally"),
    )
}

#[tokio::test]
async fn a_panicking_persistent_actor_is_restarted_with_its_saved_state() {
    for policy in [
        SavePolicy::WriteThrough,
        SavePolicy::Batched {
            every: 1,
            within: PATIENCE,
        },
    ] {
        let store = MemoryStore::new();
        let persistence = Persistence::new(store.clone(), Arc::<str>::from("tally")).policy(policy);
        let spec = SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::persistent::<Tally>(
            "tally",
            (),
            persistence,
        ));
        let tree = Supervisor::start(spec).await.unwrap();

        let tally = current(&tree).await;
        tally.call(ask(Request::Add(2)), PATIENCE).await.unwrap();
        tally.call(ask(Request::Add(3)), PATIENCE).await.unwrap();
        if let SavePolicy::Batched { .. } = policy {
            // A batch of one saves in the background: wait until it is durable.
            tally.save(PATIENCE).await.unwrap();
        }
        let crashed = tally.call(ask(Request::Crash), PATIENCE).await;
        assert!(crashed.is_err(), "{policy:?}");
        assert!(tally.wait_for_exit(PATIENCE).await.unwrap().is_panic());

        // The supervisor handled the exit before it answers this call.
        let restarted = current(&tree).await;
        assert_ne!(
            restarted.pid(),
            tally.pid(),
            "{policy:?}: a new incarnation"
        );
        assert_eq!(
            restarted.call(ask(Request::Read), PATIENCE).await.unwrap(),
            (5, vec![2, 3]),
            "{policy:?}: exactly the saved state, not the half-updated one"
        );
        tree.shutdown(PATIENCE).await.unwrap();
    }
}

#[tokio::test]
async fn a_fenced_transient_child_is_stopped_not_restarted() {
    let store = MemoryStore::new();
    let persistence = Persistence::new(store.clone(), Arc::<str>::from("tally"));
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(
        ChildSpec::persistent::<Tally>("tally", (), persistence).restart(Restart::Transient),
    );
    let tree = Supervisor::start(spec).await.unwrap();
    let tally = current(&tree).await;
    tally.call(ask(Request::Add(1)), PATIENCE).await.unwrap();

    // Another incarnation (another node, in production) takes the key over.
    let (owner, _owner) = start::<Tally>((), Persistence::new(store.clone(), "tally"))
        .await
        .unwrap();
    owner.call(ask(Request::Add(10)), PATIENCE).await.unwrap();

    let error = tally
        .call(ask(Request::Add(2)), PATIENCE)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, PersistentCallError::Save(save) if save.is_conflict()),
        "{error:?}"
    );
    let reason = tally.wait_for_exit(PATIENCE).await.unwrap();
    assert!(
        matches!(&reason, ExitReason::Shutdown(Some(why)) if why.contains("fenced")),
        "{reason:?}"
    );
    // The supervisor handled the exit before it answers this call: the
    // transient child stays down.
    assert!(tree.child("tally").await.unwrap().is_none());
    assert_eq!(
        owner.call(ask(Request::Read), PATIENCE).await.unwrap(),
        (11, vec![1, 10]),
        "no write of the owner was overwritten"
    );
    tree.shutdown(PATIENCE).await.unwrap();
}
