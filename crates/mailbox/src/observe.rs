//! What an actor's work looks like from outside: the `foundation::actor`
//! spans its activations and handlers run in, and the panic hook that knows
//! which actor panicked.
//!
//! An activation runs in an `activation` span (fields `pid`, `actor`), and
//! each message it handles in a `message` span inside it (field `kind`:
//! `init`, `user`, `system`, `timer` or `stop`), both at INFO under target
//! `foundation::actor`. Whether the activation's span is enabled is asked
//! once, when the activation is made; an activation nobody traces makes no
//! message spans, and its handlers pay a check of an empty span per poll.
//!
//! While a handler runs, a thread-local says which actor and which kind of
//! message it is; [`install_panic_hook`] reads it.

use std::{
    any::type_name,
    backtrace::{Backtrace, BacktraceStatus},
    cell::Cell,
    fmt,
    future::Future,
    panic::PanicHookInfo,
    pin::Pin,
    sync::Once,
    task::{Context, Poll},
};

use pin_project_lite::pin_project;
use tracing::{Level, Span};

use crate::Pid;

/// The target of the actor spans and of the panic hook's event: filter on
/// it to keep or drop them.
///
/// ```
/// assert_eq!(foundation::mailbox::ACTOR_TARGET, "foundation::actor");
/// ```
pub const ACTOR_TARGET: &str = "foundation::actor";

/// What an actor was doing: the `kind` field of its `message` span, and of
/// the panic hook's report.
///
/// ```
/// use foundation::mailbox::HandlerKind;
///
/// assert_eq!(HandlerKind::User.as_str(), "user");
/// assert_eq!(HandlerKind::Stop.to_string(), "stop");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandlerKind {
    /// `init`, for an actor started with `spawn` or `start`.
    Init,
    /// A message of the actor's own type, cast or called.
    User,
    /// A system message: a monitor's `Down`, a trapped exit.
    System,
    /// A timer's message.
    Timer,
    /// `terminate`, after a stop request, an error or a stop from `init`.
    Stop,
}

impl HandlerKind {
    /// The lowercase name used in spans and events.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Init => "init",
            Self::User => "user",
            Self::System => "system",
            Self::Timer => "timer",
            Self::Stop => "stop",
        }
    }
}

impl fmt::Display for HandlerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which actor this thread is running.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope {
    pid: Pid,
    actor: &'static str,
}

impl Scope {
    pub(crate) fn of<A>(pid: Pid) -> Self {
        Self {
            pid,
            actor: type_name::<A>(),
        }
    }
}

// audit:allow(FND002) what the thread runs now, read by the process-wide panic hook, which is given nothing else; each activation's poll sets and restores it
thread_local! {
    static SCOPE: Cell<Option<Scope>> = const { Cell::new(None) };
    // What the actor in `SCOPE` handles: apart, so the message loop sets it
    // with one store per message.
    static KIND: Cell<Option<HandlerKind>> = const { Cell::new(None) };
    // Set by the panic hook when it reported a panic inside an actor, so the
    // message loop's own event for that panic is not a second report.
    static REPORTED: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as running an actor until dropped, and restores what
/// was there before (an actor's `start` runs `init` on its caller's task,
/// which may itself be an actor's).
pub(crate) struct Entered {
    scope: Option<Scope>,
    kind: Option<HandlerKind>,
}

impl Entered {
    /// Enters `scope`, handling `kind` (what it handled when its task was
    /// last polled).
    #[inline(always)]
    pub(crate) fn new(scope: Scope, kind: Option<HandlerKind>) -> Self {
        Self {
            scope: SCOPE.replace(Some(scope)),
            kind: KIND.replace(kind),
        }
    }

    /// What the actor handles now, to enter with on its next poll.
    #[inline(always)]
    pub(crate) fn kind(&self) -> Option<HandlerKind> {
        KIND.get()
    }
}

impl Drop for Entered {
    #[inline(always)]
    fn drop(&mut self) {
        SCOPE.set(self.scope);
        KIND.set(self.kind);
    }
}

/// Makes actor `A` with `pid` the one this thread runs, for the rest of the
/// poll: its message loop took that actor over from the one it entered as.
pub(crate) fn rescope<A>(pid: Pid) {
    SCOPE.set(Some(Scope::of::<A>(pid)));
}

/// Whether the panic hook already reported the panic just caught on this
/// thread; clears the mark.
pub(crate) fn take_reported() -> bool {
    REPORTED.replace(false)
}

/// The span of one activation of actor `A`, with no parent: an activation
/// belongs to the actor, not to whoever's message woke it.
#[inline]
pub(crate) fn activation_span<A>(pid: Pid) -> Span {
    tracing::span!(target: "foundation::actor", parent: None, Level::INFO, "activation", pid = %pid, actor = %type_name::<A>())
}

/// [`activation_span`] as something that keeps it, made by `keep` (a box)
/// only when somebody traces the actor. An empty `Span` is still five
/// words: kept as it is, written one by one and then moved with wider
/// loads into an activation task, it stalled every activation on failed
/// store-to-load forwards. Inlined, so that the span never leaves
/// registers when it is empty.
#[inline(always)]
pub(crate) fn kept_activation_span<A, T>(pid: Pid, keep: impl FnOnce(Span) -> T) -> Option<T> {
    let span = activation_span::<A>(pid);
    (!span.is_disabled()).then(|| keep(span))
}

/// Tells the panic hook what the actor entered on this thread handles now.
#[inline(always)]
pub(crate) fn set_kind(kind: HandlerKind) {
    KIND.set(Some(kind));
}

/// The span of one handler, inside the activation's (the current span).
#[inline]
pub(crate) fn message_span(kind: HandlerKind) -> Span {
    tracing::span!(target: "foundation::actor", Level::INFO, "message", kind = %kind)
}

/// Awaits a handler, the handler of a `kind` message, inside the activation
/// entered on this thread: tells the panic hook what it handles, and when
/// the activation is `traced`, runs it in a `message` span.
///
/// A macro, not an `async fn`: a wrapping future would move each handler's
/// future once more and cost the message loop a state machine per message.
/// An activation handles `user` messages unless told otherwise, so the
/// common case costs one branch: other kinds say so and set `user` back.
macro_rules! handled {
    ($traced:expr, User, $handler:expr) => {{
        let kind = $crate::observe::HandlerKind::User;
        if $traced {
            ::tracing::Instrument::instrument($handler, $crate::observe::message_span(kind)).await
        } else {
            $handler.await
        }
    }};
    ($traced:expr, $kind:ident, $handler:expr) => {{
        let kind = $crate::observe::HandlerKind::$kind;
        $crate::observe::set_kind(kind);
        let outcome = if $traced {
            ::tracing::Instrument::instrument($handler, $crate::observe::message_span(kind)).await
        } else {
            $handler.await
        };
        $crate::observe::set_kind($crate::observe::HandlerKind::User);
        outcome
    }};
}
pub(crate) use handled;

pin_project! {
    /// Actor code run on another task: `init` on `start`'s caller's task,
    /// a dormant actor's `terminate` on its stopper's. Entered as the actor
    /// on every poll, and in its spans when someone traces them.
    pub(crate) struct Borrowed<F> {
        #[pin]
        future: F,
        scope: Scope,
        kind: HandlerKind,
        // An activation span and its message span; boxed, and only
        // when traced, so an untraced start carries one pointer, not two
        // spans, through every poll and move.
        spans: Option<Box<[Span; 2]>>,
    }
}

impl<F> Borrowed<F> {
    #[inline(always)]
    pub(crate) fn new<A>(future: F, pid: Pid, kind: HandlerKind) -> Self {
        let spans = kept_activation_span::<A, _>(pid, |activation| {
            let message = activation.in_scope(|| message_span(kind));
            Box::new([activation, message])
        });
        Self {
            future,
            scope: Scope::of::<A>(pid),
            kind,
            spans,
        }
    }
}

impl<F: Future> Future for Borrowed<F> {
    type Output = F::Output;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _entered = Entered::new(*this.scope, Some(*this.kind));
        match this.spans {
            Some(spans) => {
                let _activation = spans[0].enter();
                let _message = spans[1].enter();
                this.future.poll(cx)
            }
            None => this.future.poll(cx),
        }
    }
}

/// Installs a panic hook that reports a panic inside an actor once, as an
/// ERROR event under target `foundation::actor` with the actor's `pid`, its
/// type (`actor`), what it was handling (`kind`, see [`HandlerKind`]), the
/// panic's message and location, and a backtrace when `RUST_BACKTRACE` asks
/// for one. The message loop then records no event of its own for that
/// panic: the actor's exit, with reason [`ExitReason::Panic`](crate::ExitReason::Panic),
/// is all that follows.
///
/// A panic outside every actor, or one inside an actor while no tracing
/// subscriber takes ERROR events for `foundation::actor`, goes to the hook
/// that was installed before (by default, Rust's, which prints it). Calling
/// this more than once installs the hook once.
///
/// A panic that the actor's own code catches (with `catch_unwind`) is
/// reported too: the hook runs before anyone knows it will be caught.
///
/// ```
/// foundation::mailbox::install_panic_hook();
/// // A panic outside actors still reaches Rust's default hook.
/// assert!(std::panic::catch_unwind(|| panic!("outside")).is_err());
/// ```
pub fn install_panic_hook() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            match SCOPE.get() {
                Some(scope) if tracing::enabled!(target: "foundation::actor", Level::ERROR) => {
                    report(scope, KIND.get(), info);
                    REPORTED.set(true);
                }
                // The flag always speaks of the latest panic on this thread.
                _ => {
                    REPORTED.set(false);
                    previous(info);
                }
            }
        }));
    });
}

fn report(scope: Scope, kind: Option<HandlerKind>, info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>");
    let location = info.location().map(ToString::to_string).unwrap_or_default();
    let kind = kind.map_or("none", HandlerKind::as_str);
    let backtrace = Backtrace::capture();
    if backtrace.status() == BacktraceStatus::Captured {
        tracing::error!(target: "foundation::actor", pid = %scope.pid, actor = %scope.actor, kind = %kind, panic = %message, %location, %backtrace, "actor panicked");
    } else {
        tracing::error!(target: "foundation::actor", pid = %scope.pid, actor = %scope.actor, kind = %kind, panic = %message, %location, "actor panicked");
    }
}
