//! [`Config`]: the queue's bound, overflow policy, age limit, attempts, redrive rate, noise control and codecs.

use std::{any::Any, collections::HashMap, fmt, time::Duration};

use serde::{Serialize, de::DeserializeOwned};

use crate::{
    Clock, ReasonClass, TokioClock,
    durable::{Codec, ErasedCodec},
    sync::Arc,
};

/// What a full queue does with a new letter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overflow {
    /// Drop the oldest entry to make room, counted in
    /// [`Stats::dropped_overflow`](crate::Stats::dropped_overflow).
    #[default]
    DropOldest,
    /// Refuse the new letter: [`AppendError::Rejected`](crate::AppendError::Rejected),
    /// counted in [`Stats::rejected`](crate::Stats::rejected).
    Reject,
}

/// A class of letters that is counted but neither kept nor logged: the
/// expected noise of a system (say, ticks to a process that was stopped on
/// purpose). Every condition set must hold.
///
/// ```
/// use foundation::dead_letter::{ReasonClass, Suppress};
///
/// let ticks_on_exit = Suppress::type_name("my_app::Tick").reason(ReasonClass::Exited);
/// # let _ = ticks_on_exit;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Suppress {
    pub(crate) type_name: Option<String>,
    pub(crate) reason: Option<ReasonClass>,
}

impl Suppress {
    /// Letters whose message has this Rust type name.
    pub fn type_name(name: impl Into<String>) -> Self {
        Self {
            type_name: Some(name.into()),
            reason: None,
        }
    }

    /// Letters whose message is an `M`.
    pub fn of<M: Any>() -> Self {
        Self::type_name(std::any::type_name::<M>())
    }

    /// Letters with a reason of this class (alone, or on top of a type).
    pub fn reason(mut self, class: ReasonClass) -> Self {
        self.reason = Some(class);
        self
    }

    pub(crate) fn matches(&self, type_name: &str, reason: ReasonClass) -> bool {
        self.type_name
            .as_deref()
            .is_none_or(|name| name == type_name)
            && self.reason.is_none_or(|class| class == reason)
    }
}

/// How a queue is built: every setting has a default, so
/// `Config::default()` is a working queue.
///
/// | setting | default |
/// | --- | --- |
/// | [`capacity`](Self::capacity) | 10,000 entries |
/// | [`overflow`](Self::overflow) | [`Overflow::DropOldest`] |
/// | [`max_age`](Self::max_age) | 7 days |
/// | [`max_attempts`](Self::max_attempts) | 5 |
/// | [`history_limit`](Self::history_limit) | 16 attempts |
/// | [`redrive_rate`](Self::redrive_rate) | unlimited |
/// | [`warnings`](Self::warnings) | 10 per 10 s |
/// | [`name`](Self::name) | `"default"` |
/// | [`write_queue`](Self::write_queue) | 4,096 store writes |
/// | [`store_timeout`](Self::store_timeout) | 30 s |
/// | [`clock`](Self::clock) | [`TokioClock`] |
#[derive(Clone)]
pub struct Config {
    pub(crate) capacity: usize,
    pub(crate) overflow: Overflow,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_attempts: u32,
    pub(crate) history_limit: usize,
    pub(crate) redrive_rate: Option<foundation_rate_limiter::Config>,
    pub(crate) warnings: Option<foundation_rate_limiter::Config>,
    pub(crate) suppress: Vec<Suppress>,
    pub(crate) name: String,
    pub(crate) write_queue: usize,
    pub(crate) store_timeout: Duration,
    pub(crate) clock: Option<Arc<dyn Clock>>,
    pub(crate) codecs: HashMap<String, Arc<dyn ErasedCodec>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            overflow: Overflow::DropOldest,
            max_age: Some(Duration::from_secs(7 * 24 * 60 * 60)),
            max_attempts: 5,
            history_limit: 16,
            redrive_rate: None,
            warnings: Some(foundation_rate_limiter::Config::fixed_window(
                10,
                Duration::from_secs(10),
            )),
            suppress: Vec::new(),
            name: String::from("default"),
            write_queue: 4096,
            store_timeout: Duration::from_secs(30),
            clock: None,
            codecs: HashMap::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut codecs: Vec<&str> = self.codecs.keys().map(String::as_str).collect();
        codecs.sort_unstable();
        f.debug_struct("Config")
            .field("capacity", &self.capacity)
            .field("overflow", &self.overflow)
            .field("max_age", &self.max_age)
            .field("max_attempts", &self.max_attempts)
            .field("history_limit", &self.history_limit)
            .field("redrive_rate", &self.redrive_rate)
            .field("warnings", &self.warnings)
            .field("suppress", &self.suppress)
            .field("name", &self.name)
            .field("write_queue", &self.write_queue)
            .field("store_timeout", &self.store_timeout)
            .field("codecs", &codecs)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The most entries kept at once.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// What a full queue does with a new letter.
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Entries that first failed longer ago than this are pruned, counted in
    /// [`Stats::pruned`](crate::Stats::pruned). `None` keeps them until
    /// purged or pushed out by overflow.
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.max_age = max_age;
        self
    }

    /// How many failed attempts (the producer's included) exhaust an entry.
    pub fn max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// How many failed attempts an entry's history keeps, newest kept.
    pub fn history_limit(mut self, history_limit: usize) -> Self {
        self.history_limit = history_limit;
        self
    }

    /// The most redrive deliveries, across every redrive of the queue
    /// (manual and periodic together), enforced by an exact
    /// `foundation-rate-limiter` limiter.
    pub fn redrive_rate(mut self, rate: foundation_rate_limiter::Config) -> Self {
        self.redrive_rate = Some(rate);
        self
    }

    /// The most `warn` events the queue emits for new entries; the rest are
    /// counted and the next warning says how many were held back. `None`
    /// logs every entry.
    pub fn warnings(mut self, cap: Option<foundation_rate_limiter::Config>) -> Self {
        self.warnings = cap;
        self
    }

    /// Adds a class of letters to count and drop silently.
    pub fn suppress(mut self, class: Suppress) -> Self {
        self.suppress.push(class);
        self
    }

    /// The queue's name: its entries' keys in a store start with
    /// `dead-letter/<name>/`, so several queues can share one store.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// How many store writes may wait for the writer. A write that finds
    /// the queue full is refused: a new or changed entry stays in memory,
    /// and a removed one may come back after a restart; both are logged
    /// and counted in [`Stats::store_errors`](crate::Stats::store_errors).
    pub fn write_queue(mut self, bound: usize) -> Self {
        self.write_queue = bound;
        self
    }

    /// How long [`append`](crate::DeadLetterQueue::append),
    /// [`flush`](crate::DeadLetterQueue::flush) and
    /// [`close`](crate::DeadLetterQueue::close) wait for the store.
    pub fn store_timeout(mut self, timeout: Duration) -> Self {
        self.store_timeout = timeout;
        self
    }

    /// Where the queue reads the time.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Lets messages of type `M` be stored durably, in the persistence
    /// crate's checked codec (postcard). Messages of a type without a codec
    /// stay in memory.
    pub fn codec<M>(mut self) -> Self
    where
        M: Serialize + DeserializeOwned + Send + 'static,
    {
        self.codecs.insert(
            std::any::type_name::<M>().to_owned(),
            Arc::new(Codec::<M>::new()),
        );
        self
    }

    pub(crate) fn take_clock(&mut self) -> Arc<dyn Clock> {
        self.clock
            .take()
            .unwrap_or_else(|| Arc::new(TokioClock::new()))
    }
}
