//! What a step's work is given: the workflow's input, the outputs of the
//! steps before it, the signals received, and its idempotency key.

use std::sync::Arc;

use foundation_supervised_send::{SendOptions, UNTAGGED};
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

    /// `options` with this step's identity added as metadata (`workflow`,
    /// `step`, `attempt`, `idempotency_key`) and as the call-site tag
    /// `workflow/<name of the step>`, unless it has a tag: for a step that
    /// coordinates a worker through a supervised send, so the send's span,
    /// stats and any dead letter say which workflow step it came from.
    ///
    /// ```
    /// use foundation_coordinator::Step;
    /// use foundation_supervised_send::{OnError, SendOptions, Target, send_supervised};
    /// # use foundation_mailbox::{Actor, ActorRef, Context};
    /// # #[derive(Debug)] struct Worker;
    /// # impl Actor for Worker {
    /// #     type Args = (); type Msg = String; type Error = std::convert::Infallible;
    /// #     async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
    /// #     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    /// # fn step(worker: ActorRef<Worker>) -> Step {
    /// Step::new("notify", move |ctx| {
    ///     let target = Target::actor(&worker);
    ///     async move {
    ///         let options = ctx.send_options(SendOptions::new().on_error(OnError::Return));
    ///         send_supervised(&target, format!("order {} shipped", ctx.workflow_id()), &options)
    ///             .await
    ///             .map_err(foundation_coordinator::StepError::retryable)?;
    ///         Ok(Vec::new())
    ///     }
    /// })
    /// # }
    /// ```
    pub fn send_options(&self, options: SendOptions) -> SendOptions {
        let options = if options.tag_name() == UNTAGGED {
            options.tag(&format!("workflow/{}", self.step))
        } else {
            options
        };
        options
            .metadata("workflow", self.workflow_id.as_ref())
            .metadata("step", self.step.as_ref())
            .metadata("attempt", self.attempt.to_string())
            .metadata("idempotency_key", self.idempotency_key())
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
