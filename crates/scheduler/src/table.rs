//! The scheduler's jobs in memory: a slab of jobs, an index by key, and one
//! min-heap of due times, so the earliest job is known in O(1) and a tick
//! costs O(log n) whatever the number of jobs. Plus [`fire`], the pure rule
//! that turns a due tick into deliveries by the misfire policy.

use std::{cmp::Reverse, collections::BinaryHeap, sync::Arc};

use foundation_persistence::Version;

use crate::{Misfire, Overlap, deliver::Gate, job::Compiled};

/// One scheduled job.
pub(crate) struct Slot<M> {
    pub(crate) key: Arc<str>,
    pub(crate) message: M,
    pub(crate) compiled: Compiled,
    /// When the next tick is due; `None` while a one-shot or fixed-delay
    /// job's delivery runs (it is armed again, or removed, when it ends).
    pub(crate) next_due: Option<u64>,
    pub(crate) misfire: Misfire,
    pub(crate) overlap: Overlap,
    /// The version of the job's record in the store.
    pub(crate) version: Option<Version>,
    /// Deliveries of this job that have not finished.
    pub(crate) running: u32,
    /// A tick kept by [`Overlap::BufferOne`].
    pub(crate) buffered: bool,
    /// Closed by a cancel; shared with the running deliveries. Only while
    /// some run.
    pub(crate) gate: Option<Arc<Gate>>,
}

/// A due time in the heap. Stale entries (a cancelled job, a slot reused)
/// stay in the heap and are dropped when they reach its top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Tick {
    due: u64,
    slot: u32,
    generation: u32,
}

/// Where a job lives: its slot and the slot's generation when it was put
/// there. A handle from a cancelled job never matches a later one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Handle {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

pub(crate) struct Table<M> {
    slots: Vec<Option<Slot<M>>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    index: ahash::HashMap<Arc<str>, u32>,
    heap: BinaryHeap<Reverse<Tick>>,
}

impl<M> Default for Table<M> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            index: ahash::HashMap::default(),
            heap: BinaryHeap::new(),
        }
    }
}

impl<M> Table<M> {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn contains(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Adds a job and arms its first tick.
    pub(crate) fn insert(&mut self, slot: Slot<M>) -> Handle {
        let key = Arc::clone(&slot.key);
        let due = slot.next_due;
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = Some(slot);
                index
            }
            None => {
                self.slots.push(Some(slot));
                self.generations.push(0);
                u32::try_from(self.slots.len() - 1).unwrap_or(u32::MAX)
            }
        };
        self.index.insert(key, index);
        let handle = Handle {
            slot: index,
            generation: self.generations[index as usize],
        };
        if let Some(due) = due {
            self.arm(handle, due);
        }
        handle
    }

    /// The job under `key`, with its handle.
    pub(crate) fn find(&self, key: &str) -> Option<(Handle, &Slot<M>)> {
        let index = *self.index.get(key)?;
        let slot = self.slots[index as usize].as_ref()?;
        let handle = Handle {
            slot: index,
            generation: self.generations[index as usize],
        };
        Some((handle, slot))
    }

    /// The job at `handle`, if it is still the same job.
    pub(crate) fn get_mut(&mut self, handle: Handle) -> Option<&mut Slot<M>> {
        if self.generations.get(handle.slot as usize) != Some(&handle.generation) {
            return None;
        }
        self.slots[handle.slot as usize].as_mut()
    }

    /// Removes the job under `key`; its handle and heap entries go stale.
    pub(crate) fn remove(&mut self, key: &str) -> Option<Slot<M>> {
        let index = self.index.remove(key)?;
        let slot = self.slots[index as usize].take();
        self.generations[index as usize] = self.generations[index as usize].wrapping_add(1);
        self.free.push(index);
        slot
    }

    /// Sets the job's next due time and puts it in the heap.
    pub(crate) fn arm(&mut self, handle: Handle, due: u64) {
        if let Some(slot) = self.get_mut(handle) {
            slot.next_due = Some(due);
            self.heap.push(Reverse(Tick {
                due,
                slot: handle.slot,
                generation: handle.generation,
            }));
        }
    }

    /// Takes the earliest tick due at or before `now`, skipping stale ones.
    /// The job's `next_due` is cleared: the caller arms it again.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<(Handle, u64)> {
        loop {
            let Reverse(tick) = *self.heap.peek()?;
            if tick.due > now {
                return None;
            }
            self.heap.pop();
            let handle = Handle {
                slot: tick.slot,
                generation: tick.generation,
            };
            if let Some(slot) = self.get_mut(handle)
                && slot.next_due == Some(tick.due)
            {
                slot.next_due = None;
                return Some((handle, tick.due));
            }
        }
    }

    /// The earliest due time, after dropping stale entries from the top.
    pub(crate) fn earliest(&mut self) -> Option<u64> {
        loop {
            let Reverse(tick) = *self.heap.peek()?;
            let handle = Handle {
                slot: tick.slot,
                generation: tick.generation,
            };
            match self.get_mut(handle) {
                Some(slot) if slot.next_due == Some(tick.due) => return Some(tick.due),
                _ => {
                    self.heap.pop();
                }
            }
        }
    }

    /// Every job's key, for listings.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.index.keys()
    }
}

/// What one due tick comes to.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Firing {
    /// Messages to deliver now, in one run.
    pub(crate) deliveries: u32,
    /// Ticks that will never be delivered (misfired and skipped, or past a
    /// fire-all cap).
    pub(crate) skipped: u64,
    /// Whether some tick was late by more than the threshold.
    pub(crate) misfired: bool,
    /// The job's next due time, if it has one now (a fixed-delay job that
    /// delivers is armed when its delivery ends instead).
    pub(crate) next: Option<u64>,
}

/// The most past ticks of a cron job counted one by one; beyond it, the
/// count stops there and the next tick is the first match after now.
const CRON_COUNT_LIMIT: u64 = 10_000;

/// The ticks due at or before `now`, starting with the one due at `due`:
/// how many, how many of them are older than `late_line`, and the first
/// tick after `now`.
fn due_ticks(compiled: &Compiled, due: u64, now: u64, late_line: u64) -> (u64, u64, Option<u64>) {
    match compiled {
        Compiled::Once | Compiled::FixedDelay(_) => (1, u64::from(due < late_line), None),
        Compiled::FixedRate(period) => {
            let total = (now - due) / period + 1;
            let missed = if due < late_line {
                (late_line - due).div_ceil(*period).min(total)
            } else {
                0
            };
            let next = due.saturating_add(total.saturating_mul(*period));
            (total, missed, Some(next))
        }
        Compiled::Cron(_) => {
            let (mut total, mut missed, mut tick) = (0, 0, Some(due));
            while let Some(at) = tick {
                if at > now || total == CRON_COUNT_LIMIT {
                    break;
                }
                total += 1;
                missed += u64::from(at < late_line);
                tick = compiled.next_after(at);
            }
            let next = match tick {
                Some(at) if at > now => Some(at),
                _ => compiled.next_after(now),
            };
            (total, missed, next)
        }
    }
}

/// Applies the misfire policy to the tick due at `due`, found at `now`:
/// ticks older than `threshold` are missed.
pub(crate) fn fire(
    compiled: &Compiled,
    misfire: Misfire,
    due: u64,
    now: u64,
    threshold: u64,
) -> Firing {
    let late_line = now.saturating_sub(threshold);
    let (total, missed, next) = due_ticks(compiled, due, now.max(due), late_line);
    let on_time = total - missed;
    let deliveries = if missed == 0 {
        on_time
    } else {
        match misfire {
            Misfire::FireOnce => 1,
            Misfire::FireAll { cap } => total.min(u64::from(cap)),
            Misfire::Skip => on_time,
        }
    };
    let deliveries = u32::try_from(deliveries).unwrap_or(u32::MAX);
    let next = match compiled {
        Compiled::FixedDelay(delay) if deliveries == 0 => Some(now.saturating_add(*delay)),
        _ => next,
    };
    Firing {
        deliveries,
        skipped: total - u64::from(deliveries),
        misfired: missed > 0,
        next,
    }
}

#[cfg(test)]
mod tests;
