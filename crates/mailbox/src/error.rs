//! The errors of the process core, one type per operation.
//!
//! Errors for operations that carry a message give it back, so a failed send
//! loses nothing. Their `Debug` does not require the message to be `Debug`.

use std::{fmt, time::Duration};

use thiserror::Error;

use crate::ExitReason;

/// A cast that was not accepted; the message is inside.
///
/// Returned by [`ActorRef::cast`](crate::ActorRef::cast),
/// [`ActorRef::try_cast`](crate::ActorRef::try_cast) and
/// [`Recipient::send`](crate::Recipient::send).
#[derive(Error, PartialEq, Eq)]
pub enum SendError<M> {
    /// The process has exited (or never existed); nothing will handle the message.
    #[error("no process")]
    NoProcess(M),
    /// The mailbox is full: `try_cast` never waits, and a mailbox with
    /// [`Overflow::Reject`](crate::Overflow::Reject) refuses instead of waiting.
    #[error("mailbox full")]
    Full(M),
}

impl<M> SendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::NoProcess(message) | Self::Full(message) => message,
        }
    }

    /// Whether the send failed because the process is gone.
    pub fn is_no_process(&self) -> bool {
        matches!(self, Self::NoProcess(_))
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoProcess(_) => f.write_str("NoProcess(..)"),
            Self::Full(_) => f.write_str("Full(..)"),
        }
    }
}

/// A call that did not produce a reply.
///
/// Returned by [`ActorRef::call`](crate::ActorRef::call). When the request was
/// never delivered, the message is inside.
#[derive(Error)]
pub enum CallError<M> {
    /// The callee had exited before the call; it failed at once, without
    /// waiting for the timeout.
    #[error("no process")]
    NoProcess(M),
    /// The callee's mailbox is full and its overflow policy refuses messages.
    #[error("mailbox full")]
    Full(M),
    /// No room in the callee's mailbox within the timeout; the request was
    /// not delivered.
    #[error("timed out waiting for room in the callee's mailbox")]
    SendTimeout(M),
    /// The callee's overflow policy dropped the request; it is a dead letter.
    #[error("request dropped by the callee's overflow policy")]
    Dropped,
    /// The request was delivered but no reply came within the timeout.
    /// A reply that arrives later is dropped.
    #[error("call timed out")]
    Timeout,
    /// The callee exited before replying, with this reason.
    #[error("callee exited: {0}")]
    Exited(ExitReason),
    /// The callee's handler dropped the request's [`Reply`](crate::Reply)
    /// port unanswered, and the callee goes on: no reply will come.
    #[error("the callee dropped the request without replying")]
    NoReply,
}

impl<M> CallError<M> {
    /// The request, when it was never delivered.
    pub fn into_message(self) -> Option<M> {
        match self {
            Self::NoProcess(message) | Self::Full(message) | Self::SendTimeout(message) => {
                Some(message)
            }
            Self::Dropped | Self::Timeout | Self::Exited(_) | Self::NoReply => None,
        }
    }

    /// The same error with the undelivered request turned into another
    /// type: for wrappers that sent their own envelope around the caller's
    /// message and give back what the caller passed in.
    ///
    /// ```
    /// use foundation::mailbox::CallError;
    ///
    /// let wrapped: CallError<(u32, &str)> = CallError::Full((7, "wrapper"));
    /// assert!(matches!(wrapped.map_message(|(request, _)| request), CallError::Full(7)));
    /// ```
    pub fn map_message<N>(self, f: impl FnOnce(M) -> N) -> CallError<N> {
        match self {
            Self::NoProcess(message) => CallError::NoProcess(f(message)),
            Self::Full(message) => CallError::Full(f(message)),
            Self::SendTimeout(message) => CallError::SendTimeout(f(message)),
            Self::Dropped => CallError::Dropped,
            Self::Timeout => CallError::Timeout,
            Self::Exited(reason) => CallError::Exited(reason),
            Self::NoReply => CallError::NoReply,
        }
    }

    /// The callee's exit reason, when it exited before replying.
    pub fn exit_reason(&self) -> Option<&ExitReason> {
        match self {
            Self::Exited(reason) => Some(reason),
            _ => None,
        }
    }
}

impl<M> fmt::Debug for CallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoProcess(_) => f.write_str("NoProcess(..)"),
            Self::Full(_) => f.write_str("Full(..)"),
            Self::SendTimeout(_) => f.write_str("SendTimeout(..)"),
            Self::Dropped => f.write_str("Dropped"),
            Self::Timeout => f.write_str("Timeout"),
            Self::Exited(reason) => f.debug_tuple("Exited").field(reason).finish(),
            Self::NoReply => f.write_str("NoReply"),
        }
    }
}

/// A timer that cannot be started.
///
/// Returned by [`Context::interval`](crate::Context::interval).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TimerError {
    /// An interval of zero would tick without end; give it a period.
    #[error("an interval's period must be above zero")]
    ZeroPeriod,
}

/// A stop request that did not see the process exit.
///
/// Returned by [`ActorRef::stop`](crate::ActorRef::stop).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StopError {
    /// The process had already exited.
    #[error("no process")]
    NoProcess,
    /// The process did not exit within the timeout, so it was killed.
    #[error("process did not stop within {0:?} and was killed")]
    Timeout(Duration),
}

/// Waiting for an exit took longer than allowed.
///
/// Returned by [`ActorRef::wait_for_exit`](crate::ActorRef::wait_for_exit) and
/// [`ActorHandle::wait`](crate::ActorHandle::wait).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("process still running after {0:?}")]
pub struct WaitTimeout(pub Duration);

/// An actor that did not start.
///
/// Returned by [`start`](crate::start) and [`spawn`](crate::spawn).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum StartError {
    /// There is no tokio runtime on this thread to run the actor on.
    #[error("no tokio runtime: start actors from within a tokio runtime")]
    NoRuntime,
    /// The options were invalid.
    #[error("invalid actor options: {0}")]
    InvalidOptions(&'static str),
    /// `init` failed, panicked, or the actor was stopped before it finished.
    #[error("init failed: {0}")]
    Init(ExitReason),
    /// `init` did not finish within the start timeout; the actor was killed.
    #[error("init did not finish within {0:?}")]
    Timeout(Duration),
}

/// A manual time that could not become a runtime's clock.
///
/// Returned by [`ManualTime::install`](crate::time::ManualTime::install).
#[derive(Error, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallError {
    /// A process already started on the runtime, reading tokio's clock;
    /// install the manual time before starting any actor there.
    #[error(
        "a process already started on this runtime; install the manual time before any actor starts"
    )]
    AlreadyStarted,
    /// The runtime already has a manual time; advance that one.
    #[error("this runtime already has a manual time")]
    AlreadyInstalled,
    /// The runtime has shut down.
    #[error("the runtime has shut down")]
    ShutDown,
}
