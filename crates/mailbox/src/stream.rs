//! Feeding a `Stream` into an actor: its items arrive as casts, with backpressure, and its end as a notice.
//!
//! A *feeder* is a small task tied to one actor. It pulls an item only
//! when the actor is alive, casts it and waits for room in the bounded
//! mailbox before pulling the next, so a stream faster than the actor is
//! held back by the mailbox's capacity. When the stream ends, the feeder
//! casts the notice the caller chose and ends.
//!
//! The feeder ends when the actor exits, at a clean stop or any other way:
//! it never pulls again once the actor is closed, and the item it may hold
//! at that moment was never accepted by the mailbox, so it is dropped with
//! the stream (at trace level), not reported as a dead letter. Items already
//! queued in the mailbox follow the mailbox's rule and become dead letters
//! with the exit reason, like any queued cast.
//!
//! A feeder behaves like a process linked to its actor, with a pid of its
//! own: if the stream (or converting an item) panics, the panic is caught
//! and delivered to the actor as an exit signal from the feeder's pid with
//! [`ExitReason::Panic`]. An actor that does not trap exits crashes with
//! that reason, and its supervisor decides; one that traps exits gets a
//! [`SystemMessage::Exit`](crate::SystemMessage::Exit) and carries on.

use std::{future::poll_fn, panic::AssertUnwindSafe, pin::pin, task::Poll};

use futures::{FutureExt, Stream};

use crate::{Actor, ActorRef, Context, ExitReason, Pid, system::Signal};

impl<A: Actor> ActorRef<A> {
    /// Feeds `stream` into this actor: each item arrives as a cast, in
    /// order, waiting for room in the mailbox (backpressure); when the
    /// stream ends, `ended` arrives as a cast. Returns the feeder's pid,
    /// which is the `from` of the exit signal a panicking stream sends.
    ///
    /// The feeder is tied to the actor: once the actor is closed it never
    /// polls the stream again, and it ends when the actor exits. An item it
    /// pulled but could not deliver was never accepted, so it is dropped
    /// with the stream, not reported as a dead letter; items already queued
    /// become dead letters like any queued cast. A panic in the stream (or
    /// in converting an item) reaches the actor as an exit signal from the
    /// feeder's pid with [`ExitReason::Panic`], as from a linked process:
    /// it crashes the actor unless the actor
    /// [traps exits](Context::trap_exits).
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::mailbox::{Actor, Context, Reply, start};
    ///
    /// #[derive(Debug, Default)]
    /// struct Sum { total: u64, done: bool }
    ///
    /// #[derive(Debug)]
    /// enum Msg { Add(u64), End, Read(Reply<(u64, bool)>) }
    ///
    /// impl From<u64> for Msg {
    ///     fn from(n: u64) -> Self { Msg::Add(n) }
    /// }
    ///
    /// impl Actor for Sum {
    ///     type Args = ();
    ///     type Msg = Msg;
    ///     type Error = std::convert::Infallible;
    ///
    ///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
    ///         Ok(Sum::default())
    ///     }
    ///
    ///     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
    ///         match msg {
    ///             Msg::Add(n) => self.total += n,
    ///             Msg::End => self.done = true,
    ///             Msg::Read(reply) => reply.send((self.total, self.done)).unwrap_or_default(),
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (sum, _handle) = start::<Sum>(()).await.unwrap();
    /// sum.attach_stream(futures::stream::iter(1..=4_u64), Msg::End);
    /// # for _ in 0..8 { tokio::task::yield_now().await; }
    /// assert_eq!(sum.call(Msg::Read, Duration::from_secs(1)).await.unwrap(), (10, true));
    /// # }
    /// ```
    pub fn attach_stream<S, M>(&self, stream: S, ended: M) -> Pid
    where
        S: Stream + Send + 'static,
        S::Item: Into<A::Msg>,
        M: Into<A::Msg> + Send + 'static,
    {
        let feeder = Pid::new();
        let task = feed(self.clone(), feeder, stream, ended);
        let _abort = crate::sync::spawn(self.process.runtime(), task);
        feeder
    }
}

impl<A: Actor> Context<A> {
    /// Feeds `stream` into this actor; see [`ActorRef::attach_stream`].
    pub fn attach_stream<S, M>(&self, stream: S, ended: M) -> Pid
    where
        S: Stream + Send + 'static,
        S::Item: Into<A::Msg>,
        M: Into<A::Msg> + Send + 'static,
    {
        self.myself().attach_stream(stream, ended)
    }
}

/// The feeder's task: pump until the stream ends or the actor exits; turn
/// a panic into an exit signal from the feeder.
async fn feed<A, S, M>(actor: ActorRef<A>, feeder: Pid, stream: S, ended: M)
where
    A: Actor,
    S: Stream + Send + 'static,
    S::Item: Into<A::Msg>,
    M: Into<A::Msg> + Send + 'static,
{
    let exited = actor.exited();
    let pumped = AssertUnwindSafe(pump(&actor, stream, ended)).catch_unwind();
    tokio::select! {
        biased;
        _ = exited => {
            tracing::trace!(target: "foundation::mailbox", pid = %actor.pid(), %feeder, "actor exited; stream feeder ends");
        }
        outcome = pumped => if let Err(payload) = outcome {
            let reason = ExitReason::from_panic(&*payload);
            tracing::error!(target: "foundation::mailbox", pid = %actor.pid(), %feeder, %reason, "a stream fed to an actor panicked");
            if actor.process.signal(Signal::Exit { from: feeder, reason }, false).is_err() {
                tracing::trace!(target: "foundation::mailbox", pid = %actor.pid(), %feeder, "actor already gone");
            }
        }
    }
}

async fn pump<A, S, M>(actor: &ActorRef<A>, stream: S, ended: M)
where
    A: Actor,
    S: Stream,
    S::Item: Into<A::Msg>,
    M: Into<A::Msg>,
{
    let mut stream = pin!(stream);
    loop {
        // Checked on every poll: once the actor is closed, the stream is
        // never polled again.
        let polled = poll_fn(|cx| {
            if !actor.is_alive() {
                return Poll::Ready(None);
            }
            stream.as_mut().poll_next(cx).map(Some)
        });
        // The item is converted at once: it is never held across an await,
        // so it need not be `Send`.
        let message: A::Msg = match polled.await {
            None => return,
            Some(None) => break,
            Some(Some(item)) => item.into(),
        };
        if actor.cast(message).await.is_err() {
            tracing::trace!(target: "foundation::mailbox", pid = %actor.pid(), "actor exited; the stream item in flight is dropped");
            return;
        }
    }
    if actor.cast(ended.into()).await.is_err() {
        tracing::trace!(target: "foundation::mailbox", pid = %actor.pid(), "actor exited before its stream's end notice");
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests;
