//! The sharded registry: every live monitor, in a slot it finds again without hashing, with no lock all monitors share.
//!
//! The shard is picked by hashing the monitor's reference with ahash, so the
//! monitors of one busy target spread over every shard instead of queueing
//! on the target's. Within a shard, entries live in a slab: a create takes a
//! free slot and its monitor keeps the slot's address ([`SlotKey`]), so the
//! drop (or the exit that cleans it) goes straight back to it. A slot also
//! keeps its reference, and removal checks it, so a stale key can never
//! remove another monitor's entry.

use ahash::RandomState;

use crate::sync::{Mutex, lock};

/// How many shards a registry has: enough that two cores rarely meet.
pub(crate) const SHARDS: usize = 64;

/// A slab this many slots long or more is freed when it empties, so a
/// burst of monitors does not pin its memory.
const SHRINK_AT: usize = 1024;

/// Where a monitor's entry lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SlotKey {
    shard: u32,
    index: u32,
    key: u64,
}

#[derive(Debug)]
enum Slot<E> {
    Occupied(u64, E),
    /// Free; the next free slot, if any.
    Vacant(Option<u32>),
}

#[derive(Debug)]
struct Slab<E> {
    slots: Vec<Slot<E>>,
    free: Option<u32>,
    len: usize,
    /// Counted under the shard's lock rather than in shared atomics: the
    /// lock is taken anyway, and two fewer atomic writes per monitor show.
    created: u64,
    cleaned: u64,
}

impl<E> Slab<E> {
    fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: None,
            len: 0,
            created: 0,
            cleaned: 0,
        }
    }
}

/// A sharded set of entries by monitor reference, with counters.
#[derive(Debug)]
pub(crate) struct Registry<E> {
    shards: Box<[Mutex<Slab<E>>]>,
    hasher: RandomState,
}

impl<E> Registry<E> {
    pub(crate) fn new(shards: usize) -> Self {
        Self {
            shards: (0..shards.clamp(1, u32::MAX as usize))
                .map(|_| Mutex::new(Slab::new()))
                .collect(),
            // Fixed seeds: shard choice needs spread, not DoS resistance
            // (references are ours, not an attacker's).
            hasher: RandomState::with_seeds(0x5eed, 0xf00d, 0xbeef, 0xcafe),
        }
    }

    /// Adds the entry `build` makes for the monitor `key`, and returns what
    /// else `build` made; `build` learns the slot first, so what it makes
    /// can carry it.
    pub(crate) fn insert_with<R>(&self, key: u64, build: impl FnOnce(SlotKey) -> (E, R)) -> R {
        let shard = (self.hasher.hash_one(key) % self.shards.len() as u64) as u32;
        let mut slab = lock(&self.shards[shard as usize]);
        let reuse = slab
            .free
            .and_then(|index| match slab.slots.get(index as usize) {
                Some(Slot::Vacant(next)) => Some((index, *next)),
                _ => None,
            });
        let index = match reuse {
            Some((index, next)) => {
                slab.free = next;
                index
            }
            None => {
                slab.free = None;
                let index = u32::try_from(slab.slots.len())
                    .expect("fewer than 2^32 live monitors in one shard");
                slab.slots.push(Slot::Vacant(None));
                index
            }
        };
        let (entry, made) = build(SlotKey { shard, index, key });
        slab.slots[index as usize] = Slot::Occupied(key, entry);
        slab.len += 1;
        slab.created += 1;
        drop(slab);
        crate::metrics::created();
        made
    }

    /// Removes a monitor's entry; it is returned the first time only.
    pub(crate) fn remove(&self, slot: SlotKey) -> Option<E> {
        let mut slab = lock(&self.shards[slot.shard as usize]);
        let free = slab.free;
        let place = match slab.slots.get_mut(slot.index as usize) {
            Some(place @ Slot::Occupied(..)) => place,
            _ => return None,
        };
        if !matches!(place, Slot::Occupied(key, _) if *key == slot.key) {
            return None;
        }
        let taken = std::mem::replace(place, Slot::Vacant(free));
        slab.free = Some(slot.index);
        slab.len -= 1;
        slab.cleaned += 1;
        crate::metrics::cleaned();
        if slab.len == 0 && slab.slots.len() >= SHRINK_AT {
            slab.slots = Vec::new();
            slab.free = None;
        }
        drop(slab);
        match taken {
            Slot::Occupied(_, entry) => Some(entry),
            Slot::Vacant(_) => None,
        }
    }

    /// Monitors ever created and ever cleaned, one shard at a time (a
    /// monitor is created and cleaned in the same shard, so no shard ever
    /// shows more cleaned than created).
    pub(crate) fn counts(&self) -> (u64, u64) {
        self.shards
            .iter()
            .fold((0, 0), |(created, cleaned), shard| {
                let slab = lock(shard);
                (created + slab.created, cleaned + slab.cleaned)
            })
    }

    /// Visits every live entry, one shard locked at a time.
    pub(crate) fn for_each(&self, mut visit: impl FnMut(&E)) {
        for shard in &self.shards[..] {
            for slot in &lock(shard).slots {
                if let Slot::Occupied(_, entry) = slot {
                    visit(entry);
                }
            }
        }
    }

    /// How many entries are live, by counting them.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).len).sum()
    }
}
