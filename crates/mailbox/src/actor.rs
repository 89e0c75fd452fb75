//! The [`Actor`] trait, shaped like an OTP GenServer, and its [`Context`].

use std::future::Future;

use crate::{ActorRef, ExitReason, Pid, SystemMessage, timer::Timers};

/// A process with private state that handles one message at a time.
///
/// Shaped like Erlang's `gen_server`: [`init`](Actor::init) turns arguments
/// into state; [`handle`](Actor::handle) takes each message of the actor's
/// one message type, [`handle_system`](Actor::handle_system) sees monitor
/// and trapped exit notifications, and [`terminate`](Actor::terminate)
/// cleans up.
///
/// Requests that want an answer carry a typed [`Reply`](crate::Reply) port:
/// `Msg::Get(Reply<u64>)` is answered with a `u64`, checked at compile time,
/// and [`ActorRef::call`] builds the request around a fresh port
/// (`counter.call(Msg::Get, timeout)`). A handler answers through the port at
/// once, or keeps it and answers later (a deferred reply).
///
/// A handler that returns `Err` ends the actor with
/// [`ExitReason::Error`] after `terminate` runs. A handler that panics ends it
/// with [`ExitReason::Panic`]; the panic is caught at the message loop and
/// never reaches the runtime or other actors. `terminate` is skipped after a
/// panic, because the state may be half-updated: put cleanup that must always
/// run in `Drop`.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Actor, Context, Reply, start};
///
/// #[derive(Debug)]
/// struct Counter(u64);
///
/// #[derive(Debug)]
/// enum Msg {
///     Add(u64),
///     Get(Reply<u64>),
/// }
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("counter overflow")]
/// struct Overflowed;
///
/// impl Actor for Counter {
///     type Args = u64;
///     type Msg = Msg;
///     type Error = Overflowed;
///
///     async fn init(start: u64, _ctx: &mut Context<Self>) -> Result<Self, Overflowed> {
///         Ok(Counter(start))
///     }
///
///     async fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) -> Result<(), Overflowed> {
///         match msg {
///             Msg::Add(n) => self.0 = self.0.checked_add(n).ok_or(Overflowed)?,
///             Msg::Get(reply) => reply.send(self.0).unwrap_or_default(),
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let (counter, _handle) = start::<Counter>(40).await.unwrap();
/// counter.cast(Msg::Add(2)).await.unwrap();
/// assert_eq!(counter.call(Msg::Get, Duration::from_secs(1)).await.unwrap(), 42);
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an `Actor`",
    note = "if `{Self}` implements `PersistentActor`, it runs as `foundation_persistence::Persistent<{Self}>`: start it with `foundation_persistence::start`, or supervise it with `ChildSpec::persistent` (the supervisor's `persistence` feature)"
)]
pub trait Actor: Sized + Send + 'static {
    /// What `init` starts from.
    type Args: Send + 'static;
    /// The messages this actor handles: usually an enum with one variant per
    /// kind of message, where a request carries its [`Reply`](crate::Reply)
    /// port.
    type Msg: Send + 'static;
    /// Why a handler failed; it becomes the exit reason.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Builds the state. [`start`](crate::start) waits for it and returns its
    /// error; the actor handles no message before it returns.
    fn init(
        args: Self::Args,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    /// Handles one message: a cast, a call's request (answer its port), a
    /// timer's tick or a stream's item.
    fn handle(
        &mut self,
        message: Self::Msg,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Handles a system message: a monitor's DOWN, or a linked process's exit
    /// when this actor traps exits. Ignores them by default.
    fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = (message, ctx);
        async { Ok(()) }
    }

    /// Whether a call may run this actor's handler on the caller's task
    /// (a plain task's, or the calling actor's) when it finds the actor
    /// dormant. The
    /// caller waits for the reply anyway, so by default it does: no task
    /// switch, and on a multi-thread runtime no trip to another core. The
    /// handler runs there until it would wait (then the actor moves to a
    /// task of its own) and never past the caller's request.
    ///
    /// Set it to `false` for an actor whose handlers do long stretches of
    /// CPU work that callers fan out in parallel (`join!` over calls to
    /// several such actors): each call then starts a task that another
    /// worker can run. See `docs/handoff.md`, "Calls run on the caller's
    /// task".
    ///
    /// ```
    /// use foundation_mailbox::{Actor, Context, Reply};
    ///
    /// #[derive(Debug)]
    /// struct Hasher;
    ///
    /// impl Actor for Hasher {
    ///     type Args = ();
    ///     type Msg = (Vec<u8>, Reply<u64>);
    ///     type Error = std::convert::Infallible;
    ///     // Hashing megabytes: callers hash several files at once.
    ///     const INLINE_CALLS: bool = false;
    ///
    ///     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
    ///         Ok(Hasher)
    ///     }
    ///
    ///     async fn handle(&mut self, (bytes, reply): Self::Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
    ///         let sum = bytes.iter().fold(0_u64, |sum, &byte| sum.rotate_left(5) ^ u64::from(byte));
    ///         reply.send(sum).unwrap_or_default();
    ///         Ok(())
    ///     }
    /// }
    /// ```
    const INLINE_CALLS: bool = true;

    /// How this actor's messages are named where the message itself is gone:
    /// in a dead call's [`DeadLetter::type_name`](crate::DeadLetter::type_name).
    /// By default the type name of [`Msg`](Actor::Msg); an actor that wraps
    /// another's messages (as persistence does) names the wrapped type, the
    /// one its user wrote.
    fn message_type_name() -> &'static str {
        std::any::type_name::<Self::Msg>()
    }

    /// Runs when the actor stops on request, on shutdown, or after a handler
    /// returned an error. Not after a panic or a kill.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Context<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }
}

/// What a handler knows about its own process and can ask of the runtime.
#[derive(Debug)]
pub struct Context<A: Actor> {
    myself: ActorRef<A>,
    stop: Option<ExitReason>,
    /// The actor's timers; they go with its state between activations.
    pub(crate) timers: Timers<A>,
}

impl<A: Actor> Context<A> {
    pub(crate) fn new(myself: ActorRef<A>) -> Self {
        Self {
            myself,
            stop: None,
            timers: Timers::default(),
        }
    }

    /// This actor's reference and its timers, borrowed apart: a timer's
    /// tick is checked against the timers with the actor's process.
    pub(crate) fn myself_and_timers(&mut self) -> (&ActorRef<A>, &mut Timers<A>) {
        (&self.myself, &mut self.timers)
    }

    /// This actor's pid.
    pub fn pid(&self) -> Pid {
        self.myself.pid()
    }

    /// A reference to this actor, to hand to others.
    pub fn myself(&self) -> &ActorRef<A> {
        &self.myself
    }

    /// Stops this actor once the current handler returns: `terminate` runs
    /// with `reason`, then the actor exits with it.
    pub fn stop(&mut self, reason: ExitReason) {
        self.stop = Some(reason);
    }

    /// Turns exit signals from linked processes into
    /// [`SystemMessage::Exit`] messages instead of exits (OTP's `trap_exit`).
    /// The flag lives in the process, so it holds from the next exit
    /// signal on, whichever task runs the actor.
    pub fn trap_exits(&mut self, trap: bool) {
        self.myself.process.mailbox.set_trap_exits(trap);
    }

    /// Whether this actor traps exits.
    pub fn is_trapping_exits(&self) -> bool {
        self.myself.process.mailbox.is_trapping_exits()
    }

    /// Whether a handler asked this actor to stop.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stop.is_some()
    }

    pub(crate) fn take_stop(&mut self) -> Option<ExitReason> {
        self.stop.take()
    }
}
