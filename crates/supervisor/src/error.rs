//! The supervisor's errors: invalid specs, children that failed to start,
//! runtime operations refused, and supervisors that could not be reached.

use std::{fmt, sync::Arc, time::Duration};

use foundation_mailbox::{
    Actor, ActorRef, CallError, ErrorCause, ExitReason, Operation, Reply, StartError, TimeoutConfig,
};
use thiserror::Error;

/// What went wrong starting a supervisor or asking one to do something.
///
/// ```
/// use foundation::supervisor::SupervisorError;
///
/// let error = SupervisorError::NotFound("cache".into());
/// assert_eq!(error.to_string(), "no child `cache` in this supervisor");
/// ```
#[derive(Debug, Error, Clone)]
pub enum SupervisorError {
    /// Two children share an id.
    #[error("child id `{0}` is already used in this supervisor")]
    DuplicateChild(Arc<str>),
    /// A child spec breaks one of OTP's rules.
    #[error("invalid child `{id}`: {problem}")]
    InvalidChild {
        /// The child.
        id: Arc<str>,
        /// Which rule, and how to fix it.
        problem: &'static str,
    },
    /// The restart intensity's period is zero, which would switch the
    /// restart limit off (OTP's `invalid_period`). Returned by
    /// [`SupervisorSpec::validate`](crate::SupervisorSpec::validate) and
    /// [`DynamicSpec::validate`](crate::DynamicSpec::validate), so by every
    /// supervisor's start.
    #[error("invalid intensity period {0:?}: it must be longer than zero")]
    InvalidPeriod(Duration),
    /// A child's start function failed. When a supervisor's start fails
    /// this way, the children already started were stopped first, in
    /// reverse order.
    #[error("child `{id}` failed to start: {cause}")]
    ChildStart {
        /// The child.
        id: Arc<str>,
        /// The error its start function returned.
        cause: ErrorCause,
    },
    /// No child with this id.
    #[error("no child `{0}` in this supervisor")]
    NotFound(Arc<str>),
    /// The child is running; terminate it first.
    #[error("child `{0}` is running: terminate it first")]
    Running(Arc<str>),
    /// The child's restart failed and is being tried again (OTP's
    /// `restarting`): [`SupervisorRef::restart_child`](crate::SupervisorRef::restart_child)
    /// and [`SupervisorRef::delete_child`](crate::SupervisorRef::delete_child)
    /// refuse it; [`SupervisorRef::terminate_child`](crate::SupervisorRef::terminate_child)
    /// ends the retries.
    #[error("child `{0}` is restarting")]
    Restarting(Arc<str>),
    /// A dynamic supervisor already runs its `max_children`.
    #[error("the supervisor already runs its maximum of {0} children")]
    MaxChildren(usize),
    /// A dynamic supervisor has no child with this pid.
    #[error("no child with pid {0} in this supervisor")]
    NoSuchPid(foundation_mailbox::Pid),
    /// The supervisor's own process failed to start.
    #[error("the supervisor did not start: {0}")]
    Start(StartError),
    /// The supervisor has exited.
    #[error("the supervisor has exited: {0}")]
    Exited(ExitReason),
    /// The supervisor did not answer in time; it may be busy restarting or
    /// stopping children.
    #[error("the supervisor did not answer within {0:?}")]
    Timeout(Duration),
    /// The supervisor let go of the request without answering it. Its
    /// handlers answer every request, so this is a bug in this crate, told
    /// to the caller as an error rather than a panic; please report it.
    #[error("the supervisor dropped the request without answering")]
    NoReply,
}

/// A child's start function panicked. The supervisor survives it: the
/// panic comes back as the `cause` of [`SupervisorError::ChildStart`]
/// (from [`Supervisor::start`](crate::Supervisor::start),
/// [`SupervisorRef::start_child`](crate::SupervisorRef::start_child),
/// [`SupervisorRef::restart_child`](crate::SupervisorRef::restart_child) or
/// [`DynamicSupervisorRef::start_child`](crate::DynamicSupervisorRef::start_child)),
/// and a failed restart is retried like any other start failure.
///
/// ```
/// use foundation::supervisor::StartPanicked;
///
/// let panic = StartPanicked { message: "no config".into() };
/// assert_eq!(panic.to_string(), "start function panicked: no config");
/// ```
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("start function panicked: {message}")]
pub struct StartPanicked {
    /// The panic's message.
    pub message: Arc<str>,
}

/// Calls a supervisor process with the configured call timeout; a failure
/// comes back as the error a supervisor's caller sees.
pub(crate) async fn call<A, M, R>(
    supervisor: &ActorRef<A>,
    request: impl FnOnce(Reply<R>) -> M,
) -> Result<R, SupervisorError>
where
    A: Actor,
    M: Into<A::Msg>,
    R: Send + 'static,
{
    let timeout = TimeoutConfig::current().timeout(Operation::Call);
    supervisor
        .call(request, timeout)
        .await
        .map_err(|error| SupervisorError::from_call(error, timeout))
}

/// Answers a request to a supervisor process. A caller that stopped
/// waiting (its timeout passed) is no failure of the supervisor's, so it is
/// only traced.
pub(crate) fn answer<R: Send + 'static>(reply: Reply<R>, value: R) {
    if reply.send(value).is_err() {
        tracing::trace!(target: "foundation::supervisor", request = std::any::type_name::<R>(), "caller stopped waiting before the answer");
    }
}

impl SupervisorError {
    fn from_call<M>(error: CallError<M>, timeout: Duration) -> Self {
        match error {
            CallError::NoProcess(_) => Self::Exited(ExitReason::NoProcess),
            CallError::Exited(reason) => Self::Exited(reason),
            CallError::NoReply => Self::NoReply,
            CallError::Full(_)
            | CallError::SendTimeout(_)
            | CallError::Dropped
            | CallError::Timeout => Self::Timeout(timeout),
        }
    }

    /// The panic message, when this is a child's start function that
    /// panicked ([`StartPanicked`]).
    pub fn start_panic(&self) -> Option<&str> {
        match self {
            Self::ChildStart { cause, .. } => cause
                .downcast_ref::<StartPanicked>()
                .map(|panic| &*panic.message),
            _ => None,
        }
    }

    /// Turns a failed start of a supervisor process into the error its
    /// caller sees: a child's failure to start comes back as itself.
    pub(crate) fn from_start(error: StartError) -> Self {
        if let StartError::Init(ExitReason::Error(cause)) = &error
            && let Some(inner) = cause.downcast_ref::<SupervisorError>()
        {
            return inner.clone();
        }
        Self::Start(error)
    }
}

/// Why [`SupervisorRef::child_ref`](crate::SupervisorRef::child_ref) gave no
/// reference.
///
/// ```
/// use foundation::supervisor::ChildRefError;
///
/// let error = ChildRefError::WrongType { id: "cache".into(), expected: "Cache" };
/// assert_eq!(error.to_string(), "child `cache` is not a `Cache`");
/// ```
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChildRefError {
    /// No child with this id.
    #[error("no child `{0}` in this supervisor")]
    NotFound(Arc<str>),
    /// The child runs another actor type than the one asked for.
    #[error("child `{id}` is not a `{expected}`")]
    WrongType {
        /// The child.
        id: Arc<str>,
        /// The type asked for.
        expected: &'static str,
    },
}

/// A call through a [`ChildRef`](crate::ChildRef) that produced no reply.
///
/// Returned by [`ChildRef::call`](crate::ChildRef::call). When the request
/// was never delivered, it is inside.
#[derive(Error)]
pub enum ChildCallError<M> {
    /// The child was restarting for the whole timeout (its restart slow, or
    /// failing and being retried); the request was not delivered.
    #[error("child is restarting")]
    Restarting(M),
    /// The child is not running and will not come back by itself
    /// (terminated, or exited and not restarted); the request was not
    /// delivered.
    #[error("child is not running")]
    NotRunning(M),
    /// The child is no longer in its supervisor: deleted, or the supervisor
    /// exited. The request was not delivered.
    #[error("child is no longer supervised")]
    Removed(M),
    /// The running incarnation is not of the reference's actor type: only
    /// possible for a child whose untyped start function
    /// ([`ChildSpec::worker`](crate::ChildSpec::worker)) started another
    /// type than before. The request was not delivered.
    #[error("child is of another actor type")]
    WrongType(M),
    /// The child's mailbox is full and its overflow policy refuses messages.
    #[error("mailbox full")]
    Full(M),
    /// No room in the child's mailbox within the timeout; the request was
    /// not delivered.
    #[error("timed out waiting for room in the child's mailbox")]
    SendTimeout(M),
    /// The child's overflow policy dropped the request; it is a dead letter.
    #[error("request dropped by the child's overflow policy")]
    Dropped,
    /// The request was delivered but no reply came within the timeout.
    #[error("call timed out")]
    Timeout,
    /// The request was delivered and the child exited before replying,
    /// with this reason. It is not sent again to the next incarnation: the
    /// request may have been half done.
    #[error("child exited: {0}")]
    Exited(ExitReason),
    /// The request was delivered and the child's handler dropped its
    /// [`Reply`] port unanswered; the child goes on, but no reply will come.
    #[error("the child dropped the request without replying")]
    NoReply,
}

impl<M> ChildCallError<M> {
    /// A failed call to one incarnation, as the child reference reports it:
    /// an incarnation that is gone means the child is not running.
    pub(crate) fn from_call(error: CallError<M>) -> Self {
        match error {
            CallError::NoProcess(request) => Self::NotRunning(request),
            CallError::Full(request) => Self::Full(request),
            CallError::SendTimeout(request) => Self::SendTimeout(request),
            CallError::Dropped => Self::Dropped,
            CallError::Timeout => Self::Timeout,
            CallError::Exited(reason) => Self::Exited(reason),
            CallError::NoReply => Self::NoReply,
        }
    }

    /// The request, when it was never delivered.
    pub fn into_message(self) -> Option<M> {
        match self {
            Self::Restarting(message)
            | Self::NotRunning(message)
            | Self::Removed(message)
            | Self::WrongType(message)
            | Self::Full(message)
            | Self::SendTimeout(message) => Some(message),
            Self::Dropped | Self::Timeout | Self::Exited(_) | Self::NoReply => None,
        }
    }

    /// Whether the call failed because the child was restarting.
    pub fn is_restarting(&self) -> bool {
        matches!(self, Self::Restarting(_))
    }
}

impl<M> fmt::Debug for ChildCallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Restarting(_) => f.write_str("Restarting(..)"),
            Self::NotRunning(_) => f.write_str("NotRunning(..)"),
            Self::Removed(_) => f.write_str("Removed(..)"),
            Self::WrongType(_) => f.write_str("WrongType(..)"),
            Self::Full(_) => f.write_str("Full(..)"),
            Self::SendTimeout(_) => f.write_str("SendTimeout(..)"),
            Self::Dropped => f.write_str("Dropped"),
            Self::Timeout => f.write_str("Timeout"),
            Self::Exited(reason) => f.debug_tuple("Exited").field(reason).finish(),
            Self::NoReply => f.write_str("NoReply"),
        }
    }
}

/// A cast through a [`ChildRef`](crate::ChildRef) that was not accepted;
/// the message is inside.
///
/// Returned by [`ChildRef::cast`](crate::ChildRef::cast),
/// [`ChildRef::try_cast`](crate::ChildRef::try_cast) and their `_from`
/// forms.
#[derive(Error, PartialEq, Eq)]
pub enum ChildSendError<M> {
    /// The child is restarting: `try_cast` does not wait, `cast` waited the
    /// default timeout.
    #[error("child is restarting")]
    Restarting(M),
    /// The child is not running and will not come back by itself.
    #[error("child is not running")]
    NotRunning(M),
    /// The child is no longer in its supervisor.
    #[error("child is no longer supervised")]
    Removed(M),
    /// The running incarnation is not of the reference's actor type (see
    /// [`ChildCallError::WrongType`]).
    #[error("child is of another actor type")]
    WrongType(M),
    /// The mailbox is full: `try_cast` never waits, and a mailbox with
    /// [`Overflow::Reject`](foundation_mailbox::Overflow::Reject) refuses.
    #[error("mailbox full")]
    Full(M),
}

impl<M> ChildSendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::Restarting(message)
            | Self::NotRunning(message)
            | Self::Removed(message)
            | Self::WrongType(message)
            | Self::Full(message) => message,
        }
    }
}

impl<M> fmt::Debug for ChildSendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Restarting(_) => "Restarting(..)",
            Self::NotRunning(_) => "NotRunning(..)",
            Self::Removed(_) => "Removed(..)",
            Self::WrongType(_) => "WrongType(..)",
            Self::Full(_) => "Full(..)",
        })
    }
}
