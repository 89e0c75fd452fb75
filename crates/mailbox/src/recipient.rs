//! [`Recipient`]: anything that accepts messages of type `M`, whatever its actor type.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use crate::{
    Actor, DeadLetterReason, Pid, ProcessRef, SendError,
    mailbox::{Departed, Refused, Reserved},
    process::Process,
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
    fn process_ref(self: Arc<Self>) -> ProcessRef;
    fn dead_letter(&self, message: M, reason: DeadLetterReason);
}

impl<A, M> Accepts<M> for Process<A>
where
    A: Actor,
    M: Into<A::Msg> + Send + 'static,
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
        let Some(message) = slot.take() else {
            // Polled again after completion: nothing left to send.
            return Poll::Pending;
        };
        match self.mailbox.poll_reserve(Some(cx), key) {
            Poll::Pending => {
                *slot = Some(message);
                Poll::Pending
            }
            Poll::Ready(reserved) => Poll::Ready(deliver(self, message, reserved)),
        }
    }

    fn try_send(&self, message: M) -> Result<(), SendError<M>> {
        match self.mailbox.poll_reserve(None, &mut WaiterKey::default()) {
            Poll::Ready(reserved) => deliver(self, message, reserved),
            // Without a context a reservation never waits.
            Poll::Pending => Err(SendError::Full(message)),
        }
    }

    fn cancel(&self, key: &mut WaiterKey) {
        self.mailbox.cancel_push(key);
    }

    fn process_ref(self: Arc<Self>) -> ProcessRef {
        ProcessRef(self)
    }

    fn dead_letter(&self, message: M, reason: DeadLetterReason) {
        Process::dead_letter(self, Departed::unmarked(message.into()), reason);
    }
}

/// Converts `message` outside the mailbox lock (the conversion is user code)
/// and queues it in the room reserved for it. A refused message comes back
/// as the `M` the caller sent.
fn deliver<A, M>(
    process: &Process<A>,
    message: M,
    reserved: Result<Reserved<A::Msg>, Refused>,
) -> Result<(), SendError<M>>
where
    A: Actor,
    M: Into<A::Msg>,
{
    let reserved = match reserved {
        Ok(reserved) => reserved,
        Err(Refused::Closed) => return Err(SendError::NoProcess(message)),
        Err(Refused::Full) => return Err(SendError::Full(message)),
    };
    match reserved {
        Reserved::Discard => {
            process.dead_letter(
                Departed::unmarked(message.into()),
                DeadLetterReason::Overflow,
            );
        }
        Reserved::Room | Reserved::Evicted(_) => {
            if let Reserved::Evicted(oldest) = reserved {
                process.dead_letter(oldest, DeadLetterReason::Overflow);
            }
            let mut unreserve = Unreserve(Some(process));
            let message = message.into();
            unreserve.0 = None;
            match process.mailbox.commit(message) {
                Ok(Some(activation)) => process.activate(activation),
                Ok(None) => {}
                // Closed while converting: the message was accepted, so it
                // is a dead letter now, not a silent drop.
                Err((message, reason)) => {
                    process.dead_letter(
                        Departed::unmarked(message),
                        DeadLetterReason::Exited(reason),
                    );
                }
            }
        }
    }
    Ok(())
}

/// Gives reserved room back if the conversion between reserve and commit
/// unwinds.
struct Unreserve<'a, A: Actor>(Option<&'a Process<A>>);

impl<A: Actor> Drop for Unreserve<'_, A> {
    fn drop(&mut self) {
        if let Some(process) = self.0.take() {
            process.mailbox.unreserve();
        }
    }
}

/// Anything that accepts `M`: an actor whose cast type converts from `M`.
///
/// Routers and broadcasts hold lists of these without knowing the actors'
/// types. Made by [`ActorRef::recipient`](crate::ActorRef::recipient).
///
/// ```
/// use foundation::mailbox::{Actor, Context, Recipient, start};
/// # #[derive(Debug)] struct Log;
/// # impl Actor for Log {
/// #     type Args = (); type Msg = String;
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Log) }
/// #     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
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
        M: Into<A::Msg>,
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

    /// The recipient as a type-erased process, to monitor or link it.
    pub fn process_ref(&self) -> ProcessRef {
        Arc::clone(&self.target).process_ref()
    }

    /// Hands `message` to the recipient's dead-letter sink, as its mailbox
    /// does with a message its overflow policy drops: for routers and
    /// broadcasts that drop a message meant for this recipient on their own
    /// policy (a full mailbox they would not wait for). The conversion into
    /// the actor's message type runs on the caller's thread; the sink's own
    /// panic is caught and logged, as for the mailbox's dead letters.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use foundation::mailbox::{
    ///     Actor, ActorOptions, Context, DeadLetter, DeadLetterReason, DeadLetterSink, start_with,
    /// };
    /// # #[derive(Debug)] struct Log;
    /// # impl Actor for Log {
    /// #     type Args = (); type Msg = String;
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Log) }
    /// #     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// #[derive(Debug, Default)]
    /// struct Keep(Mutex<Vec<DeadLetter>>);
    /// impl DeadLetterSink for Keep {
    ///     fn dead_letter(&self, letter: DeadLetter) {
    ///         self.0.lock().unwrap().push(letter);
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let kept = Arc::new(Keep::default());
    /// let options = ActorOptions::new().dead_letters(kept.clone());
    /// let (log, _handle) = start_with::<Log>((), options).await.unwrap();
    /// let recipient = log.recipient::<&'static str>();
    /// recipient.dead_letter("dropped by a router", DeadLetterReason::Overflow);
    /// let letters = kept.0.lock().unwrap();
    /// assert_eq!(letters[0].recipient, recipient.pid());
    /// assert_eq!(letters[0].message.downcast_ref::<String>().unwrap(), "dropped by a router");
    /// # }
    /// ```
    pub fn dead_letter(&self, message: M, reason: DeadLetterReason) {
        self.target.dead_letter(message, reason);
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

impl<M> RecipientSend<'_, M> {
    /// Gives up the send and gives the message back if it was not queued
    /// yet (`None` once it was), as [`Cast::withdraw`](crate::Cast::withdraw).
    pub fn withdraw(mut self) -> Option<M> {
        self.target.cancel(&mut self.key);
        self.slot.take()
    }
}

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
