//! The test actors (kept few and small, in one place) and helpers.

use std::{
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use foundation_mailbox::{
    Actor, ActorOptions, ActorRef, Context, DeadLetter, DeadLetterSink, Recipient, Reply,
    start_with,
};
use foundation_monitor_manager::MonitorManager;
use foundation_signal_router::{RouterOptions, Signal, SignalRouter};
use foundation_supervisor::{Strategy, Supervisor, SupervisorRef, SupervisorSpec};
use tokio::sync::{Semaphore, mpsc};

/// How long a test waits for something that should happen promptly.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// The payload whose conversion into [`Seen`] panics.
pub(crate) const POISON: u32 = 666;

/// What a collector handles: a signal, converted on the publisher's side,
/// or a request to answer once everything before it was handled.
#[derive(Debug)]
pub(crate) enum Seen {
    Signal(String, u32),
    Synced(Reply<()>),
}

impl From<Signal<u32>> for Seen {
    fn from(signal: Signal<u32>) -> Seen {
        let (topic, payload) = signal.into_parts();
        assert_ne!(payload, POISON, "poisoned payload");
        Seen::Signal(topic.to_string(), payload)
    }
}

/// Reports every signal it handles to the test; may then wait at a gate.
#[derive(Debug)]
pub(crate) struct Collector {
    seen: mpsc::Sender<(String, u32)>,
    gate: Option<Arc<Semaphore>>,
}

impl Actor for Collector {
    type Args = (mpsc::Sender<(String, u32)>, Option<Arc<Semaphore>>);
    type Msg = Seen;
    type Error = Infallible;

    async fn init((seen, gate): Self::Args, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Collector { seen, gate })
    }

    async fn handle(&mut self, seen: Seen, _: &mut Context<Self>) -> Result<(), Self::Error> {
        let (topic, payload) = match seen {
            Seen::Signal(topic, payload) => (topic, payload),
            Seen::Synced(reply) => {
                reply.send(()).unwrap_or_default();
                return Ok(());
            }
        };
        // Reported on entry, so a test knows a gated collector holds the
        // signal; the test may have stopped listening, that is its business.
        let _ = self.seen.send((topic, payload)).await;
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("the gate stays open").forget();
        }
        Ok(())
    }
}

/// A payload whose clone panics for [`POISON`].
#[derive(Debug)]
pub(crate) struct Fragile(pub(crate) u32);

impl Clone for Fragile {
    fn clone(&self) -> Self {
        assert_ne!(self.0, POISON, "cannot clone a poisoned payload");
        Fragile(self.0)
    }
}

/// Takes signals of [`Fragile`] and does nothing with them.
#[derive(Debug)]
pub(crate) struct FragileSink;

impl Actor for FragileSink {
    type Args = ();
    type Msg = Signal<Fragile>;
    type Error = Infallible;

    async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(FragileSink)
    }

    async fn handle(
        &mut self,
        _: Signal<Fragile>,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A collector and what it saw.
#[derive(Debug)]
pub(crate) struct Probe {
    pub(crate) actor: ActorRef<Collector>,
    seen: mpsc::Receiver<(String, u32)>,
}

impl Probe {
    pub(crate) async fn start() -> Self {
        Self::start_with(ActorOptions::new(), None).await
    }

    pub(crate) async fn start_with(options: ActorOptions, gate: Option<Arc<Semaphore>>) -> Self {
        let (sender, seen) = mpsc::channel(4096);
        let (actor, _handle) = start_with::<Collector>((sender, gate), options)
            .await
            .expect("a collector starts");
        Self { actor, seen }
    }

    pub(crate) fn recipient(&self) -> Recipient<Signal<u32>> {
        self.actor.recipient()
    }

    /// The next signal it handled.
    pub(crate) async fn next(&mut self) -> (String, u32) {
        match tokio::time::timeout(PATIENCE, self.seen.recv()).await {
            Ok(Some(seen)) => seen,
            Ok(None) => panic!("the collector is gone"),
            Err(_) => panic!("no signal within {PATIENCE:?}"),
        }
    }

    /// Waits until the collector has handled everything sent before now
    /// (a call is queued behind the casts), then takes what it saw.
    pub(crate) async fn drain(&mut self) -> Vec<(String, u32)> {
        self.actor
            .call(Seen::Synced, PATIENCE)
            .await
            .expect("the collector answers");
        let mut seen = Vec::new();
        while let Ok(item) = self.seen.try_recv() {
            seen.push(item);
        }
        seen
    }
}

/// Keeps the dead letters it is given.
#[derive(Debug, Default)]
pub(crate) struct Keep(pub(crate) Mutex<Vec<DeadLetter>>);

impl DeadLetterSink for Keep {
    fn dead_letter(&self, letter: DeadLetter) {
        self.0.lock().expect("not poisoned").push(letter);
    }
}

/// A router with its own monitor registry, and no router process.
pub(crate) fn bare_router() -> (SignalRouter<u32>, MonitorManager) {
    let monitors = MonitorManager::new();
    let router = SignalRouter::with_options(RouterOptions::new().monitors(monitors.clone()));
    (router, monitors)
}

/// A router whose process runs under a supervisor (child id `router`).
pub(crate) async fn supervised_router() -> (SignalRouter<u32>, MonitorManager, SupervisorRef) {
    supervised_router_with(RouterOptions::new()).await
}

/// The same with `options` (their monitor registry replaced by a new one).
pub(crate) async fn supervised_router_with(
    options: RouterOptions,
) -> (SignalRouter<u32>, MonitorManager, SupervisorRef) {
    let monitors = MonitorManager::new();
    let router = SignalRouter::with_options(options.monitors(monitors.clone()));
    let tree = Supervisor::start(
        SupervisorSpec::new(Strategy::OneForOne).child(router.child_spec("router")),
    )
    .await
    .expect("the tree starts");
    (router, monitors, tree)
}

pub(crate) fn signal(topic: &str, payload: u32) -> Signal<u32> {
    Signal::parse(topic, payload).expect("a valid topic")
}

/// Waits until `condition` holds (the test kit's bounded `wait_for`); fails after `PATIENCE`.
pub(crate) async fn eventually(what: &str, condition: impl FnMut() -> bool) {
    if let Err(not_met) = foundation_testkit::wait_for(condition, PATIENCE).await {
        panic!("{what}: {not_met}");
    }
}
