//! A little of everything Foundation counts: a rate limiter admitting and
//! denying, a mailbox dropping on overflow (dead letters), a supervised
//! child crashing and restarting, and a monitor made and cleaned.

use std::time::Duration;

use foundation::{
    mailbox::{Actor, ActorOptions, Context, Overflow, Reply, start_with},
    monitor_manager::MonitorManager,
    persistence::{MemoryStore, Persistence, Persistent, PersistentActor, Tracked},
    rate_limiter::{Config, Registry},
    supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec},
};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Crashes on request; otherwise answers.
#[derive(Debug)]
pub(crate) struct Worker;

#[derive(Debug)]
pub(crate) enum Msg {
    Ping(Reply<()>),
    Crash(Reply<()>),
    Slow,
}

impl Actor for Worker {
    type Args = ();
    type Msg = Msg;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker)
    }

    async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            Msg::Ping(reply) => reply.send(()).unwrap_or_default(),
            Msg::Crash(_reply) => panic!("crashed on request"),
            Msg::Slow => {}
        }
        Ok(())
    }
}

/// A counter whose state is saved after each change.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Saved(u64);

impl PersistentActor for Saved {
    type Args = ();
    type Msg = Reply<u64>;
    type Error = std::convert::Infallible;

    async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Saved(0))
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        reply: Reply<u64>,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        state.0 += 1;
        reply.send(state.0).unwrap_or_default();
        Ok(())
    }
}

/// Runs the workload. The recorder must be installed first: the rate
/// limiter resolves its counters when it is made.
pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // Two admitted, one denied.
    let limiters = Registry::<String>::new();
    limiters.register("api", Config::fixed_window(2, Duration::from_secs(60)))?;
    for _ in 0..3 {
        limiters.check("api", "alice")?;
    }

    // A mailbox of one that drops the newest: of three casts sent while it
    // has no chance to run, one waits and two are dropped. The kill then
    // makes the waiting one a dead letter too.
    let (worker, handle) = start_with::<Worker>(
        (),
        ActorOptions::new()
            .capacity(1)
            .overflow(Overflow::DropNewest),
    )
    .await?;
    for _ in 0..3 {
        worker.try_cast(Msg::Slow)?;
    }
    handle.kill();
    handle.wait(TIMEOUT).await?;

    // One crash, one restart.
    let spec =
        SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ()));
    let supervisor = Supervisor::start(spec).await?;
    let child = supervisor.child_ref::<Worker>("worker")?;
    child
        .call(Msg::Crash, TIMEOUT)
        .await
        .err()
        .ok_or("it did not crash")?;
    child.call(Msg::Ping, TIMEOUT).await?;
    supervisor.shutdown(TIMEOUT).await?;

    // Two changes of a persistent actor: two saves, each timed.
    let (saved, _saved_handle) =
        foundation::persistence::start::<Saved>((), Persistence::new(MemoryStore::new(), "saved"))
            .await?;
    for _ in 0..2 {
        saved.call(|reply| reply, TIMEOUT).await?;
    }

    // A monitor made, and cleaned by its guard's drop.
    let monitors = MonitorManager::new();
    let (watcher, _watcher_handle) = start_with::<Worker>((), ActorOptions::new()).await?;
    let (target, _target_handle) = start_with::<Worker>((), ActorOptions::new()).await?;
    drop(monitors.monitor(&watcher.process_ref(), &target.process_ref(), "example"));
    Ok(())
}
