//! [`Reply`]: the typed reply port a call puts inside its request.
//!
//! A call builds its request around a fresh port: `Msg::Get(reply)`. The
//! port's type fixes the reply's type at compile time, the handler answers
//! through it now or keeps it and answers later (OTP's `{noreply, State}`
//! and `gen_server:reply/2`), and a port dropped unanswered tells the caller
//! at once. What the caller is told depends on who dropped it:
//!
//! - a handler that returned `Ok`: [`CallError::NoReply`](crate::CallError::NoReply);
//! - a handler that failed, panicked or stopped the actor, or the actor's
//!   exit dropping the state that kept the port: the exit reason
//!   ([`CallError::Exited`](crate::CallError::Exited));
//! - the mailbox's overflow policy dropping the request:
//!   [`CallError::Dropped`](crate::CallError::Dropped).
//!
//! A handler's verdict is known only when it returns, so a port dropped
//! while an activation runs is held back until then, in a thread-local list
//! the activation takes with it between polls (its task may move to another
//! worker thread), and settled after each handler returns.

use std::{
    cell::{Cell, RefCell},
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use thiserror::Error;
use tokio::sync::oneshot;

/// Why a [`Reply`] port was dropped unanswered, as its
/// [`ReplyReceiver`] reports it.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// A handler returned without answering or keeping the port, and its
    /// actor goes on.
    #[error("the port was dropped without a reply")]
    NoReply,
    /// The mailbox's overflow policy dropped the request that held it.
    #[error("the request was dropped by the receiver's overflow policy")]
    Dropped,
    /// The actor holding the port is exiting (its handler failed or
    /// panicked, it was stopped or killed); its exit reason says why.
    #[error("the actor holding the port is exiting")]
    Exiting,
}

/// What the caller's receiver gets. A sender dropped without sending means
/// "the callee is exiting".
type Outcome<R> = Result<R, ReplyError>;

/// How an unanswered port is settled when the held-back verdict comes.
trait Settle: Send {
    /// The handler returned `Ok` and the actor goes on: tell the caller.
    fn no_reply(self: Box<Self>);
}

impl<R: Send> Settle for oneshot::Sender<Outcome<R>> {
    fn no_reply(self: Box<Self>) {
        // The caller may have given up already; then nobody is told.
        let _unheard = (*self).send(Err(ReplyError::NoReply));
    }
}

/// What a drop of an unanswered port does, set by the code dropping it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DropCause {
    /// The overflow policy dropped the request.
    Overflow,
    /// The callee is exiting: drop the sender, the caller waits for the reason.
    Exiting,
}

#[cfg(not(foundation_loom))]
// audit:allow(FND002) per-thread scratch of the activation being polled: set and emptied within each poll, nothing outlives it
std::thread_local! {
    /// Set while code that knows why ports die drops messages.
    static CAUSE: Cell<Option<DropCause>> = const { Cell::new(None) };
    /// Set while a handler is being polled on this thread.
    static IN_HANDLER: Cell<bool> = const { Cell::new(false) };
    /// Whether `HELD` may hold anything: the one read a handler's poll
    /// makes when nothing was dropped.
    static HELD_ANY: Cell<bool> = const { Cell::new(false) };
    /// Ports dropped during the current handler poll, awaiting its verdict.
    static HELD: RefCell<Vec<Box<dyn Settle>>> = const { RefCell::new(Vec::new()) };
}

// Loom runs every model thread on one OS thread: its thread-locals keep them
// apart.
#[cfg(foundation_loom)]
// audit:allow(FND002) the same scratch under loom, one per model thread
loom::thread_local! {
    static CAUSE: Cell<Option<DropCause>> = Cell::new(None);
    static IN_HANDLER: Cell<bool> = Cell::new(false);
    static HELD_ANY: Cell<bool> = Cell::new(false);
    static HELD: RefCell<Vec<Box<dyn Settle>>> = RefCell::new(Vec::new());
}

/// Runs `drop` with `cause` as the reason any unanswered port in it dies,
/// even inside a handler (an overflow the handler's own send caused).
pub(crate) fn dropping_with<T>(cause: DropCause, drop: impl FnOnce() -> T) -> T {
    let previous = CAUSE.with(|c| c.replace(Some(cause)));
    let in_handler = IN_HANDLER.with(|h| h.replace(false));
    let _restore = Restore(move || {
        CAUSE.with(|c| c.set(previous));
        IN_HANDLER.with(|h| h.set(in_handler));
    });
    drop()
}

/// Runs its closure when dropped, on unwinding too.
struct Restore<F: FnMut()>(F);

impl<F: FnMut()> Drop for Restore<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// The port a call's request carries; answer it with [`send`](Self::send).
///
/// The caller waits on the other end, within its timeout. A handler may
/// answer at once, or keep the port (in its state, in a message to another
/// actor, in a supervised task) and answer later: that is a deferred reply,
/// and the caller's timeout keeps running meanwhile. Dropping the port
/// unanswered tells the caller at once (see [`CallError`](crate::CallError)):
/// it never waits out its timeout for a reply nobody will send.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Actor, CallError, Context, Reply, start};
///
/// /// Hands out jobs; a worker that asks while there is none waits for one.
/// #[derive(Debug, Default)]
/// struct Jobs {
///     queued: Vec<String>,
///     waiting: Vec<Reply<String>>,
/// }
///
/// #[derive(Debug)]
/// enum Msg {
///     Submit(String),
///     Next(Reply<String>),
/// }
///
/// impl Actor for Jobs {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///
///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
///         Ok(Jobs::default())
///     }
///
///     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         match msg {
///             Msg::Submit(job) => match self.waiting.pop() {
///                 // A worker already asked: answer its deferred call now.
///                 Some(worker) => worker.send(job).unwrap_or_default(),
///                 None => self.queued.push(job),
///             },
///             Msg::Next(reply) => match self.queued.pop() {
///                 Some(job) => reply.send(job).unwrap_or_default(),
///                 None => self.waiting.push(reply),
///             },
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (jobs, _handle) = start::<Jobs>(()).await.unwrap();
/// let worker = {
///     let jobs = jobs.clone();
///     tokio::spawn(async move { jobs.call(Msg::Next, Duration::from_secs(5)).await })
/// };
/// jobs.cast(Msg::Submit("resize".into())).await.unwrap();
/// assert_eq!(worker.await.unwrap().unwrap(), "resize");
/// # }
/// ```
#[must_use = "a port dropped unanswered fails its caller with `CallError::NoReply`"]
pub struct Reply<R: Send + 'static> {
    sender: Option<oneshot::Sender<Outcome<R>>>,
}

impl<R: Send + 'static> Reply<R> {
    /// A port and the receiver that waits for its answer, for code that
    /// builds requests itself (a wrapper that forwards a call, a request
    /// sent by cast). [`ActorRef::call`](crate::ActorRef::call) makes its
    /// own; most code never needs this.
    ///
    /// ```
    /// use foundation_mailbox::{Reply, ReplyError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (port, answer) = Reply::<u32>::pair();
    /// port.send(7).unwrap();
    /// assert_eq!(answer.await, Ok(7));
    ///
    /// let (port, answer) = Reply::<u32>::pair();
    /// drop(port);
    /// assert_eq!(answer.await, Err(ReplyError::NoReply));
    /// # }
    /// ```
    pub fn pair() -> (Self, ReplyReceiver<R>) {
        let (sender, receiver) = oneshot::channel();
        (
            Self {
                sender: Some(sender),
            },
            ReplyReceiver { receiver },
        )
    }

    /// Answers the call. Gives the value back if the caller is no longer
    /// waiting (it timed out or was dropped); that is not an error of the
    /// handler, so most handlers ignore it.
    pub fn send(mut self, value: R) -> Result<(), R> {
        match self.sender.take() {
            Some(sender) => match sender.send(Ok(value)) {
                Ok(()) => Ok(()),
                Err(Ok(value)) => Err(value),
                // `send` hands back what it was given, which was `Ok`: there
                // is no value to give back from anything else.
                Err(Err(_)) => Ok(()),
            },
            None => Err(value),
        }
    }

    /// Whether the caller has stopped waiting, so an answer would be thrown
    /// away: a handler holding deferred replies can drop these early.
    pub fn is_closed(&self) -> bool {
        self.sender.as_ref().is_none_or(oneshot::Sender::is_closed)
    }
}

impl<R: Send + 'static> fmt::Debug for Reply<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("reply_type", &std::any::type_name::<R>())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<R: Send + 'static> Drop for Reply<R> {
    fn drop(&mut self) {
        let Some(sender) = self.sender.take() else {
            return;
        };
        // A handler's verdict comes first: inside one, the port waits for
        // it. Outside, whoever is dropping says why (the activation says
        // "exiting" around everything it drops that is not a handler's).
        if IN_HANDLER.with(Cell::get) {
            HELD.with(|held| held.borrow_mut().push(Box::new(sender)));
            HELD_ANY.with(|any| any.set(true));
            return;
        }
        match CAUSE.with(Cell::get) {
            Some(DropCause::Overflow) => {
                let _unheard = sender.send(Err(ReplyError::Dropped));
            }
            // Dropping the sender is the message: the caller waits for the
            // exit reason.
            Some(DropCause::Exiting) => drop(sender),
            None => {
                let _unheard = sender.send(Err(ReplyError::NoReply));
            }
        }
    }
}

/// The receiving end of a [`Reply`] port: a future of its answer, or of why
/// none will come. Made by [`Reply::pair`]. It has no timeout of its own:
/// wrap it in one (every wait in Foundation is bounded).
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct ReplyReceiver<R> {
    receiver: oneshot::Receiver<Outcome<R>>,
}

impl<R> Future for ReplyReceiver<R> {
    type Output = Result<R, ReplyError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.receiver)
            .poll(cx)
            .map(|received| received.unwrap_or(Err(ReplyError::Exiting)))
    }
}

/// What an activation keeps of the thread-local list between its polls:
/// the ports its handlers dropped, waiting for a verdict, while its task
/// waits (and may move to another worker thread).
#[derive(Default)]
pub(crate) struct Carried(Vec<Box<dyn Settle>>);

impl Carried {
    /// Settles what is carried, as [`settle_held`] does for the thread's list.
    #[inline]
    pub(crate) fn settle(&mut self, goes_on: bool) {
        if self.0.is_empty() {
            return;
        }
        settle(std::mem::take(&mut self.0), goes_on);
    }

    /// Enters an activation's poll on this thread: from here until the
    /// scope ends, an unanswered port dropped on this thread is held for a
    /// handler's verdict (see [`settle_held`]), and what this activation held
    /// before is back in the thread's list. Whatever the scope still holds
    /// when it ends goes back here; dropped with the activation, it tells
    /// each caller that the actor is exiting.
    #[inline(always)]
    pub(crate) fn enter(&mut self) -> ActivationScope<'_> {
        // Ports of an enclosing activation on this thread (a runtime run
        // inside a handler) are set aside, so this one settles only its own.
        let outer = match HELD_ANY.with(Cell::get) {
            false => None,
            true => Some(Box::new(take_held())),
        };
        if !self.0.is_empty() {
            self.restore();
        }
        ActivationScope {
            was_in_handler: IN_HANDLER.with(|h| h.replace(true)),
            outer,
            carried: self,
        }
    }
}

/// Empties the thread's list.
#[cold]
fn take_held() -> Vec<Box<dyn Settle>> {
    HELD_ANY.with(|any| any.set(false));
    HELD.with(|held| std::mem::take(&mut *held.borrow_mut()))
}

impl Carried {
    /// Puts what this activation held back into the thread's list.
    #[cold]
    fn restore(&mut self) {
        HELD.with(|held| held.borrow_mut().append(&mut self.0));
        HELD_ANY.with(|any| any.set(true));
    }
}

/// One poll of an activation; see [`Carried::enter`]. Ends on return and on
/// unwinding.
pub(crate) struct ActivationScope<'a> {
    was_in_handler: bool,
    // Boxed, so that the scope's usual `None` is one word: a three-word
    // `None`, written with one store and moved with wider loads, stalled
    // every activation's poll on a failed store-to-load forward.
    #[allow(clippy::box_collection)] // the box is the point: one word
    outer: Option<Box<Vec<Box<dyn Settle>>>>,
    carried: &'a mut Carried,
}

impl Drop for ActivationScope<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        IN_HANDLER.with(|h| h.set(self.was_in_handler));
        if HELD_ANY.with(Cell::get) || self.outer.is_some() {
            self.leave();
        }
    }
}

impl ActivationScope<'_> {
    /// Takes this activation's ports with it and gives the thread back
    /// what an enclosing activation held.
    #[cold]
    fn leave(&mut self) {
        HELD.with(|held| {
            let mut held = held.borrow_mut();
            self.carried.0.append(&mut held);
            if let Some(mut outer) = self.outer.take() {
                held.append(&mut outer);
            }
            HELD_ANY.with(|any| any.set(!held.is_empty()));
        });
    }
}

/// Settles the ports dropped since the last verdict in this activation,
/// now that a handler has returned: `goes_on` (it returned `Ok` and did not
/// stop the actor) tells each caller there will be no reply; otherwise the
/// actor is exiting and each caller gets its exit reason.
#[inline(always)]
pub(crate) fn settle_held(goes_on: impl FnOnce() -> bool) {
    if HELD_ANY.with(Cell::get) {
        settle_held_now(goes_on());
    }
}

#[cold]
fn settle_held_now(goes_on: bool) {
    settle(take_held(), goes_on);
}

/// Tells each held port's caller "no reply" if the actor goes on; otherwise
/// each sender goes unanswered and its caller waits for the exit reason.
fn settle(held: Vec<Box<dyn Settle>>, goes_on: bool) {
    if goes_on {
        held.into_iter().for_each(Settle::no_reply);
    }
}
