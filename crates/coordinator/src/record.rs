//! What is saved of each workflow: its input, its status, the output of
//! every completed step and the history of failed attempts. Written through
//! before the next step starts.

use serde::{Deserialize, Serialize};

use crate::RecordError;

/// The first byte of every saved record: the layout version, checked on
/// load so a record from a newer build is refused, not misread.
const FORMAT: u8 = 1;

/// Where a workflow is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Steps are running, or a retry waits.
    Running,
    /// Every step completed.
    Completed,
    /// A step failed for good: a permanent error, or its attempts ran out.
    Failed {
        /// The step that failed.
        step: String,
        /// Its last error.
        error: String,
    },
    /// Cancelled through the coordinator.
    Cancelled,
}

impl Status {
    /// Whether the workflow has ended (completed, failed or cancelled).
    pub fn is_finished(&self) -> bool {
        !matches!(self, Status::Running)
    }

    /// Whether every step completed.
    pub fn is_completed(&self) -> bool {
        matches!(self, Status::Completed)
    }

    /// The kind of status, for [`list`](crate::Coordinator::list).
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::Running => StatusKind::Running,
            Status::Completed => StatusKind::Completed,
            Status::Failed { .. } => StatusKind::Failed,
            Status::Cancelled => StatusKind::Cancelled,
        }
    }
}

/// A [`Status`] without its details.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StatusKind {
    /// See [`Status::Running`].
    Running,
    /// See [`Status::Completed`].
    Completed,
    /// See [`Status::Failed`].
    Failed,
    /// See [`Status::Cancelled`].
    Cancelled,
}

/// A step recorded done.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedStep {
    /// The step's name.
    pub step: String,
    /// Its output.
    pub output: Vec<u8>,
    /// The attempt that succeeded (1 for the first).
    pub attempt: u32,
}

/// A failed attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The step.
    pub step: String,
    /// Which attempt (1 for the first).
    pub attempt: u32,
    /// What went wrong.
    pub error: String,
}

/// A signal sent to the workflow: kept in order, seen by every step that
/// starts after it arrived.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    /// The signal's name.
    pub name: String,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// Everything saved of one workflow.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    /// Its id.
    pub id: String,
    /// The definition it runs.
    pub workflow: String,
    /// What it was started with.
    pub input: Vec<u8>,
    /// Where it is.
    pub status: Status,
    /// The steps recorded done, in order.
    pub completed: Vec<CompletedStep>,
    /// Every failed attempt, in order.
    pub failures: Vec<Failure>,
    /// Signals received, in order.
    pub signals: Vec<Signal>,
    /// The attempt of the current step now running or next to run (1 for
    /// the first); saved before an attempt starts, so a restart goes on
    /// counting.
    pub attempt: u32,
    /// When a passivated workflow's next attempt is due, in milliseconds
    /// since the Unix epoch (wall-clock time, so it survives a restart of
    /// the program); `None` while its process runs it.
    pub wake_at: Option<u64>,
}

impl WorkflowRecord {
    pub(crate) fn new(id: &str, workflow: &str, input: Vec<u8>) -> Self {
        Self {
            id: id.to_owned(),
            workflow: workflow.to_owned(),
            input,
            status: Status::Running,
            completed: Vec::new(),
            failures: Vec::new(),
            signals: Vec::new(),
            attempt: 1,
            wake_at: None,
        }
    }

    /// The output of the step named `step`, if it completed.
    pub fn output(&self, step: &str) -> Option<&[u8]> {
        self.completed
            .iter()
            .find(|done| done.step == step)
            .map(|done| done.output.as_slice())
    }

    /// How long until a passivated workflow's next attempt is due; zero if
    /// it is due, `None` if the workflow is not passivated.
    pub fn wakes_in(&self) -> Option<std::time::Duration> {
        let wake_at = self.wake_at?;
        Some(std::time::Duration::from_millis(
            wake_at.saturating_sub(now_millis()),
        ))
    }

    pub(crate) fn encode(&self) -> Result<Vec<u8>, RecordError> {
        let mut bytes = vec![FORMAT];
        bytes.extend(
            postcard::to_stdvec(self).map_err(|error| RecordError::Encode(error.to_string()))?,
        );
        Ok(bytes)
    }

    /// Reads a record as the coordinator saves it (for tools that inspect
    /// the store directly, such as a crash test).
    ///
    /// # Errors
    ///
    /// Bytes that are not a record, or one written by a newer build.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        match bytes.split_first() {
            Some((&FORMAT, rest)) => {
                postcard::from_bytes(rest).map_err(|error| RecordError::Decode(error.to_string()))
            }
            Some((&other, _)) => Err(RecordError::Format(other)),
            None => Err(RecordError::Decode("empty record".into())),
        }
    }
}

/// Wall-clock milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
