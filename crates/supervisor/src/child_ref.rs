//! [`ChildRef`]: a typed reference to a supervised child that follows its
//! restarts, so callers never hold on to a dead incarnation.

use std::{fmt, marker::PhantomData, sync::Arc, time::Duration};

use foundation_mailbox::{Actor, ActorRef, CallError, SendError, TimeoutConfig};
use tokio::{sync::watch, time::Instant};

use crate::{ChildCallError, ChildSendError, directory::Incarnation};

/// A typed, clonable reference to child `id` of a supervisor, running actor
/// `A`, that always resolves to the child's current incarnation. Get one
/// with [`SupervisorRef::child_ref`](crate::SupervisorRef::child_ref).
///
/// The supervisor publishes each child's incarnation in a slot the moment
/// it changes, so resolving costs no round trip: a call reads the slot and
/// goes straight to the running child's mailbox. While the child is
/// restarting, a call waits, within its own timeout, for the new
/// incarnation, and fails with [`ChildCallError::Restarting`] if none came.
/// Once the supervisor has seen a child exit, no call reaches that
/// incarnation; a call that found it dead before the supervisor did (its
/// request not delivered) waits for the next one the same way.
///
/// A request delivered to a child that then exits fails with
/// [`ChildCallError::Exited`] and is not sent again: it may have been half
/// done.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, Context};
/// use foundation_supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
///
/// #[derive(Debug)]
/// struct Counter(u64);
///
/// impl Actor for Counter {
///     type Args = ();
///     type Cast = ();
///     type Call = bool;
///     type Reply = u64;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Counter(0)) }
///     async fn handle_cast(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
///     async fn handle_call(&mut self, crash: bool, _: &mut Context<Self>) -> Result<u64, Self::Error> {
///         assert!(!crash, "asked to crash");
///         self.0 += 1;
///         Ok(self.0)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # std::panic::set_hook(Box::new(|_| {}));
/// let tree = Supervisor::start(
///     SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Counter>("counter", ())),
/// )
/// .await
/// .unwrap();
/// let counter = tree.child_ref::<Counter>("counter").unwrap();
/// assert_eq!(counter.call(false, Duration::from_secs(1)).await.unwrap(), 1);
/// assert!(counter.call(true, Duration::from_secs(1)).await.is_err(), "it crashed");
/// // The same reference reaches the restarted counter.
/// assert_eq!(counter.call(false, Duration::from_secs(1)).await.unwrap(), 1);
/// # }
/// ```
pub struct ChildRef<A: Actor> {
    id: Arc<str>,
    incarnation: watch::Receiver<Incarnation>,
    actor: PhantomData<fn() -> A>,
}

impl<A: Actor> Clone for ChildRef<A> {
    fn clone(&self) -> Self {
        Self {
            id: Arc::clone(&self.id),
            incarnation: self.incarnation.clone(),
            actor: PhantomData,
        }
    }
}

impl<A: Actor> fmt::Debug for ChildRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildRef")
            .field("id", &self.id)
            .field("actor", &std::any::type_name::<A>())
            .finish_non_exhaustive()
    }
}

/// A child's incarnation, resolved for actor `A`.
enum Resolved<A: Actor> {
    Running(ActorRef<A>),
    Restarting,
    Stopped,
    Removed,
    WrongType,
}

impl<A: Actor> ChildRef<A> {
    pub(crate) fn new(id: Arc<str>, incarnation: watch::Receiver<Incarnation>) -> Self {
        Self {
            id,
            incarnation,
            actor: PhantomData,
        }
    }

    /// The child's id in its supervisor.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The child's current incarnation, if it is running as far as its
    /// supervisor has seen. For a one-off look; to talk to the child, use
    /// [`call`](Self::call) and [`cast`](Self::cast), which follow restarts.
    pub fn current(&self) -> Option<ActorRef<A>> {
        match resolve::<A>(&self.incarnation) {
            Resolved::Running(actor) => Some(actor),
            _ => None,
        }
    }

    /// Sends a request to the child's current incarnation and waits up to
    /// `timeout`, all told, for the reply: while the child is restarting it
    /// waits for the new incarnation within the same timeout.
    pub async fn call(
        &self,
        request: A::Call,
        timeout: Duration,
    ) -> Result<A::Reply, ChildCallError<A::Call>> {
        let deadline = Instant::now() + timeout;
        let mut watcher = self.incarnation.clone();
        let mut request = request;
        loop {
            match resolve_and_mark::<A>(&mut watcher) {
                Resolved::Running(actor) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match actor.call(request, left).await {
                        Ok(reply) => return Ok(reply),
                        // That incarnation exited and its supervisor has not
                        // seen it yet: wait for the next one.
                        Err(CallError::NoProcess(back)) => request = back,
                        Err(CallError::Full(back)) => return Err(ChildCallError::Full(back)),
                        Err(CallError::SendTimeout(back)) => {
                            return Err(ChildCallError::SendTimeout(back));
                        }
                        Err(CallError::Dropped) => return Err(ChildCallError::Dropped),
                        Err(CallError::Timeout) => return Err(ChildCallError::Timeout),
                        Err(CallError::Exited(reason)) => {
                            return Err(ChildCallError::Exited(reason));
                        }
                    }
                }
                Resolved::Restarting => {}
                Resolved::Stopped => return Err(ChildCallError::NotRunning(request)),
                Resolved::Removed => return Err(ChildCallError::Removed(request)),
                Resolved::WrongType => return Err(ChildCallError::WrongType(request)),
            }
            match tokio::time::timeout_at(deadline, watcher.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_closed)) => return Err(ChildCallError::Removed(request)),
                Err(_elapsed) => return Err(ChildCallError::Restarting(request)),
            }
        }
    }

    /// Sends a message to the child's current incarnation, waiting for room
    /// if its mailbox is full (backpressure), as
    /// [`ActorRef::cast`](foundation_mailbox::ActorRef::cast) does. While
    /// the child is restarting it waits for the new incarnation, up to the
    /// default timeout ([`TimeoutConfig`]).
    pub async fn cast(&self, message: A::Cast) -> Result<(), ChildSendError<A::Cast>> {
        let deadline = Instant::now() + TimeoutConfig::current().default_timeout();
        let mut watcher = self.incarnation.clone();
        let mut message = message;
        loop {
            match resolve_and_mark::<A>(&mut watcher) {
                Resolved::Running(actor) => match actor.cast(message).await {
                    Ok(()) => return Ok(()),
                    Err(SendError::NoProcess(back)) => message = back,
                    Err(SendError::Full(back)) => return Err(ChildSendError::Full(back)),
                },
                Resolved::Restarting => {}
                Resolved::Stopped => return Err(ChildSendError::NotRunning(message)),
                Resolved::Removed => return Err(ChildSendError::Removed(message)),
                Resolved::WrongType => return Err(ChildSendError::WrongType(message)),
            }
            match tokio::time::timeout_at(deadline, watcher.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_closed)) => return Err(ChildSendError::Removed(message)),
                Err(_elapsed) => return Err(ChildSendError::Restarting(message)),
            }
        }
    }

    /// Sends a message to the child's current incarnation without waiting:
    /// a full mailbox gives it back, and so does a child that is
    /// restarting (or that exited and its supervisor has not yet seen it).
    pub fn try_cast(&self, message: A::Cast) -> Result<(), ChildSendError<A::Cast>> {
        match resolve::<A>(&self.incarnation) {
            Resolved::Running(actor) => actor.try_cast(message).map_err(|error| match error {
                SendError::NoProcess(back) => ChildSendError::Restarting(back),
                SendError::Full(back) => ChildSendError::Full(back),
            }),
            Resolved::Restarting => Err(ChildSendError::Restarting(message)),
            Resolved::Stopped => Err(ChildSendError::NotRunning(message)),
            Resolved::Removed => Err(ChildSendError::Removed(message)),
            Resolved::WrongType => Err(ChildSendError::WrongType(message)),
        }
    }
}

/// Reads the slot without marking it seen.
fn resolve<A: Actor>(incarnation: &watch::Receiver<Incarnation>) -> Resolved<A> {
    if incarnation.has_changed().is_err() {
        return Resolved::Removed;
    }
    of_incarnation(&incarnation.borrow())
}

/// Reads the slot and marks it seen, so the next `changed` waits for the
/// next change.
fn resolve_and_mark<A: Actor>(incarnation: &mut watch::Receiver<Incarnation>) -> Resolved<A> {
    let closed = incarnation.has_changed().is_err();
    let current = incarnation.borrow_and_update();
    if closed {
        return Resolved::Removed;
    }
    of_incarnation(&current)
}

fn of_incarnation<A: Actor>(incarnation: &Incarnation) -> Resolved<A> {
    match incarnation {
        Incarnation::Running(process) => match process.downcast::<A>() {
            Some(actor) => Resolved::Running(actor),
            None => Resolved::WrongType,
        },
        Incarnation::Restarting => Resolved::Restarting,
        Incarnation::Stopped => Resolved::Stopped,
    }
}
