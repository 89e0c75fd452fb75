//! [`ChildRef`]: a typed reference to a supervised child that follows its
//! restarts, so callers never hold on to a dead incarnation.

use std::{fmt, marker::PhantomData, sync::Arc, time::Duration};

use foundation_mailbox::{Actor, ActorRef, CallError, Reply, SendError, TimeoutConfig};
use tokio::time::Instant;

use crate::{
    ChildCallError, ChildSendError,
    directory::{Incarnation, Subscriber},
};

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
/// use foundation::mailbox::{Actor, Context, Reply};
/// use foundation::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
///
/// #[derive(Debug)]
/// struct Counter(u64);
///
/// #[derive(Debug)]
/// enum Msg {
///     /// Counts one more and answers the count.
///     Next(Reply<u64>),
///     Crash(Reply<u64>),
/// }
///
/// impl Actor for Counter {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Counter(0)) }
///     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         match msg {
///             Msg::Next(reply) => {
///                 self.0 += 1;
///                 reply.send(self.0).unwrap_or_default();
///             }
///             Msg::Crash(_) => panic!("asked to crash"),
///         }
///         Ok(())
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
/// assert_eq!(counter.call(Msg::Next, Duration::from_secs(1)).await.unwrap(), 1);
/// assert!(counter.call(Msg::Crash, Duration::from_secs(1)).await.is_err(), "it crashed");
/// // The same reference reaches the restarted counter.
/// assert_eq!(counter.call(Msg::Next, Duration::from_secs(1)).await.unwrap(), 1);
/// # }
/// ```
pub struct ChildRef<A: Actor> {
    id: Arc<str>,
    incarnation: Subscriber,
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
    pub(crate) fn new(id: Arc<str>, incarnation: Subscriber) -> Self {
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
    ///
    /// `request` builds the message around its [`Reply`] port, as for
    /// [`ActorRef::call`]: `child.call(Msg::Get, timeout)`. It is built once,
    /// before the incarnation is known, and a request that was not delivered
    /// comes back inside the error.
    pub async fn call<M, R>(
        &self,
        request: impl FnOnce(Reply<R>) -> M,
        timeout: Duration,
    ) -> Result<R, ChildCallError<M>>
    where
        M: Into<A::Msg>,
        R: Send + 'static,
    {
        let deadline = Instant::now() + timeout;
        let (port, mut answer) = Reply::pair();
        let mut request = request(port);
        let mut watcher = self.incarnation.clone();
        loop {
            match resolve_and_mark::<A>(&mut watcher) {
                Resolved::Running(actor) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match actor.call_with(request, &mut answer, left).await {
                        Ok(value) => return Ok(value),
                        // That incarnation exited and its supervisor has not
                        // seen it yet: the same request, answered on the same
                        // receiver, goes to the next one.
                        Err(CallError::NoProcess(back)) => request = back,
                        Err(error) => return Err(ChildCallError::from_call(error)),
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
    /// [`ActorRef::cast`] does. While the child is restarting it waits for
    /// the new incarnation, up to the default timeout ([`TimeoutConfig`]).
    pub async fn cast(&self, message: A::Msg) -> Result<(), ChildSendError<A::Msg>> {
        self.cast_from(message).await
    }

    /// Sends a message to the child's current incarnation without waiting:
    /// a full mailbox gives it back, and so does a child that is
    /// restarting (or that exited and its supervisor has not yet seen it).
    pub fn try_cast(&self, message: A::Msg) -> Result<(), ChildSendError<A::Msg>> {
        self.try_cast_from(message)
    }

    /// [`cast`](Self::cast) for anything that converts into the actor's
    /// message, as [`ActorRef::cast_from`]: a failed send gives back exactly
    /// what was passed in.
    pub async fn cast_from<M: Into<A::Msg>>(&self, message: M) -> Result<(), ChildSendError<M>> {
        let deadline = Instant::now() + TimeoutConfig::current().default_timeout();
        let mut watcher = self.incarnation.clone();
        let mut message = message;
        loop {
            match resolve_and_mark::<A>(&mut watcher) {
                Resolved::Running(actor) => match actor.cast_from(message).await {
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

    /// [`try_cast`](Self::try_cast) for anything that converts into the
    /// actor's message; see [`cast_from`](Self::cast_from).
    pub fn try_cast_from<M: Into<A::Msg>>(&self, message: M) -> Result<(), ChildSendError<M>> {
        match resolve::<A>(&self.incarnation) {
            Resolved::Running(actor) => actor.try_cast_from(message).map_err(|error| match error {
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

impl<A: Actor> ChildRef<A> {
    /// The child's current incarnation or why there is none, without
    /// waiting: [`ChildSendError::Restarting`] while its supervisor is
    /// bringing it back (a later look may find it), and
    /// [`NotRunning`](ChildSendError::NotRunning),
    /// [`Removed`](ChildSendError::Removed) or
    /// [`WrongType`](ChildSendError::WrongType) when no restart is coming.
    /// Never [`Full`](ChildSendError::Full). For senders with their own
    /// retry policy, such as a supervised send.
    pub fn resolve(&self) -> Result<ActorRef<A>, ChildSendError<()>> {
        match resolve::<A>(&self.incarnation) {
            Resolved::Running(actor) => Ok(actor),
            Resolved::Restarting => Err(ChildSendError::Restarting(())),
            Resolved::Stopped => Err(ChildSendError::NotRunning(())),
            Resolved::Removed => Err(ChildSendError::Removed(())),
            Resolved::WrongType => Err(ChildSendError::WrongType(())),
        }
    }
}

/// Reads the slot without marking it seen.
fn resolve<A: Actor>(incarnation: &Subscriber) -> Resolved<A> {
    incarnation.read(of_incarnation)
}

/// Reads the slot and marks it seen, so the next `changed` waits for the
/// next change.
fn resolve_and_mark<A: Actor>(incarnation: &mut Subscriber) -> Resolved<A> {
    incarnation.read_and_mark(of_incarnation)
}

/// What an incarnation is for actor `A`; `None` is a closed slot.
fn of_incarnation<A: Actor>(incarnation: Option<&Incarnation>) -> Resolved<A> {
    match incarnation {
        Some(Incarnation::Running(process)) => match process.downcast::<A>() {
            Some(actor) => Resolved::Running(actor),
            None => Resolved::WrongType,
        },
        Some(Incarnation::Restarting) => Resolved::Restarting,
        Some(Incarnation::Stopped) => Resolved::Stopped,
        None => Resolved::Removed,
    }
}
