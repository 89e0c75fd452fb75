//! The sharded registry: every live monitor, found by its reference, with no lock all monitors share.
//!
//! Shards are picked by hashing the monitor's reference with ahash. A
//! reference belongs to one monitor, so a create and its drop meet in one
//! shard, and the monitors of one busy target spread over every shard
//! instead of queueing on the target's.

use ahash::{HashMap, RandomState};

use crate::sync::{AtomicU64, Mutex, Ordering, lock};

/// How many shards a registry has: enough that two cores rarely meet.
pub(crate) const SHARDS: usize = 64;

/// A sharded map from a monitor's reference number to `E`, with counters.
#[derive(Debug)]
pub(crate) struct Registry<E> {
    shards: Box<[Mutex<HashMap<u64, E>>]>,
    hasher: RandomState,
    created: AtomicU64,
    cleaned: AtomicU64,
}

impl<E> Registry<E> {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(HashMap::default()))
                .collect(),
            // Fixed seeds: shard choice needs spread, not DoS resistance
            // (references are ours, not an attacker's).
            hasher: RandomState::with_seeds(0x5eed, 0xf00d, 0xbeef, 0xcafe),
            created: AtomicU64::new(0),
            cleaned: AtomicU64::new(0),
        }
    }

    fn shard(&self, key: u64) -> &Mutex<HashMap<u64, E>> {
        let index = self.hasher.hash_one(key) as usize % self.shards.len();
        &self.shards[index]
    }

    /// Adds a live monitor.
    pub(crate) fn insert(&self, key: u64, entry: E) {
        self.created.fetch_add(1, Ordering::Relaxed);
        lock(self.shard(key)).insert(key, entry);
    }

    /// Removes a monitor; its entry is returned the first time only.
    pub(crate) fn remove(&self, key: u64) -> Option<E> {
        let entry = lock(self.shard(key)).remove(&key);
        if entry.is_some() {
            self.cleaned.fetch_add(1, Ordering::Relaxed);
        }
        entry
    }

    /// Monitors ever created and ever cleaned.
    pub(crate) fn counts(&self) -> (u64, u64) {
        // Cleaned first: a monitor is counted created before it can be
        // cleaned, so this order never shows more cleaned than created.
        let cleaned = self.cleaned.load(Ordering::Relaxed);
        let created = self.created.load(Ordering::Relaxed);
        (created, cleaned)
    }

    /// Visits every live entry, one shard locked at a time.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(&E)) {
        for shard in &self.shards[..] {
            for entry in lock(shard).values() {
                visit(entry);
            }
        }
    }

    /// How many entries are live, by counting them.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len()).sum()
    }
}
