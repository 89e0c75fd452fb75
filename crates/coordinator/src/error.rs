//! The coordinator's errors: each says what failed and what to do.

use std::time::Duration;

use foundation_persistence::StoreError;

/// How a step's attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// Worth another attempt, if the step's retry policy allows one.
    #[error("{0}")]
    Retryable(String),
    /// Never retried: the workflow fails at this step.
    #[error("{0} (permanent)")]
    Permanent(String),
}

impl StepError {
    /// A failure worth retrying.
    pub fn retryable(error: impl std::fmt::Display) -> Self {
        Self::Retryable(error.to_string())
    }

    /// A failure no retry can mend.
    pub fn permanent(error: impl std::fmt::Display) -> Self {
        Self::Permanent(error.to_string())
    }
}

/// A workflow definition the coordinator refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    /// A workflow needs a name.
    #[error("a workflow needs a name")]
    EmptyName,
    /// A workflow needs at least one step.
    #[error("workflow `{0}` has no steps")]
    NoSteps(String),
    /// Step names identify recorded outputs, so they must be unique.
    #[error("workflow `{workflow}` has two steps named `{step}`")]
    DuplicateStep {
        /// The workflow.
        workflow: String,
        /// The repeated name.
        step: String,
    },
    /// Two definitions share a name.
    #[error("two workflows are named `{0}`")]
    DuplicateWorkflow(String),
}

/// A saved record that cannot be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The record could not be encoded.
    #[error("cannot encode the workflow record: {0}")]
    Encode(String),
    /// The bytes are not a record this build can read.
    #[error("cannot decode the workflow record: {0}")]
    Decode(String),
    /// The record was written by a newer build (layout version shown).
    #[error("the workflow record has layout version {0}, newer than this build reads (1)")]
    Format(u8),
}

/// What the coordinator's gateway can answer instead of what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CoordinatorError {
    /// No definition has this name; register it when starting the coordinator.
    #[error("no workflow named `{0}` is defined")]
    UnknownWorkflow(String),
    /// No workflow has this id.
    #[error("no workflow with id `{0}`")]
    NotFound(String),
    /// The id is taken by a workflow the reuse policy does not let go.
    #[error("workflow id `{id}` is taken ({reason})")]
    IdTaken {
        /// The id.
        id: String,
        /// Why: running, or finished under [`IdReuse::Reject`](crate::IdReuse::Reject).
        reason: &'static str,
    },
    /// An id must be 1 to 256 bytes, without `/`.
    #[error("invalid workflow id `{0}`: ids are 1 to 256 bytes, without `/`")]
    InvalidId(String),
    /// A definition was refused.
    #[error(transparent)]
    Definition(#[from] DefinitionError),
    /// The store failed; the operation may be retried.
    #[error("the workflow store failed: {0}")]
    Store(#[from] StoreError),
    /// A saved record could not be read.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// The workflow did not finish within the time given.
    #[error("workflow `{id}` had not finished after {waited:?}")]
    Timeout {
        /// The id.
        id: String,
        /// How long the caller waited.
        waited: Duration,
    },
    /// The coordinator's supervisors could not start or reach a process.
    #[error("the workflow process could not be started or reached: {0}")]
    Process(String),
}
