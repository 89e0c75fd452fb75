//! [`DeadLetterQueue`]: appending, the mailbox sink, listing, purging, pruning and stats.

use std::{
    collections::HashMap,
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use foundation_mailbox::{DeadLetter, DeadLetterSink, MessageKind};
use foundation_persistence::{StateStore, Store};
use foundation_rate_limiter::DirectLimiter;

use crate::{
    AppendError, Attempt, Clock, Config, ConfigError, Entry, EntryId, FlushError, Letter, Message,
    OpenError, Overflow, Status, Storage,
    clock::LimiterClock,
    durable::{self, Backend, ErasedCodec, Stored, Write, Writer},
    noise::Noise,
    redrive::Tasks,
    sync::{Arc, AtomicU64, Mutex, MutexGuard, Ordering, lock},
};

/// A bounded, listable, purgeable, redrivable dead-letter queue; durable
/// when opened on a store. Clones share the queue.
///
/// See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct DeadLetterQueue {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) state: Mutex<State>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Settings,
    pub(crate) codecs: HashMap<String, Arc<dyn ErasedCodec>>,
    pub(crate) writer: Option<Writer>,
    pub(crate) noise: Noise,
    pub(crate) redrive_limiter: Option<DirectLimiter<LimiterClock>>,
    pub(crate) tasks: Tasks,
    /// Store writes that failed or could not be queued.
    pub(crate) store_errors: AtomicU64,
    /// The table shared with other nodes, when the queue is on PostgreSQL:
    /// its durable entries are redriven only by claiming them there.
    #[cfg(feature = "postgres")]
    pub(crate) shared: Option<crate::durable::postgres::PostgresDeadLetters>,
}

impl Inner {
    /// Whether durable entries are redriven through claims on a shared
    /// table, never straight from this node's memory.
    pub(crate) fn claims_durable(&self) -> bool {
        #[cfg(feature = "postgres")]
        return self.shared.is_some();
        #[cfg(not(feature = "postgres"))]
        false
    }
}

impl fmt::Debug for DeadLetterQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadLetterQueue")
            .field("name", &self.inner.settings.name)
            .field("len", &self.len())
            .field("durable", &self.inner.writer.is_some())
            .finish_non_exhaustive()
    }
}

impl DeadLetterQueue {
    /// An in-memory queue: nothing survives the program.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for a zero capacity or attempts, or a bad rate.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Self::build(config, None)
    }

    /// A durable queue on `store`: the entries it already holds for this
    /// queue's [name](Config::name) are loaded, and every entry whose
    /// message type has a [codec](Config::codec) is written to it. Needs a
    /// tokio runtime (the store is written by a task of the queue's own).
    ///
    /// # Errors
    ///
    /// An [`OpenError`] for a bad configuration or a store that cannot be read.
    pub async fn open(config: Config, store: impl StateStore) -> Result<Self, OpenError> {
        Self::open_on(config, Backend::Store(Store::new(store)), 1).await
    }

    /// Opens a durable queue on `backend`; its own ids start at `first_id`
    /// (or after the highest stored one).
    pub(crate) async fn open_on(
        config: Config,
        backend: Backend,
        first_id: u64,
    ) -> Result<Self, OpenError> {
        let (loaded, corrupt) = backend.load(&config.name).await?;
        let queue = Self::build(config, Some(backend))?;
        {
            let mut state = queue.state();
            state.next_id = first_id;
            state.stats.corrupt = corrupt;
            for stored in loaded {
                state.next_id = state.next_id.max(stored.entry.id.get() + 1);
                let mut entry = stored.entry;
                entry.storage = Storage::Durable;
                state.entries.push_back(Slot {
                    entry,
                    message: None,
                    payload: Some(stored.payload),
                    in_flight: false,
                });
            }
        }
        Ok(queue)
    }

    /// A durable queue in its own redb file at `path` (created if there is
    /// none), the embedded default store. To share one file with
    /// persistent actors, open the `RedbStore` once and pass a clone to
    /// [`open`](Self::open): a redb file can be open only once at a time.
    ///
    /// # Errors
    ///
    /// [`OpenError::File`] if the file cannot be opened (damaged, in use),
    /// or what [`open`](Self::open) returns.
    pub async fn open_redb(
        config: Config,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, OpenError> {
        let store = foundation_persistence::RedbStore::open(path)?;
        Self::open(config, store).await
    }

    /// A durable queue in PostgreSQL's dead-letter table, shared by every
    /// node whose queue of the same [name](Config::name) opens on the same
    /// database and schema: the entries this node appends go into the
    /// table (from the writer task, as with any store), the ones already
    /// there are loaded, and durable entries are redriven by
    /// [`redrive_claimed`](Self::redrive_claimed), which claims them in the
    /// table so that two nodes never deliver the same entry at once.
    /// [`spawn_redrive`](Self::spawn_redrive) does both kinds, woken by a
    /// `NOTIFY` when any node appends. Ids carry a per-node prefix from
    /// the database, so nodes never hand out the same one.
    ///
    /// # Errors
    ///
    /// [`OpenError::Postgres`] if the table cannot be brought up to date
    /// (see [`Postgres::migrate`](foundation_persistence::postgres::Postgres::migrate)),
    /// [`OpenError::Store`] if the entries cannot be read.
    #[cfg(feature = "postgres")]
    pub async fn open_postgres(
        config: Config,
        database: foundation_persistence::postgres::Postgres,
    ) -> Result<Self, OpenError> {
        let table = crate::durable::postgres::PostgresDeadLetters::open(database).await?;
        let incarnation = table.incarnation(&config.name).await?;
        Self::open_on(config, Backend::Postgres(table), incarnation << 32 | 1).await
    }

    fn build(mut config: Config, store: Option<Backend>) -> Result<Self, ConfigError> {
        if config.capacity == 0 {
            return Err(ConfigError::ZeroCapacity);
        }
        if config.max_attempts == 0 {
            return Err(ConfigError::ZeroAttempts);
        }
        let clock = config.take_clock();
        let noise = Noise::new(config.warnings, &clock)?;
        let redrive_limiter = config
            .redrive_rate
            .map(|rate| DirectLimiter::with_clock(rate, LimiterClock::new(Arc::clone(&clock))))
            .transpose()?;
        #[cfg(feature = "postgres")]
        let shared = match &store {
            Some(Backend::Postgres(table)) => Some(table.clone()),
            _ => None,
        };
        let inner = Arc::new_cyclic(|weak: &std::sync::Weak<Inner>| {
            let weak = weak.clone();
            let writer = store.map(|store| {
                let name = config.name.clone();
                Writer::start(
                    store,
                    name,
                    config.write_queue,
                    config.store_timeout,
                    move |failed_put| {
                        if let Some(inner) = weak.upgrade() {
                            inner.store_errors.fetch_add(1, Ordering::Relaxed);
                            // The entry is not in the store: say so, and
                            // let a shared queue redrive it from memory.
                            if let Some(id) = failed_put {
                                DeadLetterQueue { inner }.mark_in_memory(id);
                            }
                        }
                    },
                )
            });
            Inner {
                state: Mutex::new(State {
                    next_id: 1,
                    ..State::default()
                }),
                clock,
                settings: Settings {
                    capacity: config.capacity,
                    overflow: config.overflow,
                    max_age: config.max_age,
                    max_attempts: config.max_attempts,
                    history_limit: config.history_limit,
                    suppress: config.suppress,
                    name: config.name,
                },
                codecs: config.codecs,
                writer,
                noise,
                redrive_limiter,
                tasks: Tasks::default(),
                store_errors: AtomicU64::new(0),
                #[cfg(feature = "postgres")]
                shared,
            }
        });
        Ok(Self { inner })
    }

    /// This queue as a mailbox dead-letter sink, for
    /// `ActorOptions::dead_letters`.
    pub fn sink(&self) -> Arc<dyn DeadLetterSink> {
        Arc::new(self.clone())
    }

    /// Keeps `letter` and, if the queue is durable and its message type has
    /// a codec, waits until it is in the store. The seam for producers
    /// other than the mailbox: a supervised send out of retries appends its
    /// message with its metadata, attempts and history.
    ///
    /// # Errors
    ///
    /// [`AppendError::Rejected`] or [`AppendError::Suppressed`] give the
    /// letter back; [`AppendError::NotDurable`] means it is kept in memory
    /// only.
    pub async fn append(&self, letter: Letter) -> Result<EntryId, AppendError> {
        let (id, storage) = self.insert(letter)?;
        if let (Storage::Durable, Some(writer)) = (storage, &self.inner.writer) {
            match writer.flush(false).await {
                Ok(()) => {}
                Err(FlushError::Store(source)) => {
                    self.mark_in_memory(id);
                    return Err(AppendError::NotDurable { id, source });
                }
                Err(other) => {
                    self.mark_in_memory(id);
                    let key = durable::key(&self.inner.settings.name, id);
                    return Err(AppendError::NotDurable {
                        id,
                        source: foundation_persistence::StoreError::backend(&key, other),
                    });
                }
            }
        }
        Ok(id)
    }

    /// Keeps `letter` without waiting for the store: the store write is
    /// queued, and [`flush`](Self::flush) waits for it. What the mailbox
    /// sink calls.
    ///
    /// # Errors
    ///
    /// [`AppendError::Rejected`] or [`AppendError::Suppressed`], with the letter.
    pub fn try_append(&self, letter: Letter) -> Result<EntryId, AppendError> {
        self.insert(letter).map(|(id, _)| id)
    }

    /// Waits until every store write queued so far is done.
    ///
    /// # Errors
    ///
    /// A [`FlushError`] if a write since the last flush failed. An
    /// in-memory queue always succeeds.
    pub async fn flush(&self) -> Result<(), FlushError> {
        match &self.inner.writer {
            Some(writer) => writer.flush(false).await,
            None => Ok(()),
        }
    }

    /// Finishes the store writes queued so far, then releases the store (a
    /// redb file can then be opened again, by this program or another).
    /// The queue keeps working in memory: entries appended after a close,
    /// and changes to durable ones, are not written.
    ///
    /// # Errors
    ///
    /// A [`FlushError`] if a write since the last flush failed, or the
    /// store was already released.
    pub async fn close(&self) -> Result<(), FlushError> {
        match &self.inner.writer {
            Some(writer) => writer.flush(true).await,
            None => Ok(()),
        }
    }

    fn insert(&self, letter: Letter) -> Result<(EntryId, Storage), AppendError> {
        // A letter that comes straight back while a redrive on this thread
        // delivers it is that redrive's failure, not a new entry.
        let letter = match crate::redrive::bounce(&self.inner, letter) {
            Ok(letter) => letter,
            Err(redriven) => return Ok((redriven, Storage::Memory)),
        };
        let settings = &self.inner.settings;
        let type_name = letter.message.type_name();
        let class = letter.reason.class();
        if settings
            .suppress
            .iter()
            .any(|suppress| suppress.matches(type_name, class))
        {
            self.state().stats.suppressed += 1;
            return Err(AppendError::Suppressed(Box::new(letter)));
        }
        let now = self.now();
        let mut state = self.state();
        self.prune_front(&mut state, now);
        if state.entries.len() >= settings.capacity {
            match settings.overflow {
                Overflow::Reject => {
                    state.stats.rejected += 1;
                    let warning = self.inner.noise.admit();
                    if warning.is_none() {
                        state.stats.warnings_suppressed += 1;
                    }
                    drop(state);
                    if let Some(held_back) = warning {
                        tracing::warn!(target: "foundation::dead_letter", queue = %settings.name, message_type = type_name, held_back, "dead-letter queue full; letter rejected");
                    }
                    return Err(AppendError::Rejected(Box::new(letter)));
                }
                Overflow::DropOldest => {
                    if let Some(oldest) = state.entries.pop_front() {
                        state.stats.dropped_overflow += 1;
                        self.forget(&oldest);
                    }
                }
            }
        }
        let id = EntryId::new(state.next_id);
        state.next_id += 1;
        let mut slot = self.new_slot(id, letter, now);
        self.persist(&mut slot);
        let storage = slot.entry.storage;
        let warning = self.inner.noise.admit();
        let summary = warning.map(|held_back| (held_back, slot.entry.clone()));
        state.entries.push_back(slot);
        state.stats.appended += 1;
        if summary.is_none() {
            state.stats.warnings_suppressed += 1;
        }
        drop(state);
        if let Some((held_back, entry)) = summary {
            tracing::warn!(
                target: "foundation::dead_letter",
                queue = %settings.name,
                id = %entry.id,
                recipient = ?entry.recipient,
                reason = %entry.reason,
                message_type = %entry.type_name,
                held_back,
                "dead letter"
            );
        }
        Ok((id, storage))
    }

    /// Builds the slot of a new entry: its history starts with the
    /// producer's (or with its reason), and its message is encoded if it can
    /// be stored.
    fn new_slot(&self, id: EntryId, letter: Letter, now: SystemTime) -> Slot {
        let settings = &self.inner.settings;
        let type_name = letter.message.type_name();
        let first_failure = letter.first_failure.unwrap_or(now);
        let mut history = letter.history;
        if history.is_empty() {
            history.push(Attempt {
                at: first_failure,
                error: letter.reason.to_string(),
            });
        }
        let mut entry = Entry {
            id,
            recipient: letter.recipient,
            reason: letter.reason,
            kind: letter.kind,
            type_name: type_name.to_owned(),
            metadata: letter.metadata,
            attempts: letter.attempts,
            first_failure,
            last_attempt: history.last().map_or(now, |attempt| attempt.at),
            history,
            status: Status::Pending,
            storage: Storage::Memory,
        };
        trim_history(&mut entry.history, settings.history_limit);
        if entry.attempts >= settings.max_attempts {
            entry.status = Status::Exhausted;
        }
        let payload = self.encode(id, &letter.message);
        if payload.is_some() {
            entry.storage = Storage::Durable;
        }
        Slot {
            entry,
            message: Some(letter.message),
            payload,
            in_flight: false,
        }
    }

    /// Encodes a message for the store, if the queue is durable and its type
    /// has a codec; a failure keeps the entry in memory, logged.
    fn encode(&self, id: EntryId, message: &Message) -> Option<Vec<u8>> {
        self.inner.writer.as_ref()?;
        let codec = self.inner.codecs.get(message.type_name())?;
        let key = durable::key(&self.inner.settings.name, id);
        match codec.encode(&key, message) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                tracing::error!(target: "foundation::dead_letter", %key, %error, "could not encode a dead letter; it stays in memory");
                None
            }
        }
    }

    /// Queues the write of a durable slot's record (its entry changed).
    pub(crate) fn persist(&self, slot: &mut Slot) {
        let (Some(writer), Some(payload)) = (&self.inner.writer, &slot.payload) else {
            return;
        };
        let id = slot.entry.id;
        let key = durable::key(&self.inner.settings.name, id);
        let stored = Stored {
            entry: slot.entry.clone(),
            payload: payload.clone(),
        };
        let pending = slot.entry.status == Status::Pending;
        let written = durable::encode_record(&key, &stored)
            .map(|bytes| writer.send(Write::Put { id, pending, bytes }));
        if written != Ok(true) {
            self.inner.store_errors.fetch_add(1, Ordering::Relaxed);
            slot.entry.storage = Storage::Memory;
            slot.payload = None;
        }
    }

    /// Queues the removal of a slot's record from the store.
    pub(crate) fn forget(&self, slot: &Slot) {
        if let (Some(writer), Storage::Durable) = (&self.inner.writer, slot.entry.storage)
            && !writer.send(Write::Delete { id: slot.entry.id })
        {
            self.inner.store_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn mark_in_memory(&self, id: EntryId) {
        let mut state = self.state();
        if let Some(at) = state.position(id) {
            state.entries[at].entry.storage = Storage::Memory;
        }
    }

    /// Removes entries too old from the front, where the oldest are.
    fn prune_front(&self, state: &mut State, now: SystemTime) {
        let Some(max_age) = self.inner.settings.max_age else {
            return;
        };
        while let Some(front) = state.entries.front() {
            if !is_older(front.entry.first_failure, now, max_age) {
                break;
            }
            if let Some(slot) = state.entries.pop_front() {
                state.stats.pruned += 1;
                self.forget(&slot);
            }
        }
    }

    /// Removes every entry older than the queue's [max age](Config::max_age);
    /// returns how many. Appends prune the oldest entries as they go, and
    /// periodic redrives prune at each run; this catches the rest (an entry
    /// appended with an old [first failure](Letter::first_failure)).
    pub fn prune(&self) -> usize {
        let Some(max_age) = self.inner.settings.max_age else {
            return 0;
        };
        let now = self.now();
        self.remove_where(
            |entry| is_older(entry.first_failure, now, max_age),
            |stats, n| stats.pruned += n,
        )
    }

    pub(crate) fn decode(&self, entry: &Entry, payload: &[u8]) -> Result<Message, String> {
        let codec = self
            .inner
            .codecs
            .get(&entry.type_name)
            .ok_or_else(|| format!("no codec for {}", entry.type_name))?;
        codec.decode(&durable::key(&self.inner.settings.name, entry.id), payload)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.inner.state)
    }

    /// The time, to the millisecond the store keeps.
    pub(crate) fn now(&self) -> SystemTime {
        let now = self.inner.clock.now();
        let millis = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
        UNIX_EPOCH + Duration::from_millis(millis)
    }
}

impl DeadLetterSink for DeadLetterQueue {
    fn dead_letter(&self, letter: DeadLetter) {
        // A dead call's request went with its reply port: its caller has
        // its error already, and nothing is left to redrive. Counted, not
        // kept, and not worth a warning.
        if letter.kind == MessageKind::Call {
            self.state().stats.dead_calls += 1;
            tracing::debug!(target: "foundation::dead_letter", queue = %self.inner.settings.name, recipient = %letter.recipient, message_type = letter.type_name, "dead call counted; its caller was told");
            return;
        }
        // A refused or suppressed letter is already counted (and a refusal
        // logged); the mailbox has nobody to give it back to.
        let _ = self.try_append(Letter::from(letter));
    }
}

pub(crate) fn trim_history(history: &mut Vec<Attempt>, limit: usize) {
    if history.len() > limit {
        history.drain(..history.len() - limit);
    }
}

fn is_older(first_failure: SystemTime, now: SystemTime, max_age: Duration) -> bool {
    now.duration_since(first_failure)
        .is_ok_and(|age| age >= max_age)
}

mod listing;
mod state;
#[cfg(test)]
mod tests;

pub use self::state::Stats;
pub(crate) use self::state::{Settings, Slot, State};
