//! [`Journal`] for the [`MemoryStore`]: each actor's events and snapshot in one map entry under the store's lock.

use std::collections::BTreeMap;

use super::MemoryStore;
use crate::{
    BoxFuture, Journal, JournalEntry, Recovery, Snapshot, StoreError, journal::sequence_conflict,
    store::check_key, sync::lock,
};

/// One actor's journal in memory.
#[derive(Debug, Default)]
pub(super) struct ActorJournal {
    events: BTreeMap<u64, Vec<u8>>,
    snapshot: Option<Snapshot>,
    last: u64,
}

impl MemoryStore {
    fn append_now(&self, id: &str, after: u64, events: Vec<Vec<u8>>) -> Result<u64, StoreError> {
        check_key(id)?;
        let mut inner = lock(&self.inner);
        let journal = inner.journals.entry(id.to_owned()).or_default();
        if journal.last != after {
            return Err(sequence_conflict(id, after, journal.last));
        }
        for (sequence, bytes) in (after + 1..).zip(events) {
            journal.events.insert(sequence, bytes);
            journal.last = sequence;
        }
        Ok(journal.last)
    }

    fn read_now(&self, id: &str, from: u64) -> Result<Vec<JournalEntry>, StoreError> {
        check_key(id)?;
        let inner = lock(&self.inner);
        Ok(inner.journals.get(id).map_or_else(Vec::new, |journal| {
            journal
                .events
                .range(from..)
                .map(|(sequence, bytes)| JournalEntry {
                    sequence: *sequence,
                    bytes: bytes.clone(),
                })
                .collect()
        }))
    }

    fn recover_now(&self, id: &str) -> Result<Recovery, StoreError> {
        check_key(id)?;
        let inner = lock(&self.inner);
        let Some(journal) = inner.journals.get(id) else {
            return Ok(Recovery::default());
        };
        Ok(Recovery {
            snapshot: journal.snapshot.clone(),
            events: journal
                .events
                .iter()
                .map(|(sequence, bytes)| JournalEntry {
                    sequence: *sequence,
                    bytes: bytes.clone(),
                })
                .collect(),
            last: journal.last,
        })
    }

    fn snapshot_now(&self, id: &str, sequence: u64, state: Vec<u8>) -> Result<(), StoreError> {
        check_key(id)?;
        let mut inner = lock(&self.inner);
        let journal = inner.journals.entry(id.to_owned()).or_default();
        if sequence > journal.last {
            return Err(sequence_conflict(id, sequence, journal.last));
        }
        if journal
            .snapshot
            .as_ref()
            .is_some_and(|old| old.sequence > sequence)
        {
            return Ok(());
        }
        journal.snapshot = Some(Snapshot {
            sequence,
            bytes: state,
        });
        // Compaction: the snapshot covers these events.
        journal.events = journal.events.split_off(&(sequence + 1));
        Ok(())
    }
}

impl Journal for MemoryStore {
    fn append<'a>(
        &'a self,
        id: &'a str,
        after: u64,
        events: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(std::future::ready(self.append_now(id, after, events)))
    }

    fn read<'a>(
        &'a self,
        id: &'a str,
        from: u64,
    ) -> BoxFuture<'a, Result<Vec<JournalEntry>, StoreError>> {
        Box::pin(std::future::ready(self.read_now(id, from)))
    }

    fn recover<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Recovery, StoreError>> {
        Box::pin(std::future::ready(self.recover_now(id)))
    }

    fn snapshot<'a>(
        &'a self,
        id: &'a str,
        sequence: u64,
        state: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(std::future::ready(self.snapshot_now(id, sequence, state)))
    }
}
