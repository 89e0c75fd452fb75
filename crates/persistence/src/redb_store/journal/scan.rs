//! A batch of recoveries read as a merge: the ids sorted, and each table
//! walked forward once by a cursor that re-seeks only when the next id is
//! far ahead.
//!
//! Looking each id up on its own costs three B-tree descents per actor
//! (the snapshot, the head, and both ends of the events' range), about
//! 32,000 instructions, mostly key comparisons. Recovering many actors
//! usually means most of a table's ids, which sit next to each other in
//! key order: walking on from the previous id reaches the next one in a
//! few steps. A cursor that has stepped [`GALLOP`] keys without reaching
//! its target seeks to it instead, so a sparse batch costs no more than
//! one descent per id.

use std::{cell::Cell, iter::Peekable};

use redb::{AccessGuard, Range, ReadOnlyTable};

use super::unpack_snapshot;
use crate::{JournalEntry, Recovery, StoreError, redb_store::Failures};

/// Steps a cursor walks towards its target before it seeks instead.
const GALLOP: usize = 16;

type StrRange<V> = Peekable<Range<'static, &'static str, V>>;
type EventRange = Peekable<Range<'static, (&'static str, u64), &'static [u8]>>;
type RangeItem<K, V> = redb::Result<(AccessGuard<'static, K>, AccessGuard<'static, V>)>;

/// The journal's tables, open in one read transaction.
pub(super) struct Tables {
    pub(super) snapshots: ReadOnlyTable<&'static str, &'static [u8]>,
    pub(super) heads: ReadOnlyTable<&'static str, u64>,
    pub(super) events: ReadOnlyTable<(&'static str, u64), &'static [u8]>,
}

impl Tables {
    /// The recoveries of `ids`, in their order; each one's errors name it.
    pub(super) fn recover_all(
        &self,
        ids: &[&str],
        fail: &Failures<'_>,
    ) -> Vec<Result<Recovery, StoreError>> {
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_unstable_by_key(|&index| ids[index]);
        let mut snapshots = Cursor::new(&self.snapshots);
        let mut heads = Cursor::new(&self.heads);
        let mut events = Events::new(&self.events);
        let mut results: Vec<Option<Result<Recovery, StoreError>>> = vec![None; ids.len()];
        let mut previous: Option<usize> = None;
        for index in order {
            let id = ids[index];
            // The same id twice: the cursors have walked past it.
            if let Some(before) = previous.filter(|&before| ids[before] == id) {
                results[index] = results[before].clone();
                continue;
            }
            let own = Failures {
                key: id,
                reopen: Cell::new(false),
            };
            let result = (|| {
                let snapshot = match snapshots.find(id, &own)? {
                    Some(stored) => Some(unpack_snapshot(id, stored.value())?),
                    None => None,
                };
                let last = heads.find(id, &own)?.map_or(0, |value| value.value());
                let from = snapshot.as_ref().map_or(0, |snapshot| snapshot.sequence) + 1;
                let events = events.collect(id, from, &own)?;
                Ok(Recovery {
                    snapshot,
                    events,
                    last,
                })
            })();
            if own.reopen.get() {
                fail.reopen.set(true);
            }
            results[index] = Some(result);
            previous = Some(index);
        }
        results
            .into_iter()
            .map(|result| result.unwrap_or_else(|| Ok(Recovery::default())))
            .collect()
    }
}

/// A forward walk over a table keyed by id.
struct Cursor<'t, V: redb::Value + 'static> {
    table: &'t ReadOnlyTable<&'static str, V>,
    walk: Option<StrRange<V>>,
}

impl<'t, V: redb::Value + 'static> Cursor<'t, V> {
    fn new(table: &'t ReadOnlyTable<&'static str, V>) -> Self {
        Self { table, walk: None }
    }

    /// The value stored under `id`; ids come in ascending order.
    fn find(
        &mut self,
        id: &str,
        fail: &Failures<'_>,
    ) -> Result<Option<AccessGuard<'static, V>>, StoreError> {
        let mut steps = 0;
        loop {
            let walk = match &mut self.walk {
                Some(walk) if steps < GALLOP => walk,
                _ => self.walk.insert(
                    self.table
                        .range(id..)
                        .map_err(|error| fail.redb(error))?
                        .peekable(),
                ),
            };
            let below = |item: &RangeItem<&'static str, V>| matches!(item, Ok((key, _)) if key.value() < id);
            if walk.next_if(below).is_some() {
                steps += 1;
                continue;
            }
            // The next key is `id` or past it (left for the next id), or
            // the walk ended or failed.
            let reached = |item: &RangeItem<&'static str, V>| !matches!(item, Ok((key, _)) if key.value() > id);
            return match walk.next_if(reached) {
                None => Ok(None),
                Some(Ok((_, value))) => Ok(Some(value)),
                Some(Err(error)) => {
                    // A walk that failed is not trusted further: the next
                    // id seeks afresh.
                    self.walk = None;
                    Err(fail.redb(error))
                }
            };
        }
    }
}

/// A forward walk over the events table, keyed by (id, sequence).
struct Events<'t> {
    table: &'t ReadOnlyTable<(&'static str, u64), &'static [u8]>,
    walk: Option<EventRange>,
}

impl<'t> Events<'t> {
    fn new(table: &'t ReadOnlyTable<(&'static str, u64), &'static [u8]>) -> Self {
        Self { table, walk: None }
    }

    /// The events of `id` from sequence `from` on; ids come in ascending
    /// order.
    fn collect(
        &mut self,
        id: &str,
        from: u64,
        fail: &Failures<'_>,
    ) -> Result<Vec<JournalEntry>, StoreError> {
        let mut steps = 0;
        let walk = loop {
            let walk = match &mut self.walk {
                Some(walk) if steps < GALLOP => walk,
                _ => self.walk.insert(
                    self.table
                        .range((id, from)..)
                        .map_err(|error| fail.redb(error))?
                        .peekable(),
                ),
            };
            let below = |item: &RangeItem<(&'static str, u64), &'static [u8]>| matches!(item, Ok((key, _)) if key.value() < (id, from));
            if walk.next_if(below).is_none() {
                break walk;
            }
            steps += 1;
        };
        let mut read = Vec::new();
        let own = |item: &RangeItem<(&'static str, u64), &'static [u8]>| !matches!(item, Ok((key, _)) if key.value().0 != id);
        while let Some(item) = walk.next_if(own) {
            match item {
                Ok((key, value)) => read.push(JournalEntry {
                    sequence: key.value().1,
                    bytes: value.value().to_vec(),
                }),
                Err(error) => {
                    // As in `Cursor::find`: the next id seeks afresh.
                    self.walk = None;
                    return Err(fail.redb(error));
                }
            }
        }
        Ok(read)
    }
}
