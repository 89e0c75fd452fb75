//! Workflow definitions: a name and a sequence of named steps, each with
//! its own timeout and retry policy.

use std::{collections::HashSet, fmt, future::Future, pin::Pin, sync::Arc, time::Duration};

use crate::{DefinitionError, StepContext, StepError};

type RunStep = Arc<
    dyn Fn(StepContext) -> Pin<Box<dyn Future<Output = Result<Vec<u8>, StepError>> + Send>>
        + Send
        + Sync,
>;

/// One step: async work that turns the workflow's input and the outputs
/// of the steps before it into an output of its own (bytes: encode with
/// any codec; [`StepContext::decode`] and [`encode`](crate::encode) use
/// postcard).
///
/// ```
/// use std::time::Duration;
/// use foundation_coordinator::{Retry, Step};
///
/// let charge = Step::new("charge", |ctx| async move {
///     // The key stays the same across retries and restarts of this step.
///     let _key = ctx.idempotency_key();
///     Ok(b"paid".to_vec())
/// })
/// .timeout(Duration::from_secs(10))
/// .retry(Retry::exponential(5, Duration::from_millis(100), Duration::from_secs(5)));
/// assert_eq!(charge.name(), "charge");
/// ```
#[derive(Clone)]
pub struct Step {
    name: Arc<str>,
    run: RunStep,
    timeout: Duration,
    retry: Retry,
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Step")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// A step's time limit unless set: one attempt that takes longer is a
/// failure (retried like any other).
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(30);

impl Step {
    /// A step named `name` that runs `run`; one attempt, 30 s at most.
    pub fn new<F, Fut>(name: impl Into<Arc<str>>, run: F) -> Self
    where
        F: Fn(StepContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<u8>, StepError>> + Send + 'static,
    {
        Self {
            name: name.into(),
            run: Arc::new(move |ctx| Box::pin(run(ctx))),
            timeout: DEFAULT_STEP_TIMEOUT,
            retry: Retry::none(),
        }
    }

    /// The time one attempt may take.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How failed attempts are retried.
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// The step's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn attempt_timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn retry_policy(&self) -> &Retry {
        &self.retry
    }

    pub(crate) fn run(
        &self,
        ctx: StepContext,
    ) -> impl Future<Output = Result<Vec<u8>, StepError>> + Send + 'static {
        (self.run)(ctx)
    }
}

/// How a step's failed attempts are retried: up to `attempts` in all, the
/// n-th retry after `base × 2^(n-1)`, capped at `cap`, with up to a quarter
/// of jitter subtracted (so retries of many workflows spread out). A
/// [`StepError::Permanent`] is never retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    attempts: u32,
    base: Duration,
    cap: Duration,
}

impl Retry {
    /// One attempt, no retry.
    pub fn none() -> Self {
        Self {
            attempts: 1,
            base: Duration::ZERO,
            cap: Duration::ZERO,
        }
    }

    /// Up to `attempts` attempts in all (at least one), with exponential
    /// backoff from `base`, capped at `cap`.
    pub fn exponential(attempts: u32, base: Duration, cap: Duration) -> Self {
        Self {
            attempts: attempts.max(1),
            base,
            cap: cap.max(base),
        }
    }

    /// How many attempts in all.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The wait before attempt `attempt` (2 is the first retry), jittered
    /// by `seed` (any number: the same seed gives the same wait).
    pub fn backoff(&self, attempt: u32, seed: u64) -> Duration {
        let doublings = attempt.saturating_sub(2).min(31);
        let full = self.base.saturating_mul(1 << doublings).min(self.cap);
        // Up to a quarter off, from a cheap mix of the seed and attempt.
        let mixed = (seed ^ u64::from(attempt))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
        let quarter = full / 4;
        let off = u32::try_from(mixed % 1_000).unwrap_or(0);
        full - quarter.mul_f64(f64::from(off) / 1_000.0)
    }
}

/// A named workflow: its steps run one after another, each after the one
/// before it was recorded done.
#[derive(Clone, Debug)]
pub struct Workflow {
    name: Arc<str>,
    steps: Vec<Step>,
}

impl Workflow {
    /// A workflow named `name`, with no step yet.
    pub fn new(name: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            steps: Vec::new(),
        }
    }

    /// Adds a step after the others.
    pub fn step(mut self, step: Step) -> Self {
        self.steps.push(step);
        self
    }

    /// The workflow's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its steps, in order.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Checks the definition: a name, at least one step, unique step names.
    pub(crate) fn check(&self) -> Result<(), DefinitionError> {
        if self.name.is_empty() {
            return Err(DefinitionError::EmptyName);
        }
        if self.steps.is_empty() {
            return Err(DefinitionError::NoSteps(self.name.to_string()));
        }
        let mut seen = HashSet::new();
        for step in &self.steps {
            if !seen.insert(step.name()) {
                return Err(DefinitionError::DuplicateStep {
                    workflow: self.name.to_string(),
                    step: step.name().to_owned(),
                });
            }
        }
        Ok(())
    }
}
