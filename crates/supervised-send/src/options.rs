//! [`SendOptions`]: the deadline, the retry policy, the error classes that
//! stop retrying, the on-error policy, the call-site tag and metadata.

use std::{fmt, sync::OnceLock, time::Duration};

use foundation_dead_letter::DeadLetterQueue;
use foundation_mailbox::TimeoutConfig;

use crate::{
    ErrorClass, OptionsError, Producer,
    stats::{SendStats, Tag, UNTAGGED},
};

/// Exponential backoff between attempts: the `n`th retry waits
/// `min(max, initial × factor^(n-1))`, less a random share of up to
/// `jitter` of it (so `jitter = 0.2` waits between 80% and 100%).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The wait before the first retry.
    pub initial: Duration,
    /// How much each wait grows over the last one (at least 1).
    pub factor: f64,
    /// The longest wait.
    pub max: Duration,
    /// The share of each wait taken off at random, in `[0, 1]`.
    pub jitter: f64,
}

impl Default for Backoff {
    /// 10 ms, doubling, up to 1 s, with 20% jitter.
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(10),
            factor: 2.0,
            max: Duration::from_secs(1),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The wait before retry number `retry` (1 for the first retry), given
    /// a random `unit` in `[0, 1)`.
    pub(crate) fn delay(&self, retry: u32, unit: f64) -> Duration {
        let exponent = i32::try_from(retry.saturating_sub(1)).unwrap_or(i32::MAX);
        let grown = self.initial.as_secs_f64() * self.factor.powi(exponent);
        let capped = grown.min(self.max.as_secs_f64());
        Duration::from_secs_f64(capped * (1.0 - self.jitter * unit))
    }
}

/// What happens to a message whose send failed for good. Whatever the
/// policy, the send returns a [`SendFailure`](crate::SendFailure) saying
/// why; the policy decides where the message goes.
#[derive(Clone, Debug, Default)]
pub enum OnError {
    /// Give the message back in the error (the default; OTP's `raise` as a
    /// returned value, never a panic).
    #[default]
    Return,
    /// Emit a `warn` event with the failure and the metadata, and drop the
    /// message.
    Log,
    /// Append the message to this queue with its metadata, attempts and
    /// failure history, where it can be listed and redriven.
    DeadLetter(DeadLetterQueue),
    /// Drop the message without a word (it is still counted as failed).
    Ignore,
}

/// A set of [`ErrorClass`]es.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Classes(u16);

impl Classes {
    fn with(self, class: ErrorClass) -> Self {
        Self(self.0 | class.bit())
    }

    fn without(self, class: ErrorClass) -> Self {
        Self(self.0 & !class.bit())
    }

    pub(crate) fn contains(self, class: ErrorClass) -> bool {
        self.0 & class.bit() != 0
    }
}

/// How a supervised send is made: its deadline, retries, the error classes
/// that end it at once, what happens to a message that fails, its tag and
/// metadata. Build one per call site and reuse it; a send only reads it.
///
/// ```
/// use std::time::Duration;
/// use foundation_supervised_send::{Backoff, ErrorClass, OnError, SendOptions};
///
/// let options = SendOptions::new()
///     .timeout(Duration::from_secs(2))
///     .attempt_timeout(Duration::from_millis(500))
///     .max_attempts(5)
///     .backoff(Backoff { initial: Duration::from_millis(20), ..Backoff::default() })
///     .give_up_on(ErrorClass::Full)
///     .on_error(OnError::Log)
///     .tag("billing")
///     .metadata("order", "42");
/// assert!(options.validate().is_ok());
/// assert!(SendOptions::new().max_attempts(0).validate().is_err());
/// ```
#[derive(Clone)]
pub struct SendOptions {
    pub(crate) timeout: Duration,
    pub(crate) attempt_timeout: Option<Duration>,
    pub(crate) max_attempts: u32,
    pub(crate) backoff: Backoff,
    pub(crate) seed: Option<u64>,
    pub(crate) fatal: Classes,
    pub(crate) on_error: OnError,
    pub(crate) tag: Tag,
    pub(crate) metadata: Vec<(String, String)>,
    pub(crate) producer: Option<Producer>,
    /// What [`validate`](Self::validate) says, kept up to date by the
    /// setters, so a send checks one field instead of the whole options.
    pub(crate) invalid: Option<OptionsError>,
}

impl fmt::Debug for SendOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendOptions")
            .field("timeout", &self.timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("backoff", &self.backoff)
            .field("seed", &self.seed)
            .field("on_error", &self.on_error)
            .field("tag", &self.tag.name())
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl Default for SendOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl SendOptions {
    /// The defaults: the whole send bounded by the default timeout of
    /// [`TimeoutConfig`], 3 attempts with [`Backoff::default`], giving up at
    /// once on [`ErrorClass::Gone`] and [`ErrorClass::Stale`], returning
    /// the message in the error, tagged [`UNTAGGED`].
    pub fn new() -> Self {
        static UNTAGGED_TAG: OnceLock<Tag> = OnceLock::new();
        Self {
            timeout: TimeoutConfig::current().default_timeout(),
            attempt_timeout: None,
            max_attempts: 3,
            backoff: Backoff::default(),
            seed: None,
            fatal: Classes(0).with(ErrorClass::Gone).with(ErrorClass::Stale),
            on_error: OnError::Return,
            tag: UNTAGGED_TAG
                .get_or_init(|| SendStats::global().tag(UNTAGGED))
                .clone(),
            metadata: Vec::new(),
            producer: None,
            invalid: None,
        }
    }

    /// The one deadline of the whole send, across every attempt and every
    /// backoff: the send never takes longer. It is fixed the first time the
    /// send has to wait (at most one scheduler turn after the call, as for
    /// calls), so a send that succeeds at once reads no clock.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.checked()
    }

    /// A bound on each attempt (by default, whatever is left of the
    /// deadline). In ack mode, how long to wait for an acknowledgement
    /// before sending again.
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.attempt_timeout = Some(timeout);
        self.checked()
    }

    /// How many attempts at most, the first included (1: no retry).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self.checked()
    }

    /// The backoff between attempts.
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self.checked()
    }

    /// Seeds the backoff's jitter, so the delays are the same every run
    /// (for tests). Unseeded sends draw from a process-wide sequence.
    pub fn jitter_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Ends the send at the first failure of this class, without retrying.
    pub fn give_up_on(mut self, class: ErrorClass) -> Self {
        self.fatal = self.fatal.with(class);
        self
    }

    /// Retries failures of this class (within the attempts and the
    /// deadline), even one that gives up by default.
    pub fn retry_on(mut self, class: ErrorClass) -> Self {
        self.fatal = self.fatal.without(class);
        self
    }

    /// What happens to the message of a send that failed for good.
    pub fn on_error(mut self, policy: OnError) -> Self {
        self.on_error = policy;
        self
    }

    /// Counts the sends under this call-site tag of the
    /// [global](SendStats::global) stats. Takes the stats' lock once, here.
    pub fn tag(self, name: &str) -> Self {
        let tag = SendStats::global().tag(name);
        self.tagged(tag)
    }

    /// Counts the sends under a tag made by [`SendStats::tag`].
    pub fn tagged(mut self, tag: Tag) -> Self {
        self.tag = tag;
        self
    }

    /// Adds a metadata pair, carried to the send's span and to its dead
    /// letter.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// The producer whose sequence numbers ack-mode sends carry (a
    /// process-wide one by default); see [`Producer`].
    pub fn producer(mut self, producer: Producer) -> Self {
        self.producer = Some(producer);
        self
    }

    /// Checks the options; a send with invalid options fails with
    /// [`Failure::InvalidOptions`](crate::Failure::InvalidOptions) before
    /// its first attempt.
    ///
    /// # Errors
    ///
    /// An [`OptionsError`] naming the first bad option.
    pub fn validate(&self) -> Result<(), OptionsError> {
        match &self.invalid {
            Some(error) => Err(error.clone()),
            None => Ok(()),
        }
    }

    /// Brings `invalid` up to date after a setter.
    fn checked(mut self) -> Self {
        self.invalid = self.check().err();
        self
    }

    fn check(&self) -> Result<(), OptionsError> {
        if self.max_attempts == 0 {
            return Err(OptionsError::NoAttempts);
        }
        if self.timeout.is_zero() {
            return Err(OptionsError::ZeroTimeout);
        }
        if self
            .attempt_timeout
            .is_some_and(|timeout| timeout.is_zero())
        {
            return Err(OptionsError::ZeroTimeout);
        }
        let backoff = &self.backoff;
        if !(backoff.factor.is_finite() && backoff.factor >= 1.0) {
            return Err(OptionsError::Factor(backoff.factor));
        }
        if !(0.0..=1.0).contains(&backoff.jitter) {
            return Err(OptionsError::Jitter(backoff.jitter));
        }
        if backoff.max < backoff.initial {
            return Err(OptionsError::MaxBelowInitial {
                initial: backoff.initial,
                max: backoff.max,
            });
        }
        Ok(())
    }

    /// The tag's name.
    pub fn tag_name(&self) -> &str {
        self.tag.name()
    }
}
