//! [`PersistentRef`] and [`start`]: how the rest of the program starts and talks to a persistent actor.

use std::{fmt, time::Duration};

use crate::{
    Persistence, Persistent, PersistentActor, PersistentArgs, PersistentCall, PersistentCallError,
    PersistentCast, PersistentError, SaveError,
};
use foundation_mailbox::{
    ActorHandle, ActorRef, CallError, ExitReason, Pid, ProcessRef, SendError, StartError,
    StopError, WaitTimeout, start_with,
};

/// Starts `P` with its state recovered from `persistence`'s store, and
/// waits until it is ready: the saved state (or `init`'s, when there is
/// none) is in place before this returns, so no message is ever handled
/// against anything else.
///
/// Fails with [`StartError::InvalidOptions`] for an invalid policy, and with
/// [`StartError::Init`] when recovery fails; the exit reason's cause is a
/// [`PersistentError::Recover`] naming the key.
pub async fn start<P: PersistentActor>(
    args: P::Args,
    persistence: Persistence,
) -> Result<(PersistentRef<P>, ActorHandle), StartError> {
    persistence
        .policy
        .check()
        .map_err(StartError::InvalidOptions)?;
    let options = persistence.options.clone();
    let (actor, handle) =
        start_with::<Persistent<P>>(PersistentArgs::new(args, persistence), options).await?;
    Ok((PersistentRef { actor }, handle))
}

/// A reference to a running persistent actor: its messages in and replies
/// out, without the saving machinery's envelope.
///
/// Get one from [`start`], or wrap an `ActorRef<Persistent<P>>` (say, one a
/// supervisor handed out) with [`PersistentRef::from`].
pub struct PersistentRef<P: PersistentActor> {
    actor: ActorRef<Persistent<P>>,
}

impl<P: PersistentActor> Clone for PersistentRef<P> {
    fn clone(&self) -> Self {
        Self {
            actor: self.actor.clone(),
        }
    }
}

impl<P: PersistentActor> fmt::Debug for PersistentRef<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PersistentRef")
            .field(&self.actor.pid())
            .finish()
    }
}

impl<P: PersistentActor> From<ActorRef<Persistent<P>>> for PersistentRef<P> {
    fn from(actor: ActorRef<Persistent<P>>) -> Self {
        Self { actor }
    }
}

fn unwrap_message<C>(message: PersistentCast<C>) -> C {
    match message {
        PersistentCast::Message(message) => message,
        // Only `Message` is ever sent through `cast` and `try_cast`, so
        // only `Message` comes back.
        PersistentCast::Flush => unreachable!("a user cast came back as a flush"),
    }
}

fn unwrap_send<C>(error: SendError<PersistentCast<C>>) -> SendError<C> {
    match error {
        SendError::NoProcess(message) => SendError::NoProcess(unwrap_message(message)),
        SendError::Full(message) => SendError::Full(unwrap_message(message)),
    }
}

fn unwrap_request<C>(request: PersistentCall<C>) -> C {
    match request {
        PersistentCall::Message(request) => request,
        // `call` sends only `Message`, so only `Message` comes back to it.
        PersistentCall::Save => unreachable!("a user call came back as a save"),
    }
}

/// A call's error with the undelivered request taken out by `unwrap`.
fn unwrap_call<C, D>(
    error: CallError<PersistentCall<C>>,
    unwrap: impl FnOnce(PersistentCall<C>) -> D,
) -> CallError<D> {
    match error {
        CallError::NoProcess(request) => CallError::NoProcess(unwrap(request)),
        CallError::Full(request) => CallError::Full(unwrap(request)),
        CallError::SendTimeout(request) => CallError::SendTimeout(unwrap(request)),
        CallError::Dropped => CallError::Dropped,
        CallError::Timeout => CallError::Timeout,
        CallError::Exited(reason) => CallError::Exited(reason),
    }
}

/// The save error inside an exit reason, when a failed save crashed the actor.
fn save_error_in<E: std::error::Error + 'static>(reason: &ExitReason) -> Option<SaveError> {
    match reason {
        ExitReason::Error(cause) => match cause.downcast_ref::<PersistentError<E>>()? {
            PersistentError::Save(error) => Some(error.clone()),
            _ => None,
        },
        _ => None,
    }
}

impl<P: PersistentActor> PersistentRef<P> {
    /// The actor's pid.
    pub fn pid(&self) -> Pid {
        self.actor.pid()
    }

    /// The underlying actor reference.
    pub fn actor_ref(&self) -> &ActorRef<Persistent<P>> {
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

    /// Sends a message, waiting for room (backpressure).
    pub async fn cast(&self, message: P::Cast) -> Result<(), SendError<P::Cast>> {
        self.actor
            .cast(PersistentCast::Message(message))
            .await
            .map_err(unwrap_send)
    }

    /// Sends a message without waiting; a full mailbox gives it back.
    pub fn try_cast(&self, message: P::Cast) -> Result<(), SendError<P::Cast>> {
        self.actor
            .try_cast(PersistentCast::Message(message))
            .map_err(unwrap_send)
    }

    /// Sends a request and waits up to `timeout` for the reply. Under
    /// write-through the reply comes only once the change it caused is
    /// durable. A failed save is [`PersistentCallError::Save`], whether it
    /// failed the call ([`OnSaveFailure::FailCall`](crate::OnSaveFailure::FailCall))
    /// or crashed the actor ([`OnSaveFailure::Crash`](crate::OnSaveFailure::Crash)).
    pub async fn call(
        &self,
        request: P::Call,
        timeout: Duration,
    ) -> Result<P::Reply, PersistentCallError<P::Call>> {
        let reply = self
            .request(PersistentCall::Message(request), timeout, unwrap_request)
            .await?;
        // The actor answers every `Message` with `Some`, only a save with `None`.
        Ok(reply.unwrap_or_else(|| unreachable!("a request was answered as a save")))
    }

    /// Saves the state now, whatever the policy, and waits up to `timeout`
    /// until it is durable.
    pub async fn save(&self, timeout: Duration) -> Result<(), PersistentCallError<()>> {
        self.request(PersistentCall::Save, timeout, drop)
            .await
            .map(drop)
    }

    /// One call to the actor; a save error, in the reply or in the exit
    /// reason of a save that crashed the actor, is [`PersistentCallError::Save`].
    async fn request<M>(
        &self,
        request: PersistentCall<P::Call>,
        timeout: Duration,
        unwrap: impl FnOnce(PersistentCall<P::Call>) -> M,
    ) -> Result<Option<P::Reply>, PersistentCallError<M>> {
        match self.actor.call(request, timeout).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(error)) => Err(PersistentCallError::Save(error)),
            Err(CallError::Exited(reason)) => match save_error_in::<P::Error>(&reason) {
                Some(error) => Err(PersistentCallError::Save(error)),
                None => Err(PersistentCallError::Call(CallError::Exited(reason))),
            },
            Err(error) => Err(PersistentCallError::Call(unwrap_call(error, unwrap))),
        }
    }

    /// Stops the actor: it finishes its message, runs `terminate`, saves,
    /// and exits with `reason`; killed if not gone within `timeout`.
    pub async fn stop(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        self.actor.stop(reason, timeout).await
    }

    /// Kills the actor: no `terminate`, so no last save.
    pub fn kill(&self) -> bool {
        self.actor.kill()
    }

    /// Waits up to `timeout` for the actor to exit and returns why it did.
    pub async fn wait_for_exit(&self, timeout: Duration) -> Result<ExitReason, WaitTimeout> {
        self.actor.wait_for_exit(timeout).await
    }
}
