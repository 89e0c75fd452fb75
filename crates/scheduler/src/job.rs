//! What a user schedules: a [`Job`] (a key, a message and when to send
//! it), its [`Misfire`] policy for ticks missed while the scheduler was
//! down, and its [`Overlap`] policy for ticks that come while the previous
//! delivery is still going.

use std::{
    fmt,
    str::FromStr,
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};

use crate::{
    ScheduleError,
    clock::{duration_nanos, from_nanos, to_nanos},
};

/// What happens to ticks that came due while the scheduler could not fire
/// them (the program was down, or the scheduler fell behind by more than
/// its [misfire threshold](crate::Config::misfire_threshold)): Quartz's
/// misfire instructions, Temporal's catch-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Misfire {
    /// Deliver one message for all the missed ticks, at once, then go on
    /// with the next tick after now (the default; Quartz's "fire now").
    #[default]
    FireOnce,
    /// Deliver one message per missed tick, at once and in order, but at
    /// most `cap` of them; the rest are counted as skipped. The cap keeps a
    /// per-second job that was down for a week from sending 604,800
    /// messages.
    FireAll {
        /// The most messages one catch-up delivers (at least 1).
        cap: u32,
    },
    /// Deliver nothing for the missed ticks (they are counted as skipped)
    /// and wait for the next tick after now. A one-shot job that misfires
    /// is dropped.
    Skip,
}

/// What happens when a periodic job's tick comes while its previous
/// delivery is still going: Temporal's overlap policies.
///
/// "Still going" means the supervised send the scheduler started for an
/// earlier tick has not returned yet: it waits for room in a full mailbox,
/// or backs off between retries, or (with an
/// [acknowledging](crate::Config::acked) scheduler) waits for the
/// recipient's handler to acknowledge. A send that delivered, or failed for
/// good and went to its on-error policy, is finished. Fixed-delay jobs
/// never overlap: their next tick is counted from the end of the delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Overlap {
    /// Drop the tick (counted as skipped). The default, as in Temporal.
    #[default]
    Skip,
    /// Keep one tick and deliver it when the running delivery finishes;
    /// further ticks meanwhile are dropped (counted as skipped).
    BufferOne,
    /// Start another delivery alongside the running one.
    AllowAll,
}

/// When a job fires, as given (before the scheduler fixes its first due
/// time by its clock).
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    Once,
    FixedRate(Duration),
    FixedDelay(Duration),
    Cron(String),
}

/// When the first tick is due, as given.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Start {
    /// This long after the scheduler accepts the job.
    After(Duration),
    /// At this instant.
    At(SystemTime),
    /// A periodic job's own first tick: one period or delay after it is
    /// accepted, or a cron expression's next match.
    Natural,
}

/// A job to schedule: a unique key, the message each tick delivers, and
/// when. Built with [`after`](Self::after), [`at`](Self::at),
/// [`fixed_rate`](Self::fixed_rate), [`fixed_delay`](Self::fixed_delay) or
/// [`cron`](Self::cron), then given to
/// [`Scheduler::schedule`](crate::Scheduler::schedule), which checks it.
///
/// ```
/// use std::time::Duration;
/// use foundation::scheduler::{Job, Misfire, Overlap};
///
/// let reminder = Job::after("reminder/42", Duration::from_secs(30), "pay the bill".to_string());
/// let heartbeat = Job::fixed_rate("heartbeat", Duration::from_secs(1), "ping".to_string())
///     .overlap(Overlap::Skip)
///     .misfire(Misfire::Skip);
/// let report = Job::cron("weekly-report", "0 9 * * MON", "report".to_string())
///     .misfire(Misfire::FireOnce);
/// assert_eq!(report.key(), "weekly-report");
/// # let _ = (reminder, heartbeat);
/// ```
pub struct Job<M> {
    pub(crate) key: String,
    pub(crate) message: M,
    pub(crate) kind: Kind,
    pub(crate) start: Start,
    pub(crate) misfire: Misfire,
    pub(crate) overlap: Overlap,
}

impl<M> fmt::Debug for Job<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Job")
            .field("key", &self.key)
            .field("kind", &self.kind)
            .field("start", &self.start)
            .field("misfire", &self.misfire)
            .field("overlap", &self.overlap)
            .finish_non_exhaustive()
    }
}

impl<M> Job<M> {
    fn new(key: impl Into<String>, message: M, kind: Kind, start: Start) -> Self {
        Self {
            key: key.into(),
            message,
            kind,
            start,
            misfire: Misfire::default(),
            overlap: Overlap::default(),
        }
    }

    /// Delivers `message` once, `delay` after the scheduler accepts the job.
    pub fn after(key: impl Into<String>, delay: Duration, message: M) -> Self {
        Self::new(key, message, Kind::Once, Start::After(delay))
    }

    /// Delivers `message` once, at `when`: at once if that has passed, and
    /// if it passed by more than the [misfire
    /// threshold](crate::Config::misfire_threshold), by the job's
    /// [`Misfire`] policy (as Quartz does).
    pub fn at(key: impl Into<String>, when: SystemTime, message: M) -> Self {
        Self::new(key, message, Kind::Once, Start::At(when))
    }

    /// Delivers `message` every `period`, on a fixed grid: tick `n` is due
    /// at `first + n × period`, however long each delivery takes (Akka's
    /// `scheduleAtFixedRate`). The first tick is one period after the job
    /// is accepted unless [`starting_after`](Self::starting_after) or
    /// [`starting_at`](Self::starting_at) says otherwise.
    pub fn fixed_rate(key: impl Into<String>, period: Duration, message: M) -> Self {
        Self::new(key, message, Kind::FixedRate(period), Start::Natural)
    }

    /// Delivers `message` repeatedly, each tick `delay` after the previous
    /// delivery finished (Akka's `scheduleWithFixedDelay`): a slow delivery
    /// pushes every later tick back, and deliveries never overlap.
    pub fn fixed_delay(key: impl Into<String>, delay: Duration, message: M) -> Self {
        Self::new(key, message, Kind::FixedDelay(delay), Start::Natural)
    }

    /// Delivers `message` at each wall-clock time (UTC) that matches the
    /// cron `expression`: five fields (minute, hour, day of month, month,
    /// day of week) or six with seconds first, with ranges, steps, names,
    /// `L`, `W` and `#`, as the `croner` crate reads them.
    pub fn cron(key: impl Into<String>, expression: impl Into<String>, message: M) -> Self {
        Self::new(key, message, Kind::Cron(expression.into()), Start::Natural)
    }

    /// The first tick is `delay` after the scheduler accepts the job.
    /// Ignored by cron jobs, whose ticks are the expression's matches.
    pub fn starting_after(mut self, delay: Duration) -> Self {
        self.start = Start::After(delay);
        self
    }

    /// The first tick is at `when`. Ignored by cron jobs.
    pub fn starting_at(mut self, when: SystemTime) -> Self {
        self.start = Start::At(when);
        self
    }

    /// The misfire policy (default [`Misfire::FireOnce`]).
    pub fn misfire(mut self, misfire: Misfire) -> Self {
        self.misfire = misfire;
        self
    }

    /// The overlap policy for periodic jobs (default [`Overlap::Skip`]).
    pub fn overlap(mut self, overlap: Overlap) -> Self {
        self.overlap = overlap;
        self
    }

    /// The job's key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A job's schedule as the scheduler runs and saves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Plan {
    Once,
    FixedRate { period: u64 },
    FixedDelay { delay: u64 },
    Cron { expression: String },
}

/// A [`Plan`] ready to compute ticks: a cron expression parsed once.
#[derive(Debug)]
pub(crate) enum Compiled {
    Once,
    FixedRate(u64),
    FixedDelay(u64),
    Cron(Box<croner::Cron>),
}

impl Plan {
    /// Checks a job's schedule and turns it into a plan and its first due
    /// time, read from `now`.
    pub(crate) fn check<M>(job: &Job<M>, now: u64) -> Result<(Plan, Compiled, u64), ScheduleError> {
        let key = || job.key.clone();
        if job.key.is_empty() {
            return Err(ScheduleError::EmptyKey);
        }
        if let Misfire::FireAll { cap: 0 } = job.misfire {
            return Err(ScheduleError::ZeroCap { key: key() });
        }
        let start = |natural: u64| match job.start {
            Start::After(delay) => now.saturating_add(duration_nanos(delay)),
            Start::At(when) => to_nanos(when),
            Start::Natural => now.saturating_add(natural),
        };
        let period = |period: Duration| match duration_nanos(period) {
            0 => Err(ScheduleError::ZeroPeriod { key: key() }),
            nanos => Ok(nanos),
        };
        match &job.kind {
            Kind::Once => Ok((Plan::Once, Compiled::Once, start(0))),
            Kind::FixedRate(every) => {
                let every = period(*every)?;
                Ok((
                    Plan::FixedRate { period: every },
                    Compiled::FixedRate(every),
                    start(every),
                ))
            }
            Kind::FixedDelay(delay) => {
                let delay = period(*delay)?;
                Ok((
                    Plan::FixedDelay { delay },
                    Compiled::FixedDelay(delay),
                    start(delay),
                ))
            }
            Kind::Cron(expression) => {
                let compiled = Plan::Cron {
                    expression: expression.clone(),
                }
                .compile(&job.key)?;
                let first = compiled
                    .next_after(now)
                    .ok_or_else(|| ScheduleError::NeverFires {
                        key: key(),
                        expression: expression.clone(),
                    })?;
                let plan = Plan::Cron {
                    expression: expression.clone(),
                };
                Ok((plan, compiled, first))
            }
        }
    }

    /// Parses the plan's cron expression, if it has one.
    pub(crate) fn compile(&self, key: &str) -> Result<Compiled, ScheduleError> {
        Ok(match self {
            Plan::Once => Compiled::Once,
            Plan::FixedRate { period } => Compiled::FixedRate(*period),
            Plan::FixedDelay { delay } => Compiled::FixedDelay(*delay),
            Plan::Cron { expression } => {
                let cron = croner::Cron::from_str(expression).map_err(|error| {
                    ScheduleError::InvalidCron {
                        key: key.to_owned(),
                        expression: expression.clone(),
                        reason: error.to_string(),
                    }
                })?;
                Compiled::Cron(Box::new(cron))
            }
        })
    }
}

impl Compiled {
    /// A cron expression's first match strictly after `after` (nanoseconds
    /// since the epoch), if it has one within croner's search horizon.
    pub(crate) fn next_after(&self, after: u64) -> Option<u64> {
        let Compiled::Cron(cron) = self else {
            return None;
        };
        let seconds = i64::try_from(after / 1_000_000_000).ok()?;
        let nanos = u32::try_from(after % 1_000_000_000).ok()?;
        let from = chrono::DateTime::<chrono::Utc>::from_timestamp(seconds, nanos)?;
        let next = cron.find_next_occurrence(&from, false).ok()?;
        let at = next.timestamp_nanos_opt()?;
        u64::try_from(at).ok()
    }
}

/// A due time as a [`SystemTime`], for reports.
pub(crate) fn due_time(nanos: u64) -> SystemTime {
    from_nanos(nanos)
}

/// What a job may send: a message the scheduler can clone for each tick,
/// save in its store and read back after a restart. Implemented for every
/// type that is `Clone + Send + Sync + Serialize + DeserializeOwned +
/// 'static`.
pub trait Payload: Clone + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static {}

impl<M: Clone + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static> Payload for M {}
