//! One workflow's process: it loads the workflow's record, runs the next
//! step as a supervised task, saves each outcome before going on, and ends
//! when the workflow does. A crash (of the process, or a failed save) is
//! the supervisor's to restart: the new incarnation reloads the record and
//! goes on from the last step saved done.

use std::{panic::AssertUnwindSafe, sync::Arc};

use foundation_mailbox::{Actor, Context, ExitReason, Reply};
use foundation_persistence::{StateStore, Version};
use foundation_supervisor::TaskHandle;
use futures::FutureExt;

use crate::{
    CompletedStep, Failure, Signal, Status, StepContext, StepError, Workflow, WorkflowRecord,
    coordinator::Inner,
};

/// What a workflow's process is sent.
#[derive(Debug)]
pub(crate) enum WorkflowMsg {
    /// Run the next step, unless one runs.
    Advance,
    /// An attempt ended.
    StepDone {
        /// The step's index.
        index: usize,
        /// Which attempt.
        attempt: u32,
        /// Its outcome.
        outcome: Result<Vec<u8>, StepError>,
    },
    /// Cancel the workflow; answers whether it was running.
    Cancel(Reply<bool>),
    /// Record a signal.
    Signal(Signal, Reply<()>),
}

/// The running attempt's task, aborted if the process lets go of it
/// (cancelled, or crashed: the rerun after a restart replaces it).
#[derive(Debug)]
struct Running {
    index: usize,
    task: TaskHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A workflow's process.
#[derive(Debug)]
pub(crate) struct WorkflowProcess {
    inner: Arc<Inner>,
    definition: Workflow,
    record: WorkflowRecord,
    version: Version,
    running: Option<Running>,
}

/// The error that ends a workflow's process abnormally, for its supervisor
/// to restart it (the store failed, or the record is unreadable).
#[derive(Debug, thiserror::Error)]
#[error("workflow `{id}`: {error}")]
pub(crate) struct ProcessError {
    id: String,
    error: crate::CoordinatorError,
}

impl Actor for WorkflowProcess {
    type Args = (Arc<Inner>, String);
    type Msg = WorkflowMsg;
    type Error = ProcessError;

    async fn init((inner, id): Self::Args, ctx: &mut Context<Self>) -> Result<Self, ProcessError> {
        let fail = |error: crate::CoordinatorError| ProcessError {
            id: id.clone(),
            error,
        };
        let (record, version) = inner
            .load(&id)
            .await
            .map_err(fail)?
            .ok_or_else(|| fail(crate::CoordinatorError::NotFound(id.clone())))?;
        let definition = inner.definition(&record.workflow).map_err(fail)?.clone();
        if record.status.is_finished() {
            ctx.stop(ExitReason::Normal);
        } else {
            if let Err(error) = inner.names.register(id.clone(), ctx.myself().clone()) {
                return Err(fail(crate::CoordinatorError::Process(error.to_string())));
            }
            // Woken early (a signal, a cancel): the attempt waits its time.
            match record.wakes_in() {
                Some(wait) if !wait.is_zero() => {
                    ctx.send_after("retry", wait, WorkflowMsg::Advance);
                }
                _ => {
                    if ctx.myself().try_cast(WorkflowMsg::Advance).is_err() {
                        return Err(fail(crate::CoordinatorError::Process(
                            "its own mailbox refused the first step".into(),
                        )));
                    }
                }
            }
        }
        Ok(Self {
            inner,
            definition,
            record,
            version,
            running: None,
        })
    }

    async fn handle(
        &mut self,
        msg: WorkflowMsg,
        ctx: &mut Context<Self>,
    ) -> Result<(), ProcessError> {
        match msg {
            WorkflowMsg::Advance => self.advance(ctx).await,
            WorkflowMsg::StepDone {
                index,
                attempt,
                outcome,
            } => self.step_done(index, attempt, outcome, ctx).await,
            WorkflowMsg::Cancel(reply) => {
                let running = !self.record.status.is_finished();
                if running {
                    self.running = None;
                    ctx.cancel_all_timers();
                    self.finish(Status::Cancelled, ctx).await?;
                }
                reply.send(running).unwrap_or_default();
                Ok(())
            }
            WorkflowMsg::Signal(signal, reply) => {
                self.record.signals.push(signal);
                self.save().await?;
                reply.send(()).unwrap_or_default();
                Ok(())
            }
        }
    }
}

impl WorkflowProcess {
    fn fail(&self, error: impl Into<crate::CoordinatorError>) -> ProcessError {
        ProcessError {
            id: self.record.id.clone(),
            error: error.into(),
        }
    }

    /// Saves the record (write-through), fenced by the version last seen: a
    /// second writer (which the registry should make impossible) fails here.
    async fn save(&mut self) -> Result<(), ProcessError> {
        let bytes = self.record.encode().map_err(|error| self.fail(error))?;
        let key = self.inner.key(&self.record.id);
        self.version = self
            .inner
            .store
            .compare_and_set(&key, Some(self.version), bytes)
            .await
            .map_err(|error| self.fail(error))?;
        Ok(())
    }

    async fn finish(
        &mut self,
        status: Status,
        ctx: &mut Context<Self>,
    ) -> Result<(), ProcessError> {
        self.record.status = status;
        self.save().await?;
        tracing::info!(target: "foundation::coordinator", workflow = %self.record.workflow, id = %self.record.id, status = ?self.record.status, "workflow finished");
        self.inner.changed.notify_waiters();
        ctx.stop(ExitReason::Normal);
        Ok(())
    }

    async fn advance(&mut self, ctx: &mut Context<Self>) -> Result<(), ProcessError> {
        if self.running.is_some() || self.record.status.is_finished() {
            return Ok(());
        }
        let index = self.record.completed.len();
        self.record.wake_at = None;
        let Some(step) = self.definition.steps().get(index).cloned() else {
            return self.finish(Status::Completed, ctx).await;
        };
        let attempt = self.record.attempt;
        let context = StepContext {
            workflow_id: self.record.id.as_str().into(),
            step: step.name().into(),
            attempt,
            input: self.record.input.as_slice().into(),
            completed: self.record.completed.clone().into(),
            signals: self.record.signals.clone().into(),
        };
        let me = ctx.myself().clone();
        let limit = step.attempt_timeout();
        let work = async move {
            let run = AssertUnwindSafe(step.run(context)).catch_unwind();
            let outcome = match tokio::time::timeout(limit, run).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(panic)) => Err(StepError::retryable(format!(
                    "panicked: {}",
                    panic_message(&*panic)
                ))),
                Err(_) => Err(StepError::retryable(format!("timed out after {limit:?}"))),
            };
            let done = WorkflowMsg::StepDone {
                index,
                attempt,
                outcome,
            };
            if me.cast(done).await.is_err() {
                // The process is gone: its next incarnation reruns the step.
                tracing::debug!(target: "foundation::coordinator", "a step ended after its workflow's process");
            }
        };
        let task = self
            .inner
            .tasks
            .async_nolink(work)
            .map_err(|error| self.fail(crate::CoordinatorError::Process(error.to_string())))?;
        self.running = Some(Running { index, task });
        Ok(())
    }

    async fn step_done(
        &mut self,
        index: usize,
        attempt: u32,
        outcome: Result<Vec<u8>, StepError>,
        ctx: &mut Context<Self>,
    ) -> Result<(), ProcessError> {
        // A late result of an attempt this incarnation did not start, or of
        // a cancelled one, is not this step's.
        if self
            .running
            .as_ref()
            .is_none_or(|running| running.index != index)
            || attempt != self.record.attempt
        {
            return Ok(());
        }
        self.running = None;
        let step = self.definition.steps()[index].clone();
        match outcome {
            Ok(output) => {
                self.record.completed.push(CompletedStep {
                    step: step.name().to_owned(),
                    output,
                    attempt,
                });
                self.record.attempt = 1;
                self.save().await?;
                self.advance(ctx).await
            }
            Err(error) => {
                tracing::warn!(target: "foundation::coordinator", id = %self.record.id, step = step.name(), attempt, %error, "step attempt failed");
                self.record.failures.push(Failure {
                    step: step.name().to_owned(),
                    attempt,
                    error: error.to_string(),
                });
                let retry = step.retry_policy();
                if matches!(error, StepError::Permanent(_)) || attempt >= retry.attempts() {
                    let status = Status::Failed {
                        step: step.name().to_owned(),
                        error: error.to_string(),
                    };
                    return self.finish(status, ctx).await;
                }
                self.record.attempt = attempt + 1;
                let wait = retry.backoff(attempt + 1, self.inner.seed(&self.record.id));
                if self
                    .inner
                    .passivate_after
                    .is_some_and(|after| wait >= after)
                {
                    // Passivated: the record says when, the waker holds the
                    // timer, and the process (its memory included) goes.
                    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
                    self.record.wake_at = Some(crate::record::now_millis().saturating_add(wait_ms));
                    self.save().await?;
                    self.inner.wake_after(&self.record.id, wait).await;
                    tracing::debug!(target: "foundation::coordinator", id = %self.record.id, ?wait, "workflow passivated until its retry");
                    ctx.stop(ExitReason::Normal);
                    return Ok(());
                }
                self.save().await?;
                ctx.send_after("retry", wait, WorkflowMsg::Advance);
                Ok(())
            }
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|message| (*message).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".to_owned())
}
