//! The scheduler's errors, one type per operation: [`ScheduleError`] from
//! [`Scheduler::schedule`](crate::Scheduler::schedule), [`CancelError`]
//! from [`Scheduler::cancel`](crate::Scheduler::cancel), [`StartError`]
//! from [`Scheduler::start`](crate::Scheduler::start), and
//! [`Unreachable`] from the queries.

use foundation_persistence::{EncodeError, StoreError};
use foundation_supervised_send::OptionsError;
use thiserror::Error;

/// Why [`Scheduler::schedule`](crate::Scheduler::schedule) refused a job.
/// A refused job was not saved and will not fire.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ScheduleError {
    /// The key is empty.
    #[error("a job key must not be empty")]
    EmptyKey,
    /// A job with this key is scheduled; cancel it first to replace it.
    #[error("job `{key}` is already scheduled; cancel it first to replace it")]
    DuplicateKey {
        /// The key.
        key: String,
    },
    /// A fixed-rate period or fixed-delay delay of zero.
    #[error("job `{key}`: the period must be greater than zero")]
    ZeroPeriod {
        /// The key.
        key: String,
    },
    /// The cron expression does not parse.
    #[error("job `{key}`: invalid cron expression `{expression}`: {reason}")]
    InvalidCron {
        /// The key.
        key: String,
        /// The expression as given.
        expression: String,
        /// What the parser said.
        reason: String,
    },
    /// The cron expression parses but matches no time from now on (say,
    /// the 30th of February).
    #[error("job `{key}`: cron expression `{expression}` never fires")]
    NeverFires {
        /// The key.
        key: String,
        /// The expression.
        expression: String,
    },
    /// [`Misfire::FireAll`](crate::Misfire::FireAll) with a cap of 0.
    #[error("job `{key}`: the fire-all misfire cap must be at least 1")]
    ZeroCap {
        /// The key.
        key: String,
    },
    /// The message could not be encoded for the store.
    #[error("job `{key}` could not be encoded: {source}")]
    Encode {
        /// The key.
        key: String,
        /// Why.
        source: EncodeError,
    },
    /// The store refused the job (a bad key, an unreachable database, or a
    /// record under this key written by another scheduler).
    #[error("job `{key}` could not be saved: {source}")]
    Store {
        /// The key.
        key: String,
        /// The store's error.
        source: StoreError,
    },
    /// The scheduler did not answer (it exited, or its mailbox stayed full
    /// past the call timeout).
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
}

/// Why [`Scheduler::cancel`](crate::Scheduler::cancel) could not finish.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CancelError {
    /// The job is cancelled in this scheduler (no tick of it will be
    /// delivered) but its record could not be deleted from the store, so
    /// it would come back after a restart. Cancelling again retries the
    /// delete.
    #[error("job `{key}` is cancelled but its record could not be deleted: {source}")]
    Store {
        /// The key.
        key: String,
        /// The store's error.
        source: StoreError,
    },
    /// The scheduler did not answer.
    #[error(transparent)]
    Unreachable(#[from] Unreachable),
}

/// The scheduler did not answer a call: it exited, or did not reply within
/// the call timeout. Returned by every [`Scheduler`](crate::Scheduler)
/// method that asks the actor.
#[derive(Debug, Error)]
#[error("the scheduler did not answer: {reason}")]
pub struct Unreachable {
    pub(crate) reason: String,
}

/// Why [`Scheduler::start`](crate::Scheduler::start) failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration's send options are invalid.
    #[error("invalid send options: {0}")]
    Options(#[from] OptionsError),
    /// The scheduler's actor did not start; when it failed reading its jobs
    /// from the store, the reason says so.
    #[error("the scheduler did not start: {0}")]
    Actor(#[from] foundation_mailbox::StartError),
}

/// Why the scheduler's actor could not initialise: its saved jobs could not
/// be listed. Reported through [`StartError::Actor`].
#[derive(Debug, Error)]
#[error("could not list the saved jobs under `{prefix}`: {source}")]
pub struct LoadError {
    pub(crate) prefix: String,
    pub(crate) source: StoreError,
}
