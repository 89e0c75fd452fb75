//! The supervisor's errors: invalid specs, children that failed to start,
//! runtime operations refused, and supervisors that could not be reached.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{
    Actor, ActorRef, CallError, ErrorCause, ExitReason, Operation, StartError, TimeoutConfig,
};
use thiserror::Error;

/// What went wrong starting a supervisor or asking one to do something.
///
/// ```
/// use foundation_supervisor::SupervisorError;
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
/// use foundation_supervisor::StartPanicked;
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
pub(crate) async fn call<A: Actor>(
    supervisor: &ActorRef<A>,
    request: A::Call,
) -> Result<A::Reply, SupervisorError> {
    let timeout = TimeoutConfig::current().timeout(Operation::Call);
    supervisor
        .call(request, timeout)
        .await
        .map_err(|error| SupervisorError::from_call(error, timeout))
}

impl SupervisorError {
    fn from_call<M>(error: CallError<M>, timeout: Duration) -> Self {
        match error {
            CallError::NoProcess(_) => Self::Exited(ExitReason::NoProcess),
            CallError::Exited(reason) => Self::Exited(reason),
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
