//! [`Journaling`]: where an event-sourced actor's events go, under which id, and when it snapshots ([`SnapshotPolicy`]).

// std, not the `sync` shim: a slot filled once and taken once, with no
// ordering between threads to model.
use std::{
    fmt,
    sync::{Arc, Mutex, PoisonError},
};

use foundation_mailbox::ActorOptions;

use crate::{Journal, Recovery, saver::SaveGate};

/// When an event-sourced actor writes a snapshot of its state (and compacts
/// its journal behind it): after `events` events or `bytes` bytes of
/// encoded events since the last snapshot, whichever comes first; and,
/// when `proportional` (the default), not before the events since the
/// last snapshot take as many bytes as that snapshot did.
///
/// The proportional rule is what keeps a write's cost flat as the state
/// grows: a snapshot rewrites the whole state, so taking one every 1,000
/// events of a 100,000-entry state would cost each event a hundredth of
/// the state. With the rule, the snapshots' cost per event stays at most
/// about the event's own size, and recovery replays at most about as many
/// bytes of events as the snapshot holds (or `events`/`bytes`, for a small
/// state).
///
/// ```
/// use foundation_persistence::SnapshotPolicy;
///
/// let policy = SnapshotPolicy::default().every_events(500);
/// assert_eq!(policy.events, 500);
/// assert!(policy.proportional);
/// assert!(policy.check().is_ok());
/// assert!(SnapshotPolicy::default().every_bytes(0).check().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// Events between snapshots; at least 1.
    pub events: u64,
    /// Bytes of encoded events between snapshots; at least 1.
    pub bytes: u64,
    /// Wait, besides, until the events since the last snapshot take as
    /// many bytes as it did.
    pub proportional: bool,
}

impl Default for SnapshotPolicy {
    /// Every 1,000 events or 1 MiB of them.
    fn default() -> Self {
        Self {
            events: 1_000,
            bytes: 1 << 20,
            proportional: true,
        }
    }
}

impl SnapshotPolicy {
    /// Never snapshots by itself (only when asked with
    /// [`JournaledRef::snapshot`](crate::JournaledRef::snapshot)):
    /// recovery replays the whole journal.
    pub const fn never() -> Self {
        Self {
            events: u64::MAX,
            bytes: u64::MAX,
            proportional: true,
        }
    }

    /// Snapshots after this many events.
    pub const fn every_events(mut self, events: u64) -> Self {
        self.events = events;
        self
    }

    /// Snapshots after this many bytes of encoded events.
    pub const fn every_bytes(mut self, bytes: u64) -> Self {
        self.bytes = bytes;
        self
    }

    /// Turns the proportional rule on or off (see the type's doc).
    pub const fn proportional(mut self, proportional: bool) -> Self {
        self.proportional = proportional;
        self
    }

    /// Checks the policy's numbers; starting refuses a policy that fails.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.events == 0 || self.bytes == 0 {
            return Err("a snapshot policy needs `events` and `bytes` of at least 1");
        }
        Ok(())
    }

    /// Whether a snapshot is due after `events` events of `bytes` bytes
    /// since the last one, which took `last_snapshot` bytes.
    pub(crate) fn due(&self, events: u64, bytes: u64, last_snapshot: u64) -> bool {
        (events >= self.events || bytes >= self.bytes)
            && (!self.proportional || bytes >= last_snapshot)
    }
}

/// Where and how an event-sourced actor is persisted: the [`Journal`], the
/// actor's id in it, the [`SnapshotPolicy`], and the actor's own
/// [`ActorOptions`]. Clones share the journal and the ordering of writes
/// across incarnations, so give a supervisor a clone.
///
/// ```
/// use foundation_persistence::{Journaling, MemoryStore, SnapshotPolicy};
///
/// let journaling = Journaling::new(MemoryStore::new(), "orders/42")
///     .snapshots(SnapshotPolicy::default().every_events(100));
/// assert_eq!(journaling.id(), "orders/42");
/// ```
#[derive(Clone)]
pub struct Journaling {
    pub(crate) journal: Arc<dyn Journal>,
    pub(crate) id: Arc<str>,
    pub(crate) snapshots: SnapshotPolicy,
    pub(crate) options: ActorOptions,
    /// Shared by the clones a supervisor restarts the actor with, so each
    /// incarnation recovers only after the previous one's last write landed.
    pub(crate) writes: SaveGate,
    /// A recovery read beforehand ([`recovered`](Self::recovered)), for
    /// the first start only; shared by the clones, so a restart reads
    /// the journal again.
    pub(crate) preloaded: Arc<Mutex<Option<Recovery>>>,
}

impl fmt::Debug for Journaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journaling")
            .field("id", &self.id)
            .field("snapshots", &self.snapshots)
            .finish_non_exhaustive()
    }
}

impl Journaling {
    /// Events of the actor `id` in `journal`, snapshotted by the default
    /// [`SnapshotPolicy`].
    pub fn new(journal: impl Journal, id: impl Into<Arc<str>>) -> Self {
        Self::shared(Arc::new(journal), id)
    }

    /// The same, for a journal already shared behind an `Arc`.
    pub fn shared(journal: Arc<dyn Journal>, id: impl Into<Arc<str>>) -> Self {
        Self {
            journal,
            id: id.into(),
            snapshots: SnapshotPolicy::default(),
            options: ActorOptions::new(),
            writes: SaveGate::default(),
            preloaded: Arc::default(),
        }
    }

    /// Starts the actor from `recovery` instead of reading its journal:
    /// for a caller that read many actors' journals at once with
    /// [`Journal::recover_many`] (one hand-off to the blocking pool, or one
    /// round trip, instead of one per actor) and now starts them. Only the
    /// first start uses it; a restart reads the journal again.
    ///
    /// A recovery that is out of date (another writer appended after it
    /// was read) loses nothing: the actor's first append is then a
    /// conflict, which stops it, and its restart reads the journal.
    ///
    /// ```
    /// use foundation_persistence::{Journal, Journaling, MemoryStore};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), foundation_persistence::StoreError> {
    /// let store = MemoryStore::new();
    /// let ids: Vec<String> = (0..3).map(|n| format!("cart/{n}")).collect();
    /// let mut journalings = Vec::new();
    /// for (id, recovery) in ids.iter().zip(store.recover_many(&ids).await) {
    ///     journalings.push(Journaling::new(store.clone(), id.as_str()).recovered(recovery?));
    /// }
    /// // start_journaled::<Cart>(args, journaling) for each: no read at start.
    /// # assert_eq!(journalings.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn recovered(self, recovery: Recovery) -> Self {
        *self
            .preloaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(recovery);
        self
    }

    /// The preloaded recovery, if any and not used yet.
    pub(crate) fn take_recovered(&self) -> Option<Recovery> {
        self.preloaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// When to snapshot.
    pub fn snapshots(mut self, policy: SnapshotPolicy) -> Self {
        self.snapshots = policy;
        self
    }

    /// The actor's mailbox and start options.
    pub fn actor_options(mut self, options: ActorOptions) -> Self {
        self.options = options;
        self
    }

    /// The actor's id in the journal.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The snapshot policy.
    pub fn snapshot_policy(&self) -> SnapshotPolicy {
        self.snapshots
    }
}
