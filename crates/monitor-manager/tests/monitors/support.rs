//! A probe actor that reports the system messages it handles, and bounded waits.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{
    Actor, ActorOptions, ActorRef, Context, ExitReason, ProcessRef, Reply, SystemMessage,
    start_with,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Long enough never to fire in a passing test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("probe failed on purpose")]
pub(crate) struct ProbeFailed;

#[derive(Debug)]
pub(crate) enum Cast {
    StopWith(ExitReason),
    Panic,
    Fail,
    TrapExits,
    /// Says it entered, then waits for a permit on the gate: while it
    /// waits, the probe takes no system message.
    Hold(oneshot::Sender<()>),
    /// Answers at once: handled after every system message queued before.
    Sync(Reply<()>),
}

/// Reports every system message it handles to its test.
#[derive(Debug)]
pub(crate) struct Probe {
    events: mpsc::Sender<SystemMessage>,
    gate: Arc<Semaphore>,
}

impl Actor for Probe {
    type Args = (mpsc::Sender<SystemMessage>, Arc<Semaphore>);
    type Msg = Cast;
    type Error = ProbeFailed;

    async fn init(
        (events, gate): Self::Args,
        _ctx: &mut Context<Self>,
    ) -> Result<Self, ProbeFailed> {
        Ok(Probe { events, gate })
    }

    async fn handle(&mut self, cast: Cast, ctx: &mut Context<Self>) -> Result<(), ProbeFailed> {
        match cast {
            Cast::StopWith(reason) => ctx.stop(reason),
            Cast::Panic => panic!("probe panicked on purpose"),
            Cast::Fail => return Err(ProbeFailed),
            Cast::TrapExits => ctx.trap_exits(true),
            Cast::Hold(entered) => {
                assert!(entered.send(()).is_ok(), "the test waits for this");
                self.gate
                    .acquire()
                    .await
                    .expect("the gate stays open")
                    .forget();
            }
            Cast::Sync(reply) => reply.send(()).unwrap_or_default(),
        }
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _ctx: &mut Context<Self>,
    ) -> Result<(), ProbeFailed> {
        // A test that stopped listening has finished; nobody to report to.
        let _unheard = self.events.send(message).await;
        Ok(())
    }
}

/// A probe and the test's end of its reports.
#[derive(Debug)]
pub(crate) struct Watched {
    pub(crate) actor: ActorRef<Probe>,
    pub(crate) process: ProcessRef,
    pub(crate) events: mpsc::Receiver<SystemMessage>,
    gate: Arc<Semaphore>,
}

impl Watched {
    pub(crate) async fn start() -> Self {
        Self::start_with(ActorOptions::new()).await
    }

    pub(crate) async fn start_with(options: ActorOptions) -> Self {
        let (sender, events) = mpsc::channel(1024);
        let gate = Arc::new(Semaphore::new(0));
        let (actor, handle) = start_with::<Probe>((sender, gate.clone()), options)
            .await
            .expect("the probe starts");
        Self {
            process: handle.process().clone(),
            actor,
            events,
            gate,
        }
    }

    /// The next system message the probe handled, failing rather than hanging.
    pub(crate) async fn next(&mut self) -> SystemMessage {
        match tokio::time::timeout(PATIENCE, self.events.recv()).await {
            Ok(Some(message)) => message,
            Ok(None) => panic!("probe's event channel closed"),
            Err(_) => panic!("no system message within {PATIENCE:?}"),
        }
    }

    /// Asserts the probe has handled no further system message: a call is
    /// handled after every system message queued before it.
    pub(crate) async fn assert_quiet(&mut self) {
        self.actor
            .call(Cast::Sync, PATIENCE)
            .await
            .expect("the probe answers");
        assert_eq!(self.events.try_recv().ok(), None);
    }

    /// Keeps the probe busy in a handler until [`release`](Self::release),
    /// so it cannot take a DOWN meanwhile: what a drop flushes is then
    /// exactly what it must flush.
    pub(crate) async fn hold(&self) {
        let (entered, inside) = oneshot::channel();
        self.cast(Cast::Hold(entered)).await;
        let inside = tokio::time::timeout(PATIENCE, inside).await;
        assert!(
            matches!(inside, Ok(Ok(()))),
            "the probe entered its handler"
        );
    }

    pub(crate) fn release(&self) {
        self.gate.add_permits(1);
    }

    pub(crate) async fn cast(&self, cast: Cast) {
        self.actor.cast(cast).await.expect("the probe is alive");
    }
}

/// Waits, yielding to the runtime, until `condition` holds; fails after `PATIENCE`.
pub(crate) async fn eventually(what: &str, mut condition: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(PATIENCE, async {
        while !condition() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{what}: not within {PATIENCE:?}");
}
