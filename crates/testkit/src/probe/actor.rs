//! The probe's process: a real actor that forwards what it receives to the test's side of the probe.

use std::fmt;

use foundation_mailbox::{Actor, Context, Down, ExitReason, Pid, SystemMessage};
use tokio::sync::mpsc;

/// One thing a [`Probe`](crate::Probe) received, in arrival order.
#[derive(Clone, PartialEq)]
pub enum Observed<M> {
    /// A message sent to the probe by the code under test.
    Message(M),
    /// A process the probe [watches](crate::Probe::watch) exited.
    Down(Down),
    /// A process the probe is [linked](crate::Probe::link) to exited; the
    /// probe traps exits, so the signal arrives as this.
    Exit {
        /// The process that exited.
        from: Pid,
        /// Why it exited.
        reason: ExitReason,
    },
}

impl<M: fmt::Debug> fmt::Debug for Observed<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(message) => message.fmt(f),
            Self::Down(down) => write!(f, "DOWN from {} ({})", down.pid, down.reason),
            Self::Exit { from, reason } => write!(f, "EXIT from {from} ({reason})"),
        }
    }
}

/// The actor behind a [`Probe`](crate::Probe). Tests never start it
/// themselves; its type shows up only in
/// [`Probe::actor_ref`](crate::Probe::actor_ref), for code under test that
/// wants an `ActorRef` rather than a [`Recipient`](foundation_mailbox::Recipient).
pub struct ProbeActor<M> {
    to_test: mpsc::Sender<Observed<M>>,
}

impl<M> fmt::Debug for ProbeActor<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeActor")
            .field("test_side_open", &!self.to_test.is_closed())
            .finish()
    }
}

impl<M> ProbeActor<M> {
    /// Hands `observed` to the test. Waiting when the test's side is full
    /// is the probe's backpressure: its own mailbox then fills, and the code
    /// under test sees a full mailbox. When the test dropped its side, the
    /// probe stops with a shutdown reason, so anything watching it gets a
    /// DOWN.
    async fn forward(&mut self, observed: Observed<M>, ctx: &mut Context<Self>)
    where
        M: Send + 'static,
    {
        if self.to_test.send(observed).await.is_err() {
            ctx.stop(ExitReason::shutdown_because("probe dropped"));
        }
    }
}

impl<M: Send + 'static> Actor for ProbeActor<M> {
    type Args = mpsc::Sender<Observed<M>>;
    type Msg = M;
    type Error = std::convert::Infallible;

    async fn init(to_test: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        // Links deliver their exit signals to the probe as messages, so a
        // test can expect them instead of the probe dying with them.
        ctx.trap_exits(true);
        Ok(Self { to_test })
    }

    async fn handle(&mut self, message: M, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        self.forward(Observed::Message(message), ctx).await;
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let observed = match message {
            SystemMessage::Down(down) => Observed::Down(down),
            SystemMessage::Exit { from, reason } if from == ctx.pid() => {
                // The probe's own side asked it to end (see `Probe`'s Drop).
                ctx.stop(reason);
                return Ok(());
            }
            SystemMessage::Exit { from, reason } => Observed::Exit { from, reason },
        };
        self.forward(observed, ctx).await;
        Ok(())
    }
}
