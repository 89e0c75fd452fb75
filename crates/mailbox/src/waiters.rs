//! A small keyed list of wakers: blocked senders and exit watchers register here.

use std::{
    collections::VecDeque,
    sync::atomic::{AtomicU64, Ordering},
    task::Waker,
};

/// A future's place in a [`Waiters`] list; `None` while not registered.
///
/// Futures keep one and hand it back on every poll and on drop, so a future
/// that is polled again updates its waker instead of adding another, and a
/// future that is dropped leaves nothing behind.
#[derive(Debug, Default)]
pub(crate) struct WaiterKey(Option<u64>);

impl WaiterKey {
    pub(crate) fn is_registered(&self) -> bool {
        self.0.is_some()
    }
}

// Keys only need to be unique within one list; one counter for every list
// keeps the lists themselves small.
static NEXT_KEY: AtomicU64 = AtomicU64::new(0);

/// Wakers in arrival order. Allocates nothing until someone waits, and
/// [`take_all`](Self::take_all) gives the storage back.
///
/// Keys come from one increasing counter and are appended in arrival
/// order, so the list is sorted by key: a future that polls again or goes
/// away is found by binary search, not by a scan of every waiting sender.
///
/// Boxed, so an empty list is one pointer: every process cell has two of
/// these, and nearly all of them stay empty for the process's whole life.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    #[expect(
        clippy::box_collection,
        reason = "the box is what keeps an empty list to one word"
    )]
    entries: Option<Box<VecDeque<(u64, Waker)>>>,
}

impl Waiters {
    /// Registers `waker` under `key`, replacing the waker the key had.
    pub(crate) fn register(&mut self, key: &mut WaiterKey, waker: &Waker) {
        let entries = self.entries.get_or_insert_with(Box::default);
        if let Some(id) = key.0
            && let Ok(index) = entries.binary_search_by_key(&id, |(entry_id, _)| *entry_id)
        {
            let entry = &mut entries[index];
            if !entry.1.will_wake(waker) {
                entry.1 = waker.clone();
            }
            return;
        }
        let id = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        entries.push_back((id, waker.clone()));
        key.0 = Some(id);
    }

    /// Removes `key`'s entry. Returns `false` when the key was registered but
    /// its entry is gone, which means it was woken.
    pub(crate) fn remove(&mut self, key: &mut WaiterKey) -> bool {
        let Some(id) = key.0.take() else {
            return true;
        };
        let Some(entries) = self.entries.as_mut() else {
            return false;
        };
        match entries.binary_search_by_key(&id, |(entry_id, _)| *entry_id) {
            Ok(index) => {
                entries.remove(index);
                true
            }
            Err(_) => false,
        }
    }

    /// Takes the oldest waker.
    pub(crate) fn pop(&mut self) -> Option<Waker> {
        self.entries.as_mut()?.pop_front().map(|(_, waker)| waker)
    }

    /// Takes up to `count` of the oldest wakers.
    pub(crate) fn pop_many(&mut self, count: usize) -> Vec<Waker> {
        let Some(entries) = self.entries.as_mut() else {
            return Vec::new();
        };
        let count = count.min(entries.len());
        entries.drain(..count).map(|(_, waker)| waker).collect()
    }

    /// Takes every waker and gives back the list's storage.
    pub(crate) fn take_all(&mut self) -> Wakers {
        Wakers(
            self.entries
                .take()
                .map(|entries| *entries)
                .unwrap_or_default(),
        )
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries
            .as_ref()
            .is_none_or(|entries| entries.is_empty())
    }
}

/// Wakers taken out of a list, to wake once the lock is released.
#[derive(Debug, Default)]
pub(crate) struct Wakers(VecDeque<(u64, Waker)>);

impl Wakers {
    pub(crate) fn wake(self) {
        for (_, waker) in self.0 {
            waker.wake();
        }
    }
}

/// Wakes each of `wakers`. Almost always there are none (a receive frees
/// room nobody waits for): that case is checked in line and costs no call.
#[inline(always)]
pub(crate) fn wake_all(wakers: Vec<Waker>) {
    if !wakers.is_empty() {
        wake_each(wakers);
    }
}

#[inline(never)]
fn wake_each(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use super::*;

    // Many waiting senders: each re-registration and removal finds its own
    // entry (the list stays sorted by key), and the rest keep their order.
    #[test]
    fn keys_are_found_among_many_and_arrival_order_is_kept() {
        let mut list = Waiters::default();
        let mut keys: Vec<WaiterKey> = (0..1_000).map(|_| WaiterKey::default()).collect();
        for key in &mut keys {
            list.register(key, Waker::noop());
        }
        // Polled again: the same entry, no second one.
        list.register(&mut keys[500], Waker::noop());
        assert_eq!(
            list.entries.as_ref().map(|entries| entries.len()),
            Some(1_000)
        );
        // Every other future goes away.
        for key in keys.iter_mut().step_by(2) {
            assert!(list.remove(key), "a registered key is found");
        }
        let mut gone = WaiterKey::default();
        list.register(&mut gone, Waker::noop());
        let first = list.pop_many(1);
        assert_eq!(first.len(), 1);
        // The one popped was the oldest left (index 1), not a newer one.
        assert!(list.remove(&mut keys[3]));
        assert!(
            !list.remove(&mut keys[1]),
            "the oldest was woken, so its entry is gone"
        );
        assert!(list.remove(&mut gone));
    }
}
