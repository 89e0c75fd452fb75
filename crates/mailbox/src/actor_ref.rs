//! [`ActorRef`]: how the rest of the program talks to an actor.

use std::{
    borrow::BorrowMut,
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use crate::{
    Actor, CallError, ExitReason, Exited, MailboxStats, Pid, ProcessRef, Recipient, Reply,
    ReplyReceiver, SendError, StopError, WaitTimeout,
    mailbox::{Activation, Offered, PushError, Pushed},
    process::{CALL, CAST, Dormant, Process},
    reply::ReplyError,
    runtime::{may_run_here, run_called},
    wait::{Budget, Elapsed},
    waiters::WaiterKey,
};

/// A cheap, clonable reference to a running actor of type `A`.
///
/// Every way of talking to the actor is here: [`cast`](Self::cast) and
/// [`try_cast`](Self::try_cast) for messages, [`call`](Self::call) for
/// requests, which always take a timeout, [`stop`](Self::stop) and
/// [`kill`](Self::kill). Holding a reference does not keep the actor alive,
/// and the actor's exit does not invalidate the reference: sends to an exited
/// actor fail at once with "no process" and give the message back.
pub struct ActorRef<A: Actor> {
    pub(crate) process: Arc<Process<A>>,
}

impl<A: Actor> Clone for ActorRef<A> {
    fn clone(&self) -> Self {
        Self {
            process: Arc::clone(&self.process),
        }
    }
}

impl<A: Actor> fmt::Debug for ActorRef<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ActorRef").field(&self.process.pid).finish()
    }
}

impl<A: Actor> PartialEq for ActorRef<A> {
    fn eq(&self, other: &Self) -> bool {
        self.process.pid == other.process.pid
    }
}

impl<A: Actor> Eq for ActorRef<A> {}

impl<A: Actor> ActorRef<A> {
    /// The actor's pid.
    pub fn pid(&self) -> Pid {
        self.process.pid
    }

    /// Whether the actor still accepts messages.
    pub fn is_alive(&self) -> bool {
        self.process.mailbox.is_open()
    }

    /// Whether the actor is dormant: idle, with no task, its state waiting
    /// in its process cell for the next message.
    pub fn is_dormant(&self) -> bool {
        self.process.mailbox.is_dormant()
    }

    /// Sends a message, waiting for room if the mailbox is full
    /// (backpressure). Fails at once with the message given back when the
    /// actor has exited. Cancel-safe: dropping the future before it
    /// completes withdraws the message.
    pub fn cast(&self, message: A::Msg) -> Cast<'_, A> {
        self.cast_from(message)
    }

    /// Sends a message without waiting; a full mailbox gives it back.
    pub fn try_cast(&self, message: A::Msg) -> Result<(), SendError<A::Msg>> {
        self.try_cast_from(message)
    }

    /// [`cast`](Self::cast) for anything that converts into the actor's
    /// message. It is converted only once there is room, so a failed send
    /// gives back exactly what was passed in: a wrapper that sends its own
    /// type gets its own type back.
    pub fn cast_from<M: Into<A::Msg>>(&self, message: M) -> Cast<'_, A, M> {
        Cast {
            process: &self.process,
            slot: Some(message),
            key: WaiterKey::default(),
        }
    }

    /// [`try_cast`](Self::try_cast) for anything that converts into the
    /// actor's message; see [`cast_from`](Self::cast_from).
    pub fn try_cast_from<M: Into<A::Msg>>(&self, message: M) -> Result<(), SendError<M>> {
        settle(
            &self.process,
            self.process
                .mailbox
                .try_push(message, Into::<A::Msg>::into, CAST),
        )
    }

    /// Sends a request and waits up to `timeout` for its reply, including any
    /// wait for room in the mailbox. There is no call without a timeout; use
    /// [`TimeoutConfig`](crate::TimeoutConfig) for a default.
    ///
    /// `request` builds the message around a fresh [`Reply`] port, whose type
    /// is the reply's: with `enum Msg { Get(Reply<u64>), .. }`,
    /// `actor.call(Msg::Get, timeout)` returns a `u64`, and a request with
    /// more fields reads `actor.call(|reply| Msg::Add(2, reply), timeout)`.
    ///
    /// Fails at once with [`CallError::NoProcess`] when the actor has exited,
    /// with [`CallError::Exited`] and the actor's exit reason when it dies
    /// before replying, and with [`CallError::NoReply`] when its handler
    /// dropped the port unanswered. A reply that arrives after the timeout is
    /// dropped.
    ///
    /// Cancel-safe: dropping the future before the request was queued
    /// withdraws it; after, the request stays queued and its reply is thrown
    /// away.
    ///
    /// A call that finds the actor dormant may run its handler on the
    /// caller's task, in the same poll, until the handler would wait; the
    /// actor then goes on on a task of its own ([`Actor::INLINE_CALLS`],
    /// `docs/handoff.md`).
    pub fn call<'a, M, R>(
        &'a self,
        request: impl FnOnce(Reply<R>) -> M,
        timeout: Duration,
    ) -> impl Future<Output = Result<R, CallError<M>>> + 'a
    where
        M: Into<A::Msg> + 'a,
        R: Send + 'static,
    {
        let (port, answer) = Reply::pair();
        self.call_with(request(port), answer, timeout)
    }

    /// [`call`](Self::call) for a request built beforehand around a port from
    /// [`Reply::pair`], answered on `answer` (the receiver, or a `&mut` to
    /// it). A request that could not be delivered comes back in the error,
    /// so it can be sent elsewhere and still be answered on the same
    /// receiver: a supervisor's child reference does this to reach the next
    /// incarnation of a child that died meanwhile.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::mailbox::{Actor, CallError, Context, ExitReason, Reply, start};
    ///
    /// #[derive(Debug)]
    /// struct Echo;
    ///
    /// impl Actor for Echo {
    ///     type Args = ();
    ///     type Msg = (u32, Reply<u32>);
    ///     type Error = std::convert::Infallible;
    ///
    ///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
    ///         Ok(Echo)
    ///     }
    ///
    ///     async fn handle(&mut self, (n, reply): (u32, Reply<u32>), _: &mut Context<Self>) -> Result<(), Self::Error> {
    ///         reply.send(n).unwrap_or_default();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let timeout = Duration::from_secs(1);
    /// let (gone, _) = start::<Echo>(()).await.unwrap();
    /// gone.stop(ExitReason::Normal, timeout).await.unwrap();
    /// let (echo, _) = start::<Echo>(()).await.unwrap();
    ///
    /// let (port, mut answer) = Reply::pair();
    /// let request = match gone.call_with((7, port), &mut answer, timeout).await {
    ///     Err(CallError::NoProcess(request)) => request,
    ///     other => panic!("{other:?}"),
    /// };
    /// // The same request, and the same receiver, with another actor.
    /// assert_eq!(echo.call_with(request, &mut answer, timeout).await.unwrap(), 7);
    /// # }
    /// ```
    pub async fn call_with<M, R>(
        &self,
        request: M,
        mut answer: impl BorrowMut<ReplyReceiver<R>>,
        timeout: Duration,
    ) -> Result<R, CallError<M>>
    where
        M: Into<A::Msg>,
    {
        let answer = answer.borrow_mut();
        let mut budget = Budget::new(timeout);
        let mut push = Push {
            process: &self.process,
            slot: Some(request),
            key: WaiterKey::default(),
            into: Into::<A::Msg>::into,
            ran: false,
        };
        let pushed = match budget.wait(&mut push).await {
            Ok(pushed) => pushed,
            Err(Elapsed) => {
                return Err(match push.slot.take() {
                    Some(request) => CallError::SendTimeout(request),
                    None => CallError::Timeout,
                });
            }
        };
        // The callee's handler ran on this task: its reply, if it sent one,
        // is there now.
        let ran = push.ran;
        drop(push);
        match pushed {
            Ok(()) => {}
            Err(SendError::NoProcess(request)) => return Err(CallError::NoProcess(request)),
            Err(SendError::Full(request)) => return Err(CallError::Full(request)),
        }
        let exiting = match budget.wait_after_sending(answer, ran).await {
            Ok(Ok(value)) => return Ok(value),
            // The overflow policy dropped the request; it is a dead letter now.
            Ok(Err(ReplyError::Dropped)) => return Err(CallError::Dropped),
            // A handler let go of the port and the actor goes on; if it is
            // exiting after all, its reason says more.
            Ok(Err(ReplyError::NoReply)) if self.is_alive() => return Err(CallError::NoReply),
            Ok(Err(ReplyError::NoReply | ReplyError::Exiting)) => self.process_ref().exited(),
            Err(Elapsed) => return Err(CallError::Timeout),
        };
        match budget.wait(exiting).await {
            Ok(reason) => Err(CallError::Exited(reason)),
            Err(Elapsed) => Err(CallError::Timeout),
        }
    }

    /// Stops the actor with OTP's shutdown semantics: it finishes the message
    /// it is handling, runs `terminate` and exits with `reason`; messages
    /// still queued become dead letters. If it has not exited within
    /// `timeout` it is killed and [`StopError::Timeout`] is returned, so the
    /// actor never outlives a stop.
    pub async fn stop(
        &self,
        reason: ExitReason,
        timeout: Duration,
    ) -> Result<ExitReason, StopError> {
        self.process.stop(reason, timeout).await
    }

    /// Kills the actor at its next await point: no `terminate`, exit reason
    /// [`ExitReason::Killed`]. Returns `false` if it was already exiting.
    pub fn kill(&self) -> bool {
        self.process.kill(ExitReason::Killed)
    }

    /// Waits up to `timeout` for the actor to exit and returns why it did.
    pub async fn wait_for_exit(&self, timeout: Duration) -> Result<ExitReason, WaitTimeout> {
        self.process_ref().wait_for_exit(timeout).await
    }

    /// A future that resolves with the exit reason; for `select!` loops.
    pub fn exited(&self) -> Exited {
        self.process_ref().exited()
    }

    /// The exit reason, once the actor has exited.
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.process.mailbox.exit_reason()
    }

    /// A snapshot of the mailbox: queued messages, capacity, drops, storage.
    pub fn mailbox_stats(&self) -> MailboxStats {
        self.process.mailbox.stats()
    }

    /// This actor as a type-erased process reference.
    pub fn process_ref(&self) -> ProcessRef {
        ProcessRef(self.process.clone())
    }

    /// This actor as "anything that accepts `M`", for routers and broadcasts
    /// that hold actors of different types.
    pub fn recipient<M>(&self) -> Recipient<M>
    where
        M: Into<A::Msg> + Send + 'static,
    {
        Recipient::new(self.process.clone())
    }
}

/// Turns a push outcome into a send result, starting the actor if it was
/// dormant and dead-lettering what the overflow policy pushed out.
#[allow(clippy::type_complexity)] // a push's whole outcome, as the mailbox returns it
#[inline(always)]
pub(crate) fn settle<A: Actor, M>(
    process: &Process<A>,
    outcome: Result<(Pushed<A::Msg>, Option<Activation<Dormant<A>>>), PushError<M>>,
) -> Result<(), SendError<M>> {
    match outcome {
        Ok((pushed, activation)) => {
            process.settle(pushed, activation);
            Ok(())
        }
        Err(PushError::Closed(message)) => Err(SendError::NoProcess(message)),
        Err(PushError::Full(message)) => Err(SendError::Full(message)),
    }
}

/// A send that waits for room. Made by [`ActorRef::cast`].
///
/// Dropping it before it completes withdraws the message; it was never queued.
#[must_use = "futures do nothing unless awaited"]
pub struct Cast<'a, A: Actor, M = <A as Actor>::Msg> {
    process: &'a Process<A>,
    slot: Option<M>,
    key: WaiterKey,
}

impl<A: Actor, M> fmt::Debug for Cast<'_, A, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cast")
            .field("to", &self.process.pid)
            .finish_non_exhaustive()
    }
}

// The message is moved by value, never pinned, so the future can move freely.
impl<A: Actor, M> Unpin for Cast<'_, A, M> {}

impl<A: Actor, M> Cast<'_, A, M> {
    /// Gives up the send and gives the message back if it was not queued
    /// yet (`None` once it was): for a caller that waits for room under its
    /// own deadline and must not lose the message when the deadline passes.
    ///
    /// ```
    /// use std::{future::Future, pin::pin, task::{Context, Poll, Waker}};
    /// use foundation_mailbox::{Actor, ActorOptions, Context as ActorContext, start_with};
    /// # #[derive(Debug)] struct Log;
    /// # impl Actor for Log {
    /// #     type Args = (); type Msg = u32;
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut ActorContext<Self>) -> Result<Self, Self::Error> { Ok(Log) }
    /// #     async fn handle(&mut self, _: u32, _: &mut ActorContext<Self>) -> Result<(), Self::Error> {
    /// #         std::future::pending::<()>().await; Ok(())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (log, _handle) = start_with::<Log>((), ActorOptions::new().capacity(1)).await.unwrap();
    /// log.cast(1).await.unwrap();
    /// tokio::task::yield_now().await; // the handler takes 1 and never returns
    /// log.cast(2).await.unwrap(); // the mailbox is full now
    /// let mut third = log.cast(3);
    /// let waker = Waker::noop();
    /// assert!(std::pin::Pin::new(&mut third).poll(&mut Context::from_waker(&waker)).is_pending());
    /// assert_eq!(third.withdraw(), Some(3));
    /// # }
    /// ```
    pub fn withdraw(mut self) -> Option<M> {
        self.process.mailbox.cancel_push(&mut self.key);
        self.slot.take()
    }
}

impl<A: Actor, M: Into<A::Msg>> Future for Cast<'_, A, M> {
    type Output = Result<(), SendError<M>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let process = this.process;
        process
            .mailbox
            .poll_push(
                Some(cx),
                &mut this.slot,
                &mut this.key,
                Into::<A::Msg>::into,
                CAST,
            )
            .map(|outcome| settle(process, outcome))
    }
}

impl<A: Actor, M> Drop for Cast<'_, A, M> {
    fn drop(&mut self) {
        self.process.mailbox.cancel_push(&mut self.key);
    }
}

/// The waiting push behind calls: converts `U` into the actor's message
/// only once there is room, and queues it marked as a call. A request that
/// wakes a dormant callee runs it on the caller's task when it can (see
/// [`run_called`](crate::runtime::run_called)).
struct Push<'a, A: Actor, U, F> {
    process: &'a Arc<Process<A>>,
    slot: Option<U>,
    key: WaiterKey,
    into: F,
    /// Whether the callee's handler ran in the poll that queued the request.
    ran: bool,
}

impl<A: Actor, U, F> Unpin for Push<'_, A, U, F> {}

impl<A: Actor, U, F> Future for Push<'_, A, U, F>
where
    F: FnMut(U) -> A::Msg,
{
    type Output = Result<(), SendError<U>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let process = this.process;
        if !may_run_here(process) {
            return process
                .mailbox
                .poll_push(
                    Some(cx),
                    &mut this.slot,
                    &mut this.key,
                    &mut this.into,
                    CALL,
                )
                .map(|outcome| settle(process, outcome));
        }
        let offered = process.mailbox.poll_hand(
            Some(&mut *cx),
            &mut this.slot,
            &mut this.key,
            &mut this.into,
            CALL,
        );
        let Poll::Ready(offered) = offered else {
            return Poll::Pending;
        };
        Poll::Ready(match offered {
            Ok(Offered::Handed(request, activation)) => {
                run_called(Arc::clone(process), activation, request, cx);
                this.ran = true;
                Ok(())
            }
            Ok(Offered::Pushed(pushed, woken)) => {
                process.settle(pushed, woken);
                Ok(())
            }
            Err(PushError::Closed(request)) => Err(SendError::NoProcess(request)),
            Err(PushError::Full(request)) => Err(SendError::Full(request)),
        })
    }
}

impl<A: Actor, U, F> Drop for Push<'_, A, U, F> {
    fn drop(&mut self) {
        self.process.mailbox.cancel_push(&mut self.key);
    }
}
