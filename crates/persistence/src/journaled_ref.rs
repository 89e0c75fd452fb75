//! [`JournaledRef`] and [`start_journaled`]: how the rest of the program starts and talks to an event-sourced actor.

use std::{fmt, time::Duration};

use foundation_mailbox::{
    ActorHandle, ActorRef, ExitReason, Pid, ProcessRef, Reply, SendError, StartError, StopError,
    WaitTimeout, start_with,
};

use crate::{
    EventSourced, Journaled, JournaledArgs, Journaling, PersistentCallError,
    message::PersistentMsg,
    persistent_ref::{call_hosted, request_hosted},
};

/// Starts `A` recovered from `journaling`'s journal (latest snapshot, then
/// the events after it) and waits until it is ready: no command is ever
/// handled against a half-recovered state.
///
/// Fails with [`StartError::InvalidOptions`] for an invalid snapshot
/// policy, and with [`StartError::Init`] when recovery fails; the exit
/// reason's cause is a [`PersistentError::Recover`](crate::PersistentError::Recover)
/// naming the actor id and, for a damaged event, its sequence number.
pub async fn start_journaled<A: EventSourced>(
    args: A::Args,
    journaling: Journaling,
) -> Result<(JournaledRef<A>, ActorHandle), StartError> {
    journaling
        .snapshots
        .check()
        .map_err(StartError::InvalidOptions)?;
    let options = journaling.options.clone();
    let (actor, handle) =
        start_with::<Journaled<A>>(JournaledArgs::new(args, journaling), options).await?;
    Ok((JournaledRef { actor }, handle))
}

/// A reference to a running event-sourced actor: its commands in and
/// replies out, each answer released once the events behind it are durable.
///
/// Get one from [`start_journaled`], or wrap an `ActorRef<Journaled<A>>`
/// (say, one a supervisor handed out) with [`JournaledRef::from`].
pub struct JournaledRef<A: EventSourced> {
    actor: ActorRef<Journaled<A>>,
}

impl<A: EventSourced> Clone for JournaledRef<A> {
    fn clone(&self) -> Self {
        Self {
            actor: self.actor.clone(),
        }
    }
}

impl<A: EventSourced> fmt::Debug for JournaledRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("JournaledRef")
            .field(&self.actor.pid())
            .finish()
    }
}

impl<A: EventSourced> From<ActorRef<Journaled<A>>> for JournaledRef<A> {
    fn from(actor: ActorRef<Journaled<A>>) -> Self {
        Self { actor }
    }
}

impl<A: EventSourced> JournaledRef<A> {
    /// The actor's pid.
    pub fn pid(&self) -> Pid {
        self.actor.pid()
    }

    /// The underlying actor reference.
    pub fn actor_ref(&self) -> &ActorRef<Journaled<A>> {
        &self.actor
    }

    /// This actor as a type-erased process reference.
    pub fn process_ref(&self) -> ProcessRef {
        self.actor.process_ref()
    }

    /// Whether the actor still accepts messages.
    pub fn is_alive(&self) -> bool {
        self.actor.is_alive()
    }

    /// Sends a command, waiting for room (backpressure). Its events are
    /// written before the next message is handled.
    pub async fn cast(&self, message: A::Msg) -> Result<(), SendError<A::Msg>> {
        self.actor.cast_from(message).await
    }

    /// Sends a command without waiting; a full mailbox gives it back.
    pub fn try_cast(&self, message: A::Msg) -> Result<(), SendError<A::Msg>> {
        self.actor.try_cast_from(message)
    }

    /// Sends a command built around a [`Reply`] port and waits up to
    /// `timeout` for the answer, released only once the events the command
    /// emitted are durable (at once, if it emitted none). A failed append
    /// crashes the actor and is [`PersistentCallError::Save`] here.
    ///
    /// Cancel-safe as a wait: dropping the future abandons the answer, but
    /// a command already delivered is still handled and its events written.
    pub async fn call<R: Send + 'static>(
        &self,
        request: impl FnOnce(Reply<R>) -> A::Msg,
        timeout: Duration,
    ) -> Result<R, PersistentCallError<A::Msg>> {
        call_hosted(&self.actor, request, timeout).await
    }

    /// Writes a snapshot of the state now (compacting the journal behind
    /// it) and waits up to `timeout` until it is durable. A failed snapshot
    /// loses nothing and leaves the actor running.
    pub async fn snapshot(&self, timeout: Duration) -> Result<(), PersistentCallError<()>> {
        request_hosted(&self.actor, PersistentMsg::save, timeout)
            .await
            .map_err(|error| error.map_message(drop))
    }

    /// Stops the actor: it finishes its message, runs `terminate` and
    /// exits with `reason`; killed if not gone within `timeout`.
    pub async fn stop(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        self.actor.stop(reason, timeout).await
    }

    /// Kills the actor: every event already acknowledged is durable.
    pub fn kill(&self) -> bool {
        self.actor.kill()
    }

    /// Waits up to `timeout` for the actor to exit and returns why it did.
    pub async fn wait_for_exit(&self, timeout: Duration) -> Result<ExitReason, WaitTimeout> {
        self.actor.wait_for_exit(timeout).await
    }
}
