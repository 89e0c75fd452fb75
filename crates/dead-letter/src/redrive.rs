//! Redrive: retrying entries through a [`Resolver`], by hand or periodically, rate-limited, with a max-attempts limit and loop protection.

use std::{
    cell::RefCell,
    fmt,
    marker::PhantomData,
    panic::{AssertUnwindSafe, catch_unwind},
    time::Duration,
};

use foundation_mailbox::{NamedSendError, SendError};
use tokio::{task::AbortHandle, time::MissedTickBehavior};

use crate::{
    Attempt, DeadLetterQueue, Entry, EntryId, Filter, Letter, Message, Status, Storage,
    queue::{Inner, trim_history},
    sync::{Arc, Mutex, lock},
};

/// Delivers a redriven entry. The original recipient may be dead; a
/// resolver finds where the message should go now (a registered name, a
/// supervisor's child reference that follows restarts) and sends it.
///
/// Any `Fn(&Entry, Message) -> Result<(), Undelivered>` is a resolver;
/// [`typed`] makes one that sees messages of one type as that type.
/// `deliver` runs outside the queue's lock, on the redriving thread, and
/// must not block: send with `try_cast`, not an awaited call.
pub trait Resolver: Send + Sync + 'static {
    /// Whether this resolver handles `entry`; entries it does not are
    /// skipped, untouched. Called under the queue's lock: look only at the
    /// entry.
    fn accepts(&self, entry: &Entry) -> bool {
        let _ = entry;
        true
    }

    /// Delivers `message`, or gives it back with why not.
    ///
    /// # Errors
    ///
    /// An [`Undelivered`] with the message, recorded as a failed attempt.
    fn deliver(&self, entry: &Entry, message: Message) -> Result<(), Undelivered>;
}

impl<F> Resolver for F
where
    F: Fn(&Entry, Message) -> Result<(), Undelivered> + Send + Sync + 'static,
{
    fn deliver(&self, entry: &Entry, message: Message) -> Result<(), Undelivered> {
        self(entry, message)
    }
}

/// A delivery that failed, with the message given back.
pub struct Undelivered<M = Message> {
    message: M,
    reason: String,
}

impl<M> Undelivered<M> {
    /// `message` was not delivered, because of `reason`.
    pub fn new(message: M, reason: impl Into<String>) -> Self {
        Self {
            message,
            reason: reason.into(),
        }
    }

    /// Why it was not delivered.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The message.
    pub fn into_inner(self) -> M {
        self.message
    }
}

impl<M> fmt::Debug for Undelivered<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Undelivered")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

impl<M> From<SendError<M>> for Undelivered<M> {
    fn from(error: SendError<M>) -> Self {
        let reason = error.to_string();
        Self::new(error.into_inner(), reason)
    }
}

impl<M> From<NamedSendError<M>> for Undelivered<M> {
    fn from(error: NamedSendError<M>) -> Self {
        let reason = error.to_string();
        Self::new(error.into_inner(), reason)
    }
}

/// A resolver for messages of type `M`: entries of other types are skipped.
///
/// ```
/// use foundation::dead_letter::{Undelivered, typed};
///
/// let resolver = typed(|_entry, amount: u64| {
///     if amount > 0 { Ok(()) } else { Err(Undelivered::new(amount, "nothing to charge")) }
/// });
/// # let _ = resolver;
/// ```
pub fn typed<M, F>(deliver: F) -> Typed<M, F>
where
    M: Send + 'static,
    F: Fn(&Entry, M) -> Result<(), Undelivered<M>> + Send + Sync + 'static,
{
    Typed {
        deliver,
        message: PhantomData,
    }
}

/// The resolver [`typed`] returns.
pub struct Typed<M, F> {
    deliver: F,
    message: PhantomData<fn(M)>,
}

impl<M, F> fmt::Debug for Typed<M, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Typed")
            .field("message", &std::any::type_name::<M>())
            .finish_non_exhaustive()
    }
}

impl<M, F> Resolver for Typed<M, F>
where
    M: Send + 'static,
    F: Fn(&Entry, M) -> Result<(), Undelivered<M>> + Send + Sync + 'static,
{
    fn accepts(&self, entry: &Entry) -> bool {
        entry.type_name == std::any::type_name::<M>()
    }

    fn deliver(&self, entry: &Entry, message: Message) -> Result<(), Undelivered> {
        match message.downcast::<M>() {
            Ok(message) => (self.deliver)(entry, message)
                .map_err(|failed| Undelivered::new(Message::new(failed.message), failed.reason)),
            Err(message) => {
                let reason = format!("not a {}", std::any::type_name::<M>());
                Err(Undelivered::new(message, reason))
            }
        }
    }
}

/// Which entries a redrive tries, how many per run, and how often a
/// periodic one runs.
#[derive(Clone, Debug)]
pub struct RedriveOptions {
    filter: Filter,
    batch: usize,
    interval: Duration,
}

impl Default for RedriveOptions {
    fn default() -> Self {
        Self {
            filter: Filter::all(),
            batch: 100,
            interval: Duration::from_secs(30),
        }
    }
}

impl RedriveOptions {
    /// Only entries that match `filter` (every pending entry by default).
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = filter;
        self
    }

    /// At most this many entries per run (100 by default).
    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch;
        self
    }

    /// How often a periodic redrive runs (30 s by default; the first run is
    /// one interval after the start).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
}

/// What one redrive run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedriveReport {
    /// Entries delivered, and removed.
    pub delivered: usize,
    /// Attempts that failed, recorded in their entries.
    pub failed: usize,
    /// Entries that ran out of attempts in this run.
    pub exhausted: usize,
    /// The run stopped early because the queue's redrive rate was reached.
    pub rate_limited: bool,
}

/// A periodic redrive's identity in its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RedriveId(u64);

impl fmt::Display for RedriveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "redrive-{}", self.0)
    }
}

/// A periodic redrive as [`DeadLetterQueue::redrive_tasks`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedriveTaskInfo {
    /// Its id.
    pub id: RedriveId,
    /// How often it runs.
    pub interval: Duration,
    /// Runs so far.
    pub runs: u64,
    /// Entries it delivered.
    pub delivered: u64,
    /// Attempts of it that failed.
    pub failed: u64,
}

/// What a periodic redrive and its handle share.
struct Task {
    id: RedriveId,
    interval: Duration,
    counts: Mutex<(u64, u64, u64)>,
    abort: Mutex<Option<AbortHandle>>,
    /// Whether other nodes' new letters wake it (see [`RedriveHandle::listening`]).
    listening: tokio::sync::watch::Receiver<claimed::Listening>,
}

impl Task {
    fn info(&self) -> RedriveTaskInfo {
        let (runs, delivered, failed) = *lock(&self.counts);
        RedriveTaskInfo {
            id: self.id,
            interval: self.interval,
            runs,
            delivered,
            failed,
        }
    }

    fn stop(&self) {
        if let Some(abort) = lock(&self.abort).take() {
            abort.abort();
        }
    }
}

/// The periodic redrives of one queue.
#[derive(Default)]
pub(crate) struct Tasks {
    running: Mutex<(u64, Vec<Arc<Task>>)>,
}

impl Tasks {
    fn cancel(&self, id: RedriveId) -> bool {
        let mut running = lock(&self.running);
        let Some(at) = running.1.iter().position(|task| task.id == id) else {
            return false;
        };
        let task = running.1.remove(at);
        drop(running);
        task.stop();
        true
    }
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for task in &lock(&self.running).1 {
            task.stop();
        }
    }
}

/// A running periodic redrive. Dropping the handle leaves it running; it
/// stops when cancelled here or with [`DeadLetterQueue::cancel_redrive`],
/// or when the queue's last handle is dropped.
pub struct RedriveHandle {
    task: Arc<Task>,
    queue: std::sync::Weak<Inner>,
}

impl fmt::Debug for RedriveHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedriveHandle")
            .field("id", &self.task.id)
            .finish_non_exhaustive()
    }
}

impl RedriveHandle {
    /// The redrive's id.
    pub fn id(&self) -> RedriveId {
        self.task.id
    }

    /// What it has done so far.
    pub fn info(&self) -> RedriveTaskInfo {
        self.task.info()
    }

    /// Waits until the redrive listens for letters that other nodes append
    /// (a queue on PostgreSQL: `LISTEN` has taken effect, so a letter
    /// appended from now on wakes it); returns `false` at once for a queue
    /// that has no other nodes, and `false` if the listener failed (the
    /// redrive then runs at its interval only). Cancel-safe.
    pub async fn listening(&self) -> bool {
        let mut listening = self.task.listening.clone();
        match listening
            .wait_for(|state| *state != claimed::Listening::Starting)
            .await
        {
            Ok(state) => *state == claimed::Listening::Yes,
            Err(_) => false,
        }
    }

    /// Stops it; returns whether it was still listed.
    pub fn cancel(&self) -> bool {
        match self.queue.upgrade() {
            Some(inner) => inner.tasks.cancel(self.task.id),
            None => {
                self.task.stop();
                false
            }
        }
    }
}

/// The redrive this thread is in the middle of, for loop protection.
struct Redriving {
    queue: usize,
    id: EntryId,
    bounced: Option<Letter>,
}

// audit:allow(FND002) set only for the length of one resolver call on this thread and taken back right after it: no state outlives a delivery
thread_local! {
    static REDRIVING: RefCell<Option<Redriving>> = const { RefCell::new(None) };
}

fn address(inner: &Inner) -> usize {
    std::ptr::from_ref(inner) as usize
}

/// Loop protection: a letter appended to `inner` while this thread is
/// delivering one of its entries (a mailbox whose overflow policy dropped
/// the redriven message straight back into this queue) is kept as that
/// redrive's failure, `Err(entry)`, instead of becoming a new entry that
/// would be redriven again.
pub(crate) fn bounce(inner: &Inner, letter: Letter) -> Result<Letter, EntryId> {
    REDRIVING.with_borrow_mut(|current| match current {
        Some(current) if current.queue == address(inner) && current.bounced.is_none() => {
            current.bounced = Some(letter);
            Err(current.id)
        }
        _ => Ok(letter),
    })
}

/// How one delivery ended.
pub(crate) enum Outcome {
    Delivered,
    /// Failed; the message, if the resolver gave it back, and why.
    Failed(Option<Message>, String),
}

pub(crate) fn deliver(
    inner: &Inner,
    resolver: &dyn Resolver,
    entry: &Entry,
    message: Message,
) -> Outcome {
    REDRIVING.set(Some(Redriving {
        queue: address(inner),
        id: entry.id,
        bounced: None,
    }));
    let delivered = catch_unwind(AssertUnwindSafe(|| resolver.deliver(entry, message)));
    let bounced = REDRIVING.take().and_then(|redriving| redriving.bounced);
    match (delivered, bounced) {
        (Ok(Ok(())), None) => Outcome::Delivered,
        (Ok(Ok(())), Some(letter)) => {
            let reason = format!("came straight back: {}", letter.reason);
            Outcome::Failed(Some(letter.message), reason)
        }
        (Ok(Err(undelivered)), _) => Outcome::Failed(Some(undelivered.message), undelivered.reason),
        (Err(_), bounced) => Outcome::Failed(
            bounced.map(|letter| letter.message),
            String::from("the resolver panicked"),
        ),
    }
}

impl DeadLetterQueue {
    /// Tries pending entries that match the options' filter and that
    /// `resolver` accepts, oldest first, each at most once per run, up to
    /// the options' batch and the queue's [redrive rate](crate::Config::redrive_rate).
    ///
    /// A delivered entry is removed. A failed one stays, with the attempt in
    /// its history; at the queue's [max attempts](crate::Config::max_attempts)
    /// it is [exhausted](Status::Exhausted) and listable, never redriven
    /// again. A failure never appends a new entry.
    pub fn redrive(&self, resolver: &dyn Resolver, options: &RedriveOptions) -> RedriveReport {
        let mut report = RedriveReport::default();
        let mut after = EntryId::new(0);
        for _ in 0..options.batch {
            let picked = {
                let mut state = self.state();
                // On a shared table, durable entries are claimed there instead.
                let claims_durable = self.inner.claims_durable();
                let Some(slot) = state.entries.iter_mut().find(|slot| {
                    slot.entry.id > after
                        && slot.entry.status == Status::Pending
                        && !slot.in_flight
                        && !(claims_durable && slot.entry.storage == Storage::Durable)
                        && (slot.message.is_some() || slot.payload.is_some())
                        && options.filter.matches(&slot.entry)
                        && resolver.accepts(&slot.entry)
                }) else {
                    break;
                };
                if let Some(limiter) = &self.inner.redrive_limiter
                    && !limiter.check().is_allowed()
                {
                    report.rate_limited = true;
                    break;
                }
                after = slot.entry.id;
                slot.in_flight = true;
                (
                    slot.entry.clone(),
                    slot.message.take(),
                    slot.payload.clone(),
                )
            };
            let (entry, message, payload) = picked;
            let message = match (message, payload) {
                (Some(message), _) => Ok(message),
                (None, Some(payload)) => self.decode(&entry, &payload),
                (None, None) => Err(String::from("the message was lost")),
            };
            let outcome = match message {
                Ok(message) => deliver(&self.inner, resolver, &entry, message),
                Err(error) => Outcome::Failed(None, error),
            };
            self.settle(entry.id, outcome, &mut report);
        }
        report
    }

    fn settle(&self, id: EntryId, outcome: Outcome, report: &mut RedriveReport) {
        let now = self.now();
        let mut state = self.state();
        let Some(at) = state.position(id) else {
            // Purged or pushed out while it was being delivered.
            if let Outcome::Delivered = outcome {
                state.stats.redriven_ok += 1;
                report.delivered += 1;
            }
            return;
        };
        match outcome {
            Outcome::Delivered => {
                if let Some(slot) = state.entries.remove(at) {
                    self.forget(&slot);
                }
                state.stats.redriven_ok += 1;
                report.delivered += 1;
            }
            Outcome::Failed(message, error) => {
                let max_attempts = self.inner.settings.max_attempts;
                let history_limit = self.inner.settings.history_limit;
                let slot = &mut state.entries[at];
                slot.in_flight = false;
                slot.message = message;
                slot.entry.attempts = slot.entry.attempts.saturating_add(1);
                slot.entry.last_attempt = now;
                slot.entry.history.push(Attempt { at: now, error });
                trim_history(&mut slot.entry.history, history_limit);
                let lost = slot.message.is_none() && slot.payload.is_none();
                let exhausted = slot.entry.attempts >= max_attempts || lost;
                if exhausted {
                    slot.entry.status = Status::Exhausted;
                }
                self.persist(slot);
                state.stats.redrive_failed += 1;
                report.failed += 1;
                if exhausted {
                    state.stats.exhausted += 1;
                    report.exhausted += 1;
                }
            }
        }
    }

    /// Starts a periodic redrive: every interval, it prunes entries too old
    /// and runs [`redrive`](Self::redrive) with `resolver` and `options`.
    /// Needs a tokio runtime; under paused time it runs as tokio's clock
    /// advances.
    pub fn spawn_redrive(&self, resolver: impl Resolver, options: RedriveOptions) -> RedriveHandle {
        let interval = options.interval.max(Duration::from_millis(1));
        // On a shared table, a new letter from any node wakes the redrive
        // at once (LISTEN/NOTIFY) instead of waiting out the interval.
        let wake = Arc::new(tokio::sync::Notify::new());
        let (listener, listening) = self.listen(&wake);
        let task = {
            let mut running = lock(&self.inner.tasks.running);
            running.0 += 1;
            let task = Arc::new(Task {
                id: RedriveId(running.0),
                interval,
                counts: Mutex::new((0, 0, 0)),
                abort: Mutex::new(None),
                listening,
            });
            running.1.push(Arc::clone(&task));
            task
        };
        let queue = Arc::downgrade(&self.inner);
        let shared = Arc::clone(&task);
        // The first run is one interval after this call, not after the
        // task first gets to run.
        let first = tokio::time::Instant::now() + interval;
        // audit:allow(FND001) the redrive is owned by its queue: it holds only a weak reference, ends when the queue's last handle drops, and is aborted by `cancel` or when the queue is dropped
        let join = tokio::spawn(async move {
            // Dropped with this task, which ends the listener.
            let _listener = listener;
            let mut ticks = tokio::time::interval_at(first, interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    () = wake.notified() => {}
                }
                let Some(inner) = queue.upgrade() else {
                    break;
                };
                let queue = DeadLetterQueue { inner };
                queue.prune();
                let mut report = queue.redrive(&resolver, &options);
                queue.redrive_shared(&resolver, &options, &mut report).await;
                let mut counts = lock(&shared.counts);
                counts.0 += 1;
                counts.1 += report.delivered as u64;
                counts.2 += report.failed as u64;
            }
        });
        *lock(&task.abort) = Some(join.abort_handle());
        RedriveHandle {
            task,
            queue: Arc::downgrade(&self.inner),
        }
    }

    /// The periodic redrives running, oldest first.
    pub fn redrive_tasks(&self) -> Vec<RedriveTaskInfo> {
        lock(&self.inner.tasks.running)
            .1
            .iter()
            .map(|task| task.info())
            .collect()
    }

    /// Stops the periodic redrive `id`; returns whether it was running.
    pub fn cancel_redrive(&self, id: RedriveId) -> bool {
        self.inner.tasks.cancel(id)
    }
}

pub(crate) mod claimed;
#[cfg(test)]
mod tests;
