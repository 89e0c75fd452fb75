//! [`Config`]: where the scheduler delivers (a supervised-send target),
//! how (the send options: retries, backoff, dead letters), where it keeps
//! its jobs, and the clock it reads.

use std::{fmt, sync::Arc, time::Duration};

use foundation_mailbox::TimeoutConfig;
use foundation_persistence::{BoxFuture, Store};
use foundation_supervised_send::{
    Acked, OnError, SendOptions, Target, send_supervised, send_supervised_acked,
};

use crate::{Clock, SystemClock};

/// The default bound on deliveries in flight.
const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// How one tick's message goes out: a supervised send, fire-and-forget or
/// acknowledged. Returns whether it was delivered.
pub(crate) trait Deliver<M>: Send + Sync + 'static {
    fn deliver<'a>(&'a self, message: M, options: &'a SendOptions) -> BoxFuture<'a, bool>;
    fn describe(&self) -> String;
}

struct Cast<M>(Target<M>);

impl<M: Send + 'static> Deliver<M> for Cast<M> {
    fn deliver<'a>(&'a self, message: M, options: &'a SendOptions) -> BoxFuture<'a, bool> {
        Box::pin(async move { outcome(send_supervised(&self.0, message, options).await) })
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}

struct AckedCast<M>(Target<Acked<M>>);

impl<M: Clone + Send + 'static> Deliver<M> for AckedCast<M> {
    fn deliver<'a>(&'a self, message: M, options: &'a SendOptions) -> BoxFuture<'a, bool> {
        Box::pin(async move { outcome(send_supervised_acked(&self.0, message, options).await) })
    }

    fn describe(&self) -> String {
        self.0.describe()
    }
}

/// Reads a send's result: the failure has already gone to the on-error
/// policy (dead letter, log); it is reported here too, with the job's key
/// in the span.
fn outcome<M>(
    result: Result<
        foundation_supervised_send::Delivered,
        foundation_supervised_send::SendFailure<M>,
    >,
) -> bool {
    match result {
        Ok(_) => true,
        Err(failure) => {
            tracing::warn!(
                target: crate::TARGET,
                error = %failure.last,
                attempts = failure.attempts,
                dead_letter = ?failure.dead_letter,
                "a scheduled delivery failed for good",
            );
            false
        }
    }
}

/// How a [`Scheduler`](crate::Scheduler) runs: its target, send options,
/// store, clock and thresholds. Clone it to start a scheduler again (a
/// supervisor's restart) with the same settings.
///
/// ```
/// use std::time::Duration;
/// use foundation::dead_letter::{Config as DeadLetterConfig, DeadLetterQueue};
/// use foundation::persistence::{MemoryStore, Store};
/// use foundation::supervised_send::{Backoff, OnError, SendOptions, Target};
/// use foundation::scheduler::Config;
/// # use foundation::mailbox::{Actor, Context, start};
/// # #[derive(Debug)] struct Mailer;
/// # impl Actor for Mailer {
/// #     type Args = (); type Msg = String; type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Mailer) }
/// #     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// # let (mailer, _handle) = start::<Mailer>(()).await.unwrap();
/// let dead_letters = DeadLetterQueue::new(DeadLetterConfig::default()).unwrap();
/// let config: Config<String> = Config::new(Target::actor(&mailer))
///     .send_options(
///         SendOptions::new()
///             .max_attempts(5)
///             .backoff(Backoff { initial: Duration::from_millis(50), ..Backoff::default() })
///             .on_error(OnError::DeadLetter(dead_letters)),
///     )
///     .store(Store::new(MemoryStore::new()), "mail-jobs/");
/// # let _ = config;
/// # }
/// ```
pub struct Config<M> {
    pub(crate) deliver: Arc<dyn Deliver<M>>,
    pub(crate) options: SendOptions,
    pub(crate) store: Option<(Store, String)>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) misfire_threshold: Duration,
    pub(crate) call_timeout: Duration,
    pub(crate) max_in_flight: usize,
}

impl<M> Clone for Config<M> {
    fn clone(&self) -> Self {
        Self {
            deliver: Arc::clone(&self.deliver),
            options: self.options.clone(),
            store: self.store.clone(),
            clock: Arc::clone(&self.clock),
            misfire_threshold: self.misfire_threshold,
            call_timeout: self.call_timeout,
            max_in_flight: self.max_in_flight,
        }
    }
}

impl<M: 'static> fmt::Debug for Config<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("target", &self.deliver.describe())
            .field("options", &self.options)
            .field("store", &self.store)
            .field("clock", &self.clock)
            .field("misfire_threshold", &self.misfire_threshold)
            .field("call_timeout", &self.call_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .finish()
    }
}

impl<M: Send + 'static> Config<M> {
    /// Deliveries are fire-and-forget supervised sends to `target`:
    /// delivered means accepted by a live mailbox. The defaults: 3 attempts
    /// with the default backoff, failures logged (give
    /// [`send_options`](Self::send_options) an
    /// [`OnError::DeadLetter`] to keep them), no store (jobs live only as
    /// long as the scheduler), the system clock, a misfire threshold of one
    /// second.
    pub fn new(target: Target<M>) -> Self {
        Self::with(Arc::new(Cast(target)))
    }

    fn with(deliver: Arc<dyn Deliver<M>>) -> Self {
        Self {
            deliver,
            options: SendOptions::new().on_error(OnError::Log).tag("scheduler"),
            store: None,
            clock: Arc::new(SystemClock),
            misfire_threshold: Duration::from_secs(1),
            call_timeout: TimeoutConfig::current().default_timeout(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }

    /// The supervised-send options of every delivery: attempts, backoff,
    /// deadline, on-error policy. Each delivery adds the metadata
    /// `job = <key>`, so a dead letter names its job.
    pub fn send_options(mut self, options: SendOptions) -> Self {
        self.options = options;
        self
    }

    /// Keeps every job in `store` under keys starting with `prefix`, so
    /// jobs survive a restart: a scheduler started on the same store and
    /// prefix loads them and fires what came due meanwhile by each job's
    /// [`Misfire`](crate::Misfire) policy. One scheduler per prefix.
    pub fn store(mut self, store: Store, prefix: impl Into<String>) -> Self {
        self.store = Some((store, prefix.into()));
        self
    }

    /// The clock (default [`SystemClock`]); tests give a
    /// [`TokioClock`](crate::TokioClock) under paused time or the test
    /// kit's manual clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// How late a tick may fire and still count as on time (default one
    /// second). A tick found later than this is a misfire, handled by its
    /// job's [`Misfire`](crate::Misfire) policy.
    pub fn misfire_threshold(mut self, threshold: Duration) -> Self {
        self.misfire_threshold = threshold;
        self
    }

    /// How many deliveries may be in flight at once (default 64, at least
    /// 1). Ticks beyond it wait in order for a place: a thousand jobs due
    /// at the same second make 64 sends at a time into the target's
    /// mailbox, not a thousand tasks waiting for room in it. A waiting
    /// tick counts as still going for its job's [`Overlap`](crate::Overlap)
    /// policy.
    pub fn max_in_flight(mut self, max: usize) -> Self {
        self.max_in_flight = max.max(1);
        self
    }

    /// How long the [`Scheduler`](crate::Scheduler)'s methods wait for the
    /// actor (default: [`TimeoutConfig`]'s default timeout).
    pub fn call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }
}

impl<M: Clone + Send + 'static> Config<M> {
    /// Deliveries are acknowledged supervised sends to `target`
    /// ([`send_supervised_acked`]): delivered means the recipient's handler
    /// admitted the message, so a delivery is "still going" (for
    /// [`Overlap`](crate::Overlap)) until the handler has taken it.
    pub fn acked(target: Target<Acked<M>>) -> Self {
        Self::with(Arc::new(AckedCast(target)))
    }
}
