//! A map split into independently locked shards: what names and groups
//! are stored in, so a lookup takes one short lock and never a message.

use std::{
    borrow::Borrow,
    collections::HashMap,
    hash::{BuildHasher, Hash},
};

use crate::sync::{Mutex, MutexGuard, lock};

/// How many shards a table has. Under loom, few: every mutex is a place
/// the model checker explores.
#[cfg(not(foundation_loom))]
const SHARDS: usize = 16;
#[cfg(foundation_loom)]
const SHARDS: usize = 2;

/// What picks a key's shard: seeded at random, except under loom, where a
/// model must lock the same shard in every execution it replays.
#[cfg(not(foundation_loom))]
type ShardHasher = std::hash::RandomState;
#[cfg(foundation_loom)]
type ShardHasher = std::hash::BuildHasherDefault<std::hash::DefaultHasher>;

/// A key in any form the stored key `K` borrows as (`str` for `String`
/// keys, `K` itself), so a lookup never has to build an owned key.
/// Implemented for every such form; there is nothing to implement.
///
/// It is a trait of its own, rather than `K: Borrow<Q>` on each method, so
/// that `registry.lookup::<Counter>("counter")` names only the actor type.
pub trait KeyRef<K>: Hash + Eq {
    /// The entry for this key in `map`.
    #[doc(hidden)]
    fn get_in<'map, T>(&self, map: &'map HashMap<K, T>) -> Option<&'map T>;
    /// The entry for this key in `map`, to change.
    #[doc(hidden)]
    fn get_mut_in<'map, T>(&self, map: &'map mut HashMap<K, T>) -> Option<&'map mut T>;
    /// Removes the entry for this key from `map`.
    #[doc(hidden)]
    fn remove_from<T>(&self, map: &mut HashMap<K, T>) -> Option<T>;
}

impl<K, Q> KeyRef<K> for Q
where
    K: Borrow<Q> + Hash + Eq,
    Q: ?Sized + Hash + Eq,
{
    fn get_in<'map, T>(&self, map: &'map HashMap<K, T>) -> Option<&'map T> {
        map.get(self)
    }

    fn get_mut_in<'map, T>(&self, map: &'map mut HashMap<K, T>) -> Option<&'map mut T> {
        map.get_mut(self)
    }

    fn remove_from<T>(&self, map: &mut HashMap<K, T>) -> Option<T> {
        map.remove(self)
    }
}

/// A hash map in [`SHARDS`] parts, each behind its own lock.
pub(crate) struct Shards<K, T> {
    shards: Box<[Mutex<HashMap<K, T>>]>,
    hasher: ShardHasher,
}

impl<K, T> std::fmt::Debug for Shards<K, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shards")
            .field("shards", &self.shards.len())
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq, T> Shards<K, T> {
    pub(crate) fn new() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: ShardHasher::default(),
        }
    }

    /// Locks the shard that holds `key`. A key and every form it borrows
    /// as hash alike (`Borrow`'s contract), so both find the same shard.
    pub(crate) fn lock<Q: ?Sized + KeyRef<K>>(&self, key: &Q) -> MutexGuard<'_, HashMap<K, T>> {
        // The shard is picked by the top bits: the map inside uses its own
        // hasher, so the two never correlate.
        let hash = self.hasher.hash_one(key);
        let index = (hash >> 32) as usize % self.shards.len();
        lock(&self.shards[index])
    }

    /// Runs `each` on every shard in turn, each under its own lock: a view
    /// of the whole table that is not one instant's snapshot.
    pub(crate) fn for_each_shard(&self, mut each: impl FnMut(&HashMap<K, T>)) {
        for shard in &self.shards[..] {
            each(&lock(shard));
        }
    }
}
