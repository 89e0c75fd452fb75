//! What the queue holds under its lock: its settings, its slots in id order, and its counters.

use std::{collections::VecDeque, time::Duration};

use crate::{Entry, EntryId, Message, Overflow, Suppress};

/// The settings the queue reads after it is built.
pub(crate) struct Settings {
    pub(crate) capacity: usize,
    pub(crate) overflow: Overflow,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_attempts: u32,
    pub(crate) history_limit: usize,
    pub(crate) suppress: Vec<Suppress>,
    pub(crate) name: String,
}

/// One kept entry with what `list` does not show.
pub(crate) struct Slot {
    pub(crate) entry: Entry,
    /// The message; `None` while a redrive has it, or for an entry loaded
    /// from the store until a redrive decodes its payload.
    pub(crate) message: Option<Message>,
    /// The message in its codec, for a durable entry.
    pub(crate) payload: Option<Vec<u8>>,
    /// A redrive is delivering it now.
    pub(crate) in_flight: bool,
}

#[derive(Default)]
pub(crate) struct State {
    /// Entries in id order, oldest first.
    pub(crate) entries: VecDeque<Slot>,
    pub(crate) next_id: u64,
    pub(crate) stats: Stats,
}

impl State {
    pub(crate) fn position(&self, id: EntryId) -> Option<usize> {
        self.entries
            .binary_search_by_key(&id, |slot| slot.entry.id)
            .ok()
    }
}

/// What a queue has done, since it was built or opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Letters kept.
    pub appended: u64,
    /// Letters of a suppressed class: counted, not kept.
    pub suppressed: u64,
    /// Dead calls, from the mailbox: counted, not kept. Their requests were
    /// dropped with their reply ports, so each caller was told at once and
    /// there is nothing to redrive.
    pub dead_calls: u64,
    /// Entries dropped to make room ([`Overflow::DropOldest`]).
    pub dropped_overflow: u64,
    /// Letters refused by a full queue ([`Overflow::Reject`]).
    pub rejected: u64,
    /// Entries removed for their age.
    pub pruned: u64,
    /// Entries removed by [`purge`](crate::DeadLetterQueue::purge) or
    /// [`take`](crate::DeadLetterQueue::take).
    pub purged: u64,
    /// Redrives that delivered their entry (and removed it).
    pub redriven_ok: u64,
    /// Redrive attempts that failed (recorded in the entry's history).
    pub redrive_failed: u64,
    /// Entries that ran out of attempts.
    pub exhausted: u64,
    /// Store writes that failed.
    pub store_errors: u64,
    /// Stored entries that could not be decoded at open, skipped.
    pub corrupt: u64,
    /// Warnings held back by the cap on warnings.
    pub warnings_suppressed: u64,
    /// Entries now kept in memory only.
    pub in_memory: usize,
    /// Entries now kept in the store too.
    pub durable: usize,
}
