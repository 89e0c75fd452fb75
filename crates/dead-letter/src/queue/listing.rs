//! Reading and removing entries: `list`, `get`, `purge`, `take`, `reset`, `stats`.

use crate::{
    DeadLetterQueue, Entry, EntryId, Filter, Message, Stats, Status, Storage, durable::Write,
    sync::Ordering,
};

impl DeadLetterQueue {
    /// Up to `limit` entries that match `filter`, oldest first.
    pub fn list(&self, filter: &Filter, limit: usize) -> Vec<Entry> {
        let now = self.now();
        let mut state = self.state();
        self.prune_front(&mut state, now);
        state
            .entries
            .iter()
            .map(|slot| &slot.entry)
            .filter(|entry| filter.matches(entry))
            .take(limit)
            .cloned()
            .collect()
    }

    /// The entry `id`, if the queue holds it.
    pub fn get(&self, id: EntryId) -> Option<Entry> {
        let state = self.state();
        state.position(id).map(|at| state.entries[at].entry.clone())
    }

    /// Removes every entry that matches `filter`, from memory and from the
    /// store; returns how many.
    pub fn purge(&self, filter: &Filter) -> usize {
        self.remove_where(|entry| filter.matches(entry), |stats, n| stats.purged += n)
    }

    /// Removes entry `id` and hands over its message, to handle it by hand.
    /// `None` if there is no such entry, a redrive has it now, or its
    /// stored message cannot be decoded (it is then left in place).
    pub fn take(&self, id: EntryId) -> Option<(Entry, Message)> {
        let mut state = self.state();
        let at = state.position(id)?;
        let slot = &mut state.entries[at];
        if slot.in_flight {
            return None;
        }
        let message = match slot.message.take() {
            Some(message) => message,
            None => self.decode(&slot.entry, slot.payload.as_deref()?).ok()?,
        };
        let slot = state.entries.remove(at)?;
        state.stats.purged += 1;
        self.forget(&slot);
        Some((slot.entry, message))
    }

    /// Makes exhausted entries that match `filter` pending again, with
    /// their attempts back at zero and their history kept; returns how many.
    pub fn reset(&self, filter: &Filter) -> usize {
        let mut state = self.state();
        let mut count = 0;
        for slot in &mut state.entries {
            if slot.entry.status == Status::Exhausted && filter.matches(&slot.entry) {
                slot.entry.status = Status::Pending;
                slot.entry.attempts = 0;
                self.persist(slot);
                count += 1;
            }
        }
        count
    }

    /// The queue's counters, and how many entries are in memory only and
    /// how many durable.
    pub fn stats(&self) -> Stats {
        let state = self.state();
        let durable = state
            .entries
            .iter()
            .filter(|slot| slot.entry.storage == Storage::Durable)
            .count();
        Stats {
            durable,
            in_memory: state.entries.len() - durable,
            store_errors: self.inner.store_errors.load(Ordering::Relaxed),
            ..state.stats
        }
    }

    /// How many entries the queue holds.
    pub fn len(&self) -> usize {
        self.state().entries.len()
    }

    /// Whether the queue holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn remove_where(
        &self,
        mut remove: impl FnMut(&Entry) -> bool,
        count: impl FnOnce(&mut Stats, u64),
    ) -> usize {
        let mut state = self.state();
        let mut removed = Vec::new();
        let mut durable = Vec::new();
        state.entries.retain_mut(|slot| {
            if remove(&slot.entry) {
                removed.push(slot.entry.id);
                if slot.entry.storage == Storage::Durable {
                    durable.push(slot.entry.id);
                }
                false
            } else {
                true
            }
        });
        drop(state);
        // The slots are gone already; the store's entries go by id.
        if let Some(writer) = &self.inner.writer {
            for id in durable {
                if !writer.send(Write::Delete { id }) {
                    self.inner.store_errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        count(&mut self.state().stats, removed.len() as u64);
        removed.len()
    }
}
