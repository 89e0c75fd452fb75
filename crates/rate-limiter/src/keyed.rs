//! [`RateLimiter`]: one limit applied per key, over a sharded map of per-key
//! atomic states that reclaims idle keys.
//!
//! # Reclaiming without admitting twice
//!
//! A key's entry may be dropped only when its state is idle (see
//! `Rule::is_idle`): it then behaves exactly like a fresh key, now and later.
//! Entries are removed only under their shard's write lock, and every check
//! reads the clock and decides while holding that shard's lock (read or
//! write), so no check is ever working on an entry while it is removed. A key
//! that comes back gets a fresh state taken from the clock under the write
//! lock, and never earlier than the last sweep's reading (`swept_at`, which
//! covers clocks that differ slightly between threads); states only move
//! forward in time, so a late check still counts in the latest window.

use std::{borrow::Borrow, collections::HashMap, fmt, hash::Hash, mem};

use crate::{
    clock::{Clock, MonotonicClock},
    config::Config,
    decision::Decision,
    error::ConfigError,
    rule::Rule,
    sync::{AtomicU64, RwLock, read, write},
};

/// Shards of the key map: enough that threads rarely share one.
const SHARDS: usize = if cfg!(foundation_loom) { 2 } else { 64 };
/// A shard is swept for idle keys when an insert finds it this full…
const MIN_SWEEP_AT: usize = 64;

/// A rate limiter applying one [`Config`] to each key separately.
///
/// Keys are any `Hash + Eq` type: a user id, an API key, an address.
/// Each key costs one map entry (the key and a `u64`); entries for idle keys
/// are reclaimed when a shard grows, or on demand with
/// [`retain_idle`](Self::retain_idle).
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, RateLimiter};
///
/// let limiter = RateLimiter::<String>::new(Config::fixed_window(2, Duration::from_secs(1))).unwrap();
/// assert!(limiter.check("alice").is_allowed());
/// assert!(limiter.check("alice").is_allowed());
/// assert!(!limiter.check("alice").is_allowed());
/// assert!(limiter.check("bob").is_allowed());
/// assert_eq!(limiter.denied(), 1);
/// ```
pub struct RateLimiter<K, C = MonotonicClock> {
    rule: Rule,
    clock: C,
    hasher: ahash::RandomState,
    shards: Box<[Shard<K>]>,
}

#[repr(align(128))]
struct Shard<K> {
    map: RwLock<ShardMap<K>>,
}

struct ShardMap<K> {
    entries: HashMap<K, AtomicU64, ahash::RandomState>,
    /// The length at which the next insert sweeps idle keys first.
    sweep_at: usize,
    /// The latest clock reading a sweep judged idleness at. Keys created
    /// after it start no earlier, even if this thread's clock reads a little
    /// behind the sweeper's: a reclaimed key can never come back older than
    /// it left.
    swept_at: u64,
}

/// How much a [`RateLimiter`] holds, from [`RateLimiter::stats`].
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, RateLimiter};
///
/// let limiter = RateLimiter::<u64>::new(Config::gcra(10, Duration::from_secs(1))).unwrap();
/// limiter.check(&1);
/// assert_eq!(limiter.stats().keys, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Keys with an entry.
    pub keys: usize,
    /// Entries the maps can hold without growing.
    pub capacity: usize,
    /// Approximate bytes held by the limiter: its shards and their tables.
    /// Heap memory owned by the keys themselves (a `String`'s text) is not
    /// counted.
    pub bytes: usize,
}

impl<K: Hash + Eq> RateLimiter<K> {
    /// A limiter on the default monotonic clock.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the limit or the window is zero, or the window is
    /// too long.
    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Self::with_clock(config, MonotonicClock::new())
    }
}

impl<K: Hash + Eq, C: Clock> RateLimiter<K, C> {
    /// A limiter reading time from `clock`, such as a
    /// [`ManualClock`](crate::ManualClock) in tests.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] if the limit or the window is zero, or the window is
    /// too long.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::rate_limiter::{Config, ManualClock, RateLimiter};
    ///
    /// let clock = ManualClock::new();
    /// let limiter = RateLimiter::with_clock(Config::fixed_window(1, Duration::from_secs(1)), clock.clone()).unwrap();
    /// assert!(limiter.check(&"k").is_allowed());
    /// assert!(!limiter.check(&"k").is_allowed());
    /// clock.advance(Duration::from_secs(1));
    /// assert!(limiter.check(&"k").is_allowed());
    /// ```
    pub fn with_clock(config: Config, clock: C) -> Result<Self, ConfigError> {
        Self::named(config, clock, "unnamed")
    }

    pub(crate) fn named(config: Config, clock: C, name: &str) -> Result<Self, ConfigError> {
        let rule = Rule::new(config, name)?;
        // Loom replays every execution and needs the same hashes each time.
        let hasher = if cfg!(foundation_loom) {
            ahash::RandomState::with_seeds(1, 2, 3, 4)
        } else {
            ahash::RandomState::new()
        };
        let shards = (0..SHARDS)
            .map(|_| Shard {
                map: RwLock::new(ShardMap {
                    entries: HashMap::with_hasher(hasher.clone()),
                    sweep_at: MIN_SWEEP_AT,
                    swept_at: 0,
                }),
            })
            .collect();
        Ok(Self {
            rule,
            clock,
            hasher,
            shards,
        })
    }

    /// Checks one request for `key`: admitted and counted, or denied.
    #[inline]
    pub fn check<Q>(&self, key: &Q) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.check_n(key, 1)
    }

    /// Checks `n` requests for `key` at once: all admitted, or none.
    ///
    /// `n` larger than the limit is denied with
    /// [`Duration::MAX`](std::time::Duration::MAX) as `retry_after`, without
    /// consuming anything. `n == 0` consumes nothing and reports what
    /// remains.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::rate_limiter::{Config, Decision, RateLimiter};
    ///
    /// let limiter = RateLimiter::<u64>::new(Config::fixed_window(10, Duration::from_secs(1))).unwrap();
    /// assert_eq!(limiter.check_n(&1, 11), Decision::Denied { retry_after: Duration::MAX });
    /// assert!(matches!(limiter.check_n(&1, 10), Decision::Allowed { remaining: 0, .. }));
    /// ```
    #[inline]
    pub fn check_n<Q>(&self, key: &Q, n: u32) -> Decision
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if let Some(denied) = self.rule.refuse_oversized(n) {
            return denied;
        }
        let shard = &self.shards[shard_index(self.hasher.hash_one(key))];
        {
            let map = read(&shard.map);
            if let Some(state) = map.entries.get(key) {
                return self.rule.decide(state, self.clock.now_nanos(), n);
            }
        }
        let mut map = write(&shard.map);
        let now = self.clock.now_nanos().max(map.swept_at);
        if map.entries.len() >= map.sweep_at && !map.entries.contains_key(key) {
            map.sweep(&self.rule, now);
        }
        let state = map
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| AtomicU64::new(self.rule.fresh_state(now)));
        self.rule.decide(state, now, n)
    }

    /// Drops the entries of every idle key, and shrinks the maps that became
    /// mostly empty. Returns how many keys were dropped.
    ///
    /// A key is idle when forgetting it changes no decision: its fixed window
    /// has ended, or its GCRA state has fully drained. Shards are also swept
    /// automatically as they grow; call this after a burst of distinct keys to
    /// give the memory back at once.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::rate_limiter::{Config, ManualClock, RateLimiter};
    ///
    /// let clock = ManualClock::new();
    /// let limiter = RateLimiter::with_clock(Config::gcra(5, Duration::from_secs(1)), clock.clone()).unwrap();
    /// for key in 0..100u64 {
    ///     limiter.check(&key);
    /// }
    /// clock.advance(Duration::from_secs(1));
    /// assert_eq!(limiter.retain_idle(), 100);
    /// assert!(limiter.is_empty());
    /// ```
    pub fn retain_idle(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| {
                let mut map = write(&shard.map);
                let now = self.clock.now_nanos().max(map.swept_at);
                map.sweep(&self.rule, now)
            })
            .sum()
    }

    /// The number of keys with an entry (idle ones included until reclaimed).
    pub fn len(&self) -> usize {
        self.stats().keys
    }

    /// Whether no key has an entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many keys and bytes the limiter holds.
    pub fn stats(&self) -> Stats {
        let entry = mem::size_of::<(K, AtomicU64)>() + 1;
        let mut stats = Stats {
            keys: 0,
            capacity: 0,
            bytes: mem::size_of::<Self>() + mem::size_of_val::<[Shard<K>]>(&self.shards),
        };
        for shard in self.shards.iter() {
            let map = read(&shard.map);
            stats.keys += map.entries.len();
            stats.capacity += map.entries.capacity();
            stats.bytes += map.entries.capacity() * entry;
        }
        stats
    }
}

impl<K, C> RateLimiter<K, C> {
    /// The limiter's configuration.
    pub fn config(&self) -> &Config {
        self.rule.config()
    }

    /// The name given at [`Registry::register`](crate::Registry::register),
    /// or `"unnamed"`.
    pub fn name(&self) -> &str {
        self.rule.name()
    }

    /// How many checks were denied so far.
    pub fn denied(&self) -> u64 {
        self.rule.denied()
    }
}

impl<K: Hash + Eq> ShardMap<K> {
    /// Removes idle entries; called with the shard's write lock held, so no
    /// check can be deciding on any of them. Returns how many were removed.
    fn sweep(&mut self, rule: &Rule, now: u64) -> usize {
        self.swept_at = now;
        let before = self.entries.len();
        self.entries
            .retain(|_, state| !rule.is_idle(state.load(crate::sync::Ordering::Relaxed), now));
        let len = self.entries.len();
        if self.entries.capacity() > 4 * len.max(MIN_SWEEP_AT) {
            self.entries.shrink_to(2 * len);
        }
        self.sweep_at = (2 * len).max(MIN_SWEEP_AT);
        before - len
    }
}

/// The shard for a hash: bits the map's own table does not lean on (it uses
/// the lowest bits for the bucket and the top seven as a tag).
#[inline]
fn shard_index(hash: u64) -> usize {
    (hash >> 40) as usize % SHARDS
}

impl<K, C> fmt::Debug for RateLimiter<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("name", &self.rule.name())
            .field("config", self.rule.config())
            .field("denied", &self.rule.denied())
            .finish_non_exhaustive()
    }
}
