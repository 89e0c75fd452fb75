//! [`Recipient`]: anything that accepts messages of type `M`, whatever its actor type.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use crate::{
    Actor, Pid, SendError,
    actor_ref::settle,
    process::{Envelope, Process},
    waiters::WaiterKey,
};

/// The operations a recipient needs, erased over the actor type.
trait Accepts<M>: Send + Sync {
    fn pid(&self) -> Pid;
    fn is_alive(&self) -> bool;
    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Option<M>,
        key: &mut WaiterKey,
    ) -> Poll<Result<(), SendError<M>>>;
    fn try_send(&self, message: M) -> Result<(), SendError<M>>;
    fn cancel(&self, key: &mut WaiterKey);
}

impl<A, M> Accepts<M> for Process<A>
where
    A: Actor,
    M: Into<A::Cast> + Send + 'static,
{
    fn pid(&self) -> Pid {
        self.pid
    }

    fn is_alive(&self) -> bool {
        self.mailbox.is_open()
    }

    fn poll_send(
        &self,
        cx: &mut Context<'_>,
        slot: &mut Option<M>,
        key: &mut WaiterKey,
    ) -> Poll<Result<(), SendError<M>>> {
        // The message is converted only once there is room, so a refused
        // message comes back as the `M` the caller sent.
        self.mailbox
            .poll_push(Some(cx), slot, key, |message: M| {
                Envelope::Cast(message.into())
            })
            .map(|outcome| settle(self, outcome))
    }

    fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        settle(
            self,
            self.mailbox
                .try_push(message, |message: M| Envelope::Cast(message.into())),
        )
    }

    fn cancel(&self, key: &mut WaiterKey) {
        self.mailbox.cancel_push(key);
    }
}

/// Anything that accepts `M`: an actor whose cast type converts from `M`.
///
/// Routers and broadcasts hold lists of these without knowing the actors'
/// types. Made by [`ActorRef::recipient`](crate::ActorRef::recipient).
///
/// ```
/// use foundation_mailbox::{Actor, Context, Recipient, start};
/// # #[derive(Debug)] struct Log;
/// # impl Actor for Log {
/// #     type Args = (); type Cast = String; type Call = (); type Reply = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Log) }
/// #     async fn handle_cast(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// #     async fn handle_call(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (log, _handle) = start::<Log>(()).await.unwrap();
/// // `&str` converts into the actor's `String` messages.
/// let recipients: Vec<Recipient<&'static str>> = vec![log.recipient()];
/// for recipient in &recipients {
///     recipient.send("hello").await.unwrap();
/// }
/// # }
/// ```
pub struct Recipient<M> {
    target: Arc<dyn Accepts<M>>,
}

impl<M> Clone for Recipient<M> {
    fn clone(&self) -> Self {
        Self {
            target: Arc::clone(&self.target),
        }
    }
}

impl<M> fmt::Debug for Recipient<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Recipient")
            .field(&self.target.pid())
            .finish()
    }
}

impl<M: Send + 'static> Recipient<M> {
    pub(crate) fn new<A>(process: Arc<Process<A>>) -> Self
    where
        A: Actor,
        M: Into<A::Cast>,
    {
        Self { target: process }
    }

    /// The recipient's pid.
    pub fn pid(&self) -> Pid {
        self.target.pid()
    }

    /// Whether the recipient still accepts messages.
    pub fn is_alive(&self) -> bool {
        self.target.is_alive()
    }

    /// Sends, waiting for room; fails at once when the recipient has exited.
    pub fn send(&self, message: M) -> RecipientSend<'_, M> {
        RecipientSend {
            target: &*self.target,
            slot: Some(message),
            key: WaiterKey::default(),
        }
    }

    /// Sends without waiting; a full mailbox gives the message back.
    pub fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        self.target.try_send(message)
    }
}

/// A send to a [`Recipient`] that waits for room.
#[must_use = "futures do nothing unless awaited"]
pub struct RecipientSend<'a, M> {
    target: &'a dyn Accepts<M>,
    slot: Option<M>,
    key: WaiterKey,
}

impl<M> fmt::Debug for RecipientSend<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecipientSend")
            .field("to", &self.target.pid())
            .finish_non_exhaustive()
    }
}

impl<M> Unpin for RecipientSend<'_, M> {}

impl<M> Future for RecipientSend<'_, M> {
    type Output = Result<(), SendError<M>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.target.poll_send(cx, &mut this.slot, &mut this.key)
    }
}

impl<M> Drop for RecipientSend<'_, M> {
    fn drop(&mut self) {
        self.target.cancel(&mut self.key);
    }
}
