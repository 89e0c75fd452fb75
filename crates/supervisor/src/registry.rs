//! The dynamic supervisor's children, shared between the callers that start
//! them (on their own tasks, so a start is not a round trip through the
//! supervisor's mailbox) and the supervisor that restarts and stops them.
//!
//! The protocol: a caller first reserves a slot (refused when closed or at
//! `max_children`), starts the child, then inserts it (refused when the
//! registry closed meanwhile: the caller stops the child itself). Closing
//! drains every entry at once. So each child ends up exactly once in one of
//! two hands, the supervisor's or its starter's: never orphaned, never
//! stopped twice.

use std::collections::HashMap;

use foundation_mailbox::Pid;

use crate::sync::{AtomicUsize, Mutex, Ordering, lock};

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The supervisor is shutting down or gone.
    Closed,
    /// `max_children` are running or starting.
    Full(usize),
}

/// The high bit of the slot count: set once the registry is closed.
const CLOSED: usize = 1 << (usize::BITS - 1);

/// Hashes a pid by one multiplication (Fibonacci hashing). Pids come from a
/// counter, so they need mixing, not protection from chosen keys; this
/// halves the cost of registering a child next to a general-purpose hasher.
#[derive(Debug, Default)]
struct PidHasher(u64);

impl std::hash::Hasher for PidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type PidMap<E> = HashMap<Pid, E, std::hash::BuildHasherDefault<PidHasher>>;

#[derive(Debug)]
struct State<E> {
    children: PidMap<E>,
    closed: bool,
}

/// The children by pid.
#[derive(Debug)]
pub(crate) struct Registry<E> {
    /// Children registered plus starts in progress, and the `CLOSED` bit:
    /// a start reserves its slot here without taking the lock.
    slots: AtomicUsize,
    state: Mutex<State<E>>,
    max_children: usize,
}

/// A reserved place for a child being started; give it back with
/// [`Registry::insert`] or [`Registry::release`].
#[derive(Debug)]
#[must_use = "a reserved slot must be inserted into or released"]
pub(crate) struct Slot(());

/// A reserved slot that gives itself back when dropped: a start that is
/// cancelled (its future dropped), that panics, or whose supervisor is
/// killed mid-restart never leaks its place under `max_children`.
#[derive(Debug)]
pub(crate) struct Reserved<'a, E> {
    registry: &'a Registry<E>,
    slot: Option<Slot>,
}

impl<E> Reserved<'_, E> {
    /// Takes the slot out, to insert it; the guard then gives nothing back.
    pub(crate) fn take(mut self) -> Slot {
        self.slot.take().expect("a reserved slot is taken once")
    }
}

impl<E> Drop for Reserved<'_, E> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.registry.release(slot);
        }
    }
}

impl<E> Registry<E> {
    /// Guards `slot`: it is released unless taken out for an insert.
    pub(crate) fn guard(&self, slot: Slot) -> Reserved<'_, E> {
        Reserved {
            registry: self,
            slot: Some(slot),
        }
    }

    /// Slots reserved or held by registered children (not counting the
    /// closed mark): what `max_children` is checked against. Always zero
    /// without a `max_children`.
    #[cfg(test)]
    pub(crate) fn reserved(&self) -> usize {
        self.slots.load(Ordering::Acquire) & !CLOSED
    }

    pub(crate) fn new(max_children: usize) -> Self {
        Self {
            slots: AtomicUsize::new(0),
            state: Mutex::new(State {
                children: HashMap::default(),
                closed: false,
            }),
            max_children: max_children.min(CLOSED - 1),
        }
    }

    /// Whether slots are counted: only a registry with a `max_children`
    /// needs the count. Without one, a start only checks the `CLOSED` bit,
    /// and a start and an exit each spare an atomic read-modify-write.
    fn counted(&self) -> bool {
        self.max_children < CLOSED - 1
    }

    /// Reserves room for one more child.
    pub(crate) fn reserve(&self) -> Result<Slot, Refused> {
        if !self.counted() {
            // `insert` checks under the lock whether the registry closed
            // meanwhile; this only refuses early.
            return if self.slots.load(Ordering::Acquire) & CLOSED == 0 {
                Ok(Slot(()))
            } else {
                Err(Refused::Closed)
            };
        }
        let mut slots = self.slots.load(Ordering::Relaxed);
        loop {
            if slots & CLOSED != 0 {
                return Err(Refused::Closed);
            }
            if slots >= self.max_children {
                return Err(Refused::Full(self.max_children));
            }
            match self.slots.compare_exchange_weak(
                slots,
                slots + 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Slot(())),
                Err(now) => slots = now,
            }
        }
    }

    /// Gives back a slot whose child did not start.
    pub(crate) fn release(&self, slot: Slot) {
        let Slot(()) = slot;
        self.free(1);
    }

    /// Frees `count` counted slots.
    fn free(&self, count: usize) {
        if self.counted() {
            self.slots.fetch_sub(count, Ordering::Release);
        }
    }

    /// Registers a started child in its reserved slot; `register` runs under
    /// the lock, so the child's exit cannot be looked up before it is in.
    /// Gives the entry back if the registry closed meanwhile.
    pub(crate) fn insert(
        &self,
        slot: Slot,
        pid: Pid,
        entry: E,
        register: impl FnOnce(&mut E),
    ) -> Result<(), E> {
        let mut state = lock(&self.state);
        if state.closed {
            drop(state);
            self.release(slot);
            return Err(entry);
        }
        let Slot(()) = slot;
        let entry = state.children.entry(pid).or_insert(entry);
        register(entry);
        Ok(())
    }

    /// Takes out the child `pid`, if it is registered, freeing its slot.
    pub(crate) fn remove(&self, pid: Pid) -> Option<E> {
        let removed = lock(&self.state).children.remove(&pid);
        if removed.is_some() {
            self.free(1);
        }
        removed
    }

    /// Closes the registry and takes every child out, freeing their slots.
    pub(crate) fn close(&self) -> Vec<E> {
        self.slots.fetch_or(CLOSED, Ordering::AcqRel);
        let mut state = lock(&self.state);
        state.closed = true;
        let drained: Vec<E> = state.children.drain().map(|(_, entry)| entry).collect();
        self.free(drained.len());
        drained
    }

    /// Runs `f` on the child `pid`, under the lock, if it is registered.
    /// `f` is the crate's own code: no user code runs under the lock.
    pub(crate) fn update<R>(&self, pid: Pid, f: impl FnOnce(&mut E) -> R) -> Option<R> {
        lock(&self.state).children.get_mut(&pid).map(f)
    }

    /// Puts a restarted child in the place (and slot) of the child `old`
    /// it replaces; `register` runs under the lock, as for
    /// [`insert`](Self::insert). Gives the entry back if `old` was taken out
    /// meanwhile (terminated while restarting) or the registry closed: the
    /// caller stops the new child.
    pub(crate) fn replace(
        &self,
        old: Pid,
        new: Pid,
        entry: E,
        register: impl FnOnce(&mut E),
    ) -> Result<(), E> {
        let mut state = lock(&self.state);
        let Some(replaced) = state.children.remove(&old) else {
            return Err(entry);
        };
        let entry = state.children.entry(new).or_insert(entry);
        register(entry);
        drop(state);
        drop(replaced);
        Ok(())
    }

    /// Runs `f` over every child, under the lock.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Pid, &E)) {
        for (pid, entry) in &lock(&self.state).children {
            f(pid, entry);
        }
    }

    /// How many children are registered.
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).children.len()
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use super::*;

    #[test]
    fn slots_count_against_the_maximum_until_released() {
        let registry = Registry::<u32>::new(2);
        let first = registry.reserve().unwrap();
        let second = registry.reserve().unwrap();
        assert_eq!(registry.reserve().unwrap_err(), Refused::Full(2));
        registry.release(first);
        registry.insert(second, Pid::new(), 7, |_| {}).unwrap();
        let third = registry.reserve().unwrap();
        assert_eq!(registry.reserve().unwrap_err(), Refused::Full(2));
        registry.release(third);
        assert_eq!(registry.len(), 1);
    }

    #[test]
    fn without_a_maximum_nothing_is_counted_and_close_still_refuses() {
        let registry = Registry::<u32>::new(usize::MAX);
        let slots: Vec<Slot> = (0..3).map(|_| registry.reserve().unwrap()).collect();
        assert_eq!(registry.reserved(), 0, "no count kept");
        let mut slots = slots.into_iter();
        registry
            .insert(slots.next().unwrap(), Pid::new(), 1, |_| {})
            .unwrap();
        registry.release(slots.next().unwrap());
        assert_eq!(registry.close(), vec![1]);
        assert_eq!(registry.reserved(), 0, "nothing freed below zero");
        assert_eq!(registry.reserve().unwrap_err(), Refused::Closed);
        // A start that reserved before the close is refused at its insert.
        assert_eq!(
            registry.insert(slots.next().unwrap(), Pid::new(), 2, |_| {}),
            Err(2)
        );
    }

    #[test]
    fn an_insert_after_close_gives_the_entry_back() {
        let registry = Registry::<u32>::new(4);
        let slot = registry.reserve().unwrap();
        registry
            .insert(registry.reserve().unwrap(), Pid::new(), 1, |_| {})
            .unwrap();
        assert_eq!(registry.close(), vec![1]);
        assert_eq!(registry.insert(slot, Pid::new(), 2, |_| {}), Err(2));
        assert_eq!(registry.reserve().unwrap_err(), Refused::Closed);
    }
}
