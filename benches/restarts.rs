//! The `supervision` bench's workloads for Foundation: a child that panics
//! on order under a one-for-one supervisor, and one restart timed from the
//! crash order to the restarted child's answer; and the same child started
//! many times, plainly or by a dynamic supervisor. Shared with the
//! `instructions` example, which counts them.

use std::time::{Duration, Instant};

use foundation_mailbox::{Actor, ActorRef, Context, ExitReason, Reply, start};
use foundation_supervisor::{
    ChildSpec, DynamicSpec, DynamicSupervisorRef, Intensity, Strategy, Supervisor, SupervisorRef,
    SupervisorSpec,
};

const PATIENCE: Duration = Duration::from_secs(60);

/// A worker that answers a ping and panics when told to.
#[derive(Debug)]
pub struct Fragile;

/// What a [`Fragile`] worker is told.
#[derive(Debug)]
pub enum Order {
    /// Panic.
    Crash,
    /// Answer.
    Ping(Reply<()>),
}

impl Actor for Fragile {
    type Args = ();
    type Msg = Order;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Fragile)
    }

    async fn handle(&mut self, order: Order, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match order {
            Order::Crash => panic!("crash on purpose"),
            Order::Ping(reply) => reply.send(()).unwrap_or_default(),
        }
        Ok(())
    }
}

/// A one-for-one supervisor of one [`Fragile`] child, `"fragile"`, with no
/// restart limit (the benchmark restarts far more often than 3 in 5 s).
pub async fn start_tree() -> SupervisorRef {
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(u32::MAX, Duration::from_secs(1)))
        .child(ChildSpec::actor::<Fragile>("fragile", ()));
    Supervisor::start(spec).await.expect("tree starts")
}

fn current(tree: &SupervisorRef) -> Option<ActorRef<Fragile>> {
    tree.whereis("fragile")
        .and_then(|process| process.downcast::<Fragile>())
}

/// One restart: crash the child, then look the new one up by its id (no
/// round trip) and wait for its answer.
pub async fn restart(tree: &SupervisorRef) -> Duration {
    let child = current(tree).expect("the fragile child is running");
    let started = Instant::now();
    child
        .try_cast(Order::Crash)
        .expect("the child takes the crash order");
    loop {
        // Until the supervisor has handled the crash, the directory still
        // names the old child: let it run, then look again.
        match current(tree) {
            Some(next) if next.pid() != child.pid() => {
                if next.call(Order::Ping, PATIENCE).await.is_ok() {
                    return started.elapsed();
                }
            }
            _ => tokio::task::yield_now().await,
        }
    }
}

/// Starts `children` [`Fragile`] actors one after another, then stops them;
/// returns how long the starts took.
pub async fn plain_starts(children: usize) -> Duration {
    let mut actors = Vec::with_capacity(children);
    let started = Instant::now();
    for _ in 0..children {
        actors.push(start::<Fragile>(()).await.expect("starts"));
    }
    let took = started.elapsed();
    for (actor, _handle) in actors {
        let _ = actor.stop(ExitReason::shutdown(), PATIENCE).await;
    }
    took
}

/// Starts `children` [`Fragile`] children of a new dynamic supervisor one
/// after another, then shuts it down; returns how long the starts took.
pub async fn dynamic_starts(children: usize) -> Duration {
    let pool = DynamicSupervisorRef::start(DynamicSpec::actor::<Fragile>())
        .await
        .expect("the pool starts");
    let started = Instant::now();
    for _ in 0..children {
        pool.start_child(()).await.expect("a child starts");
    }
    let took = started.elapsed();
    pool.shutdown(PATIENCE).await.expect("the pool stops");
    took
}

/// kameo's side of the restart workload: a child under kameo's built-in
/// supervision, restarted in place.
pub mod kameo {
    use kameo::{
        Actor,
        actor::{ActorRef, Spawn},
        error::Infallible,
        message::{Context, Message},
        supervision::{RestartPolicy, SupervisionStrategy},
    };

    /// kameo's supervisor: spawns one supervised fragile child.
    #[derive(Debug)]
    pub struct Parent;

    impl Actor for Parent {
        type Args = ();
        type Error = Infallible;

        fn supervision_strategy() -> SupervisionStrategy {
            SupervisionStrategy::OneForOne
        }

        async fn on_start((): (), _: ActorRef<Self>) -> Result<Self, Infallible> {
            Ok(Parent)
        }
    }

    /// The supervised child: answers a ping, panics on a crash order.
    #[derive(Debug, Clone)]
    pub struct Fragile;

    impl Actor for Fragile {
        type Args = Self;
        type Error = Infallible;

        async fn on_start(state: Self, _: ActorRef<Self>) -> Result<Self, Infallible> {
            Ok(state)
        }
    }

    /// Panic.
    #[derive(Debug)]
    pub struct Crash;
    /// Answer.
    #[derive(Debug)]
    pub struct Ping;

    impl Message<Crash> for Fragile {
        type Reply = ();

        async fn handle(&mut self, _: Crash, _: &mut Context<Self, ()>) {
            panic!("crash on purpose");
        }
    }

    impl Message<Ping> for Fragile {
        type Reply = ();

        async fn handle(&mut self, _: Ping, _: &mut Context<Self, ()>) {}
    }

    /// A supervisor with one fragile child, restarted without limit.
    pub async fn start() -> (ActorRef<Parent>, ActorRef<Fragile>) {
        let parent = Parent::spawn(());
        let child = Fragile::supervise(&parent, Fragile)
            .restart_policy(RestartPolicy::Permanent)
            .restart_limit(u32::MAX, std::time::Duration::from_secs(1))
            .spawn()
            .await;
        (parent, child)
    }

    /// One restart: kameo keeps the child's reference across restarts, so
    /// the request queues behind the crash and the restarted child answers.
    pub async fn restart(child: &ActorRef<Fragile>) -> std::time::Duration {
        let started = std::time::Instant::now();
        child
            .tell(Crash)
            .await
            .expect("the child takes the crash order");
        loop {
            if child.ask(Ping).await.is_ok() {
                return started.elapsed();
            }
        }
    }

    /// Stops the supervisor, and with it the child.
    pub async fn stop(parent: ActorRef<Parent>) {
        let _ = parent.stop_gracefully().await;
        parent.wait_for_shutdown().await;
    }
}
