//! [`PersistentRef`] and [`start`]: how the rest of the program starts and talks to a persistent actor.

use std::{fmt, time::Duration};

use crate::{
    Persistence, Persistent, PersistentActor, PersistentArgs, PersistentCallError, PersistentError,
    SaveError,
    message::{PersistentMsg, Request, Saved},
};
use foundation_mailbox::{
    Actor, ActorHandle, ActorRef, CallError, ExitReason, Pid, ProcessRef, Reply, ReplyError,
    SendError, StartError, StopError, WaitTimeout, start_with,
};
use tokio::time::Instant;

/// When a wait of `timeout` from now ends; `Duration::MAX` means decades.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

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
    pub async fn cast(&self, message: P::Msg) -> Result<(), SendError<P::Msg>> {
        self.actor.cast_from(message).await
    }

    /// Sends a message without waiting; a full mailbox gives it back.
    pub fn try_cast(&self, message: P::Msg) -> Result<(), SendError<P::Msg>> {
        self.actor.try_cast_from(message)
    }

    /// Sends a request built around a [`Reply`] port and waits up to
    /// `timeout` for the answer, as [`ActorRef::call`] does. Under
    /// write-through the answer is released only once the change the
    /// request caused is durable; a handler that did not change the state
    /// (see [`Tracked`](crate::Tracked)) causes no save, and its answer is
    /// released at once. A handler that keeps the port answers later (a
    /// deferred reply), once the save is done too. A failed save
    /// is [`PersistentCallError::Save`], whether it failed the call
    /// ([`OnSaveFailure::FailCall`](crate::OnSaveFailure::FailCall)) or
    /// crashed the actor ([`OnSaveFailure::Crash`](crate::OnSaveFailure::Crash)).
    ///
    /// Cancel-safe as a wait: dropping the future abandons the answer, but
    /// a request already delivered is still handled (and saved).
    pub async fn call<R: Send + 'static>(
        &self,
        request: impl FnOnce(Reply<R>) -> P::Msg,
        timeout: Duration,
    ) -> Result<R, PersistentCallError<P::Msg>> {
        call_hosted(&self.actor, request, timeout).await
    }

    /// Saves the state now, whatever the policy, and waits up to `timeout`
    /// until it is durable.
    pub async fn save(&self, timeout: Duration) -> Result<(), PersistentCallError<()>> {
        request_hosted(&self.actor, PersistentMsg::save, timeout)
            .await
            .map_err(|error| error.map_message(drop))
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

/// [`PersistentRef::call`] for any actor that hosts user messages in a
/// [`PersistentMsg`] envelope and answers each request once its write is
/// durable (a durable-state or an event-sourced actor).
pub(crate) async fn call_hosted<A, M, E, R>(
    actor: &ActorRef<A>,
    request: impl FnOnce(Reply<R>) -> M,
    timeout: Duration,
) -> Result<R, PersistentCallError<M>>
where
    A: Actor<Msg = PersistentMsg<M>, Error = PersistentError<E>>,
    M: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
    R: Send + 'static,
{
    let deadline = deadline_after(timeout);
    let (port, answer) = Reply::pair();
    let message = request(port);
    request_hosted(actor, |saved| Request { message, saved }, timeout)
        .await
        .map_err(|error| error.map_message(|request: Request<M>| request.message))?;
    let unanswered = match tokio::time::timeout_at(deadline, answer).await {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(why)) => why,
        Err(_) => return Err(PersistentCallError::Call(CallError::Timeout)),
    };
    let error = match unanswered {
        ReplyError::NoReply => CallError::NoReply,
        ReplyError::Dropped => CallError::Dropped,
        // The port went with the actor: its exit says why.
        ReplyError::Exiting => match tokio::time::timeout_at(deadline, actor.exited()).await {
            Ok(reason) => return Err(exited::<M, E>(reason)),
            Err(_) => CallError::Timeout,
        },
    };
    Err(PersistentCallError::Call(error))
}

/// One request to a hosting actor, answered when its write is done; a
/// write error, in the answer or in the exit reason of a write that
/// crashed the actor, is [`PersistentCallError::Save`].
pub(crate) async fn request_hosted<A, N, E>(
    actor: &ActorRef<A>,
    request: impl FnOnce(Reply<Saved>) -> N,
    timeout: Duration,
) -> Result<(), PersistentCallError<N>>
where
    A: Actor<Error = PersistentError<E>>,
    N: Into<A::Msg>,
    E: std::error::Error + Send + Sync + 'static,
{
    match actor.call(request, timeout).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(PersistentCallError::Save(error)),
        Err(CallError::Exited(reason)) => Err(exited::<N, E>(reason)),
        Err(error) => Err(PersistentCallError::Call(error)),
    }
}

/// The error for a call whose callee exited with `reason`.
fn exited<M, E: std::error::Error + 'static>(reason: ExitReason) -> PersistentCallError<M> {
    match save_error_in::<E>(&reason) {
        Some(error) => PersistentCallError::Save(error),
        None => PersistentCallError::Call(CallError::Exited(reason)),
    }
}
