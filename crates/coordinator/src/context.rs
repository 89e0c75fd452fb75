//! What a step's work is given: the workflow's input, the outputs of the
//! steps before it, the signals received, and its idempotency key.

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

use crate::{CompletedStep, Signal, StepError};

/// A step's view of its workflow, made for each attempt.
#[derive(Clone, Debug)]
pub struct StepContext {
    pub(crate) workflow_id: Arc<str>,
    pub(crate) step: Arc<str>,
    pub(crate) attempt: u32,
    pub(crate) input: Arc<[u8]>,
    pub(crate) completed: Arc<[CompletedStep]>,
    pub(crate) signals: Arc<[Signal]>,
}

impl StepContext {
    /// The workflow's id.
    pub fn workflow_id(&self) -> &str {
        &self.workflow_id
    }

    /// This step's name.
    pub fn step(&self) -> &str {
        &self.step
    }

    /// Which attempt this is: 1 for the first, counted across restarts.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The same for every attempt of this step of this workflow, across
    /// retries and restarts: hand it to the service the step calls so that
    /// a rerun after a crash is recognised (steps are at-least-once).
    pub fn idempotency_key(&self) -> String {
        format!("{}/{}", self.workflow_id, self.step)
    }

    /// The workflow's input.
    pub fn input(&self) -> &[u8] {
        &self.input
    }

    /// The output of an earlier step, if it completed.
    pub fn output(&self, step: &str) -> Option<&[u8]> {
        self.completed
            .iter()
            .find(|done| done.step == step)
            .map(|done| done.output.as_slice())
    }

    /// Signals received before this attempt started, in order.
    pub fn signals(&self) -> &[Signal] {
        &self.signals
    }

    /// Decodes bytes written by [`encode`] (the input, or an output); a
    /// failure is a permanent step error, since no retry mends bad bytes.
    pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StepError> {
        postcard::from_bytes(bytes)
            .map_err(|error| StepError::permanent(format!("cannot decode: {error}")))
    }
}

/// Encodes a value as steps and inputs carry it (postcard).
///
/// ```
/// use foundation_coordinator::{StepContext, encode};
///
/// let bytes = encode(&(7_u32, "seven")).unwrap();
/// let (n, word): (u32, String) = StepContext::decode(&bytes).unwrap();
/// assert_eq!((n, word.as_str()), (7, "seven"));
/// ```
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StepError> {
    postcard::to_stdvec(value)
        .map_err(|error| StepError::permanent(format!("cannot encode: {error}")))
}
