//! The task supervisor's errors: [`SpawnError`] when a task cannot start,
//! [`TaskError`] when a started task gives no value.

use std::{fmt, sync::Arc, time::Duration};

use foundation_mailbox::ExitReason;
use thiserror::Error;

/// A task that was not started because its task supervisor has exited; the
/// future is inside, unpolled, so nothing it would have done has happened.
///
/// Returned by [`TaskSupervisorRef::spawn`](crate::TaskSupervisorRef::spawn)
/// and [`TaskSupervisorRef::async_nolink`](crate::TaskSupervisorRef::async_nolink).
/// Start a new task supervisor (or let its supervisor restart it) and spawn
/// again, or run the work another way.
#[derive(Error)]
#[error("task supervisor has exited ({reason}); the task was not started")]
pub struct SpawnError<F> {
    pub(crate) future: F,
    pub(crate) reason: ExitReason,
}

impl<F> SpawnError<F> {
    /// The future that was not spawned.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// Why the task supervisor exited.
    pub fn reason(&self) -> &ExitReason {
        &self.reason
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpawnError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// Why a supervised task gave no value.
///
/// Returned by [`TaskHandle::await_timeout`](crate::TaskHandle::await_timeout),
/// [`TaskHandle::yield_timeout`](crate::TaskHandle::yield_timeout),
/// [`TaskHandle::shutdown`](crate::TaskHandle::shutdown), and as the error
/// items of [`AsyncStream`](crate::AsyncStream).
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TaskError {
    /// The task panicked, with this message. The panic was caught in the
    /// task; it reaches neither the caller nor the task supervisor.
    #[error("task panicked: {0}")]
    Panicked(Arc<str>),
    /// The task did not finish within this time and was ended
    /// ([`TaskHandle::await_timeout`](crate::TaskHandle::await_timeout), or an
    /// [`AsyncStream`](crate::AsyncStream) item past its timeout).
    #[error("task did not finish within {0:?} and was ended")]
    Timeout(Duration),
    /// The task supervisor exited, with this reason, and ended the task
    /// before it finished (or before it started).
    #[error("task supervisor exited ({0}) before the task finished")]
    Shutdown(ExitReason),
    /// The task was aborted through its handle, or its runtime shut down,
    /// before it finished.
    #[error("task was killed before it finished")]
    Killed,
}

impl TaskError {
    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, Self::Panicked(_))
    }

    /// Whether the task ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }
}
