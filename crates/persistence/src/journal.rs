//! The [`Journal`] trait: per-actor append-only event logs with snapshots, as the memory, redb and PostgreSQL stores keep them.

use crate::{BoxFuture, StoreError, Version};

pub(crate) mod group_commit;

/// One event as a journal stores it: its sequence number and its encoded bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    /// Its place in the actor's journal, from 1, without gaps.
    pub sequence: u64,
    /// The encoded event (see [`codec`](crate::codec)).
    pub bytes: Vec<u8>,
}

/// A snapshot of an actor's state as of one sequence number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The last event the snapshot includes.
    pub sequence: u64,
    /// The encoded state.
    pub bytes: Vec<u8>,
}

/// What a journal holds for one actor, read in one consistent view: what
/// recovery starts from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The latest snapshot, if one was written.
    pub snapshot: Option<Snapshot>,
    /// Every event after the snapshot (or every event, without one), in order.
    pub events: Vec<JournalEntry>,
    /// The sequence number of the last event ever appended (0: none), which
    /// the next append must follow.
    pub last: u64,
}

/// Where event-sourced actors keep their events: one append-only journal
/// per actor id, numbered from 1 without gaps, plus that actor's latest
/// snapshot.
///
/// An [`append`](Self::append) is atomic (all its events or none, even
/// across a crash) and conditional: it names the last sequence number its
/// writer knows, and fails with [`StoreError::Conflict`] (whose versions
/// are then sequence numbers) if another writer appended meanwhile, so
/// two incarnations of an actor cannot interleave their events. A
/// [`snapshot`](Self::snapshot) stores the state as of a sequence number
/// and deletes the events it covers in the same transaction (compaction),
/// so the journal never grows past the events since the last snapshot.
///
/// Implemented by [`MemoryStore`](crate::MemoryStore),
/// [`RedbStore`](crate::RedbStore) and, with the `postgres` feature,
/// `PostgresStore`; the redb store commits appends that arrive together
/// in one transaction, with one fsync, and PostgreSQL in one transaction
/// on one connection.
///
/// ```
/// use foundation_persistence::{Journal, MemoryStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), foundation_persistence::StoreError> {
/// let store = MemoryStore::new();
/// assert_eq!(store.append("cart/1", 0, vec![b"a".to_vec(), b"b".to_vec()]).await?, 2);
/// // A writer that missed those two appends is refused.
/// assert!(store.append("cart/1", 0, vec![b"x".to_vec()]).await.unwrap_err().is_conflict());
/// store.snapshot("cart/1", 2, b"state".to_vec()).await?;
/// store.append("cart/1", 2, vec![b"c".to_vec()]).await?;
/// let recovery = store.recover("cart/1").await?;
/// assert_eq!(recovery.snapshot.unwrap().sequence, 2);
/// assert_eq!(recovery.events.len(), 1); // a and b were compacted away
/// assert_eq!(recovery.last, 3);
/// # Ok(())
/// # }
/// ```
pub trait Journal: Send + Sync + 'static {
    /// Appends `events` to `id`'s journal as sequence numbers `after + 1`
    /// onwards, durably and atomically, if its last sequence number is
    /// `after`; returns the new last one. An empty `events` checks and
    /// writes nothing.
    fn append<'a>(
        &'a self,
        id: &'a str,
        after: u64,
        events: Vec<Vec<u8>>,
    ) -> BoxFuture<'a, Result<u64, StoreError>>;

    /// The events of `id` from sequence number `from` on, in order (those
    /// a snapshot compacted away are gone).
    fn read<'a>(
        &'a self,
        id: &'a str,
        from: u64,
    ) -> BoxFuture<'a, Result<Vec<JournalEntry>, StoreError>>;

    /// The latest snapshot of `id`, the events after it and the last
    /// sequence number, from one consistent view.
    fn recover<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Recovery, StoreError>>;

    /// The recoveries of many actors at once, in the order of `ids`, each
    /// as [`recover`](Self::recover) would return it: for a caller about
    /// to start many actors (a supervisor's children, a shard's entities),
    /// which hands each its recovery with
    /// [`Journaling::recovered`](crate::Journaling::recovered). The redb
    /// store reads them all in one read transaction on one blocking
    /// thread, PostgreSQL in one statement; the default asks
    /// [`recover`](Self::recover) for each in turn.
    ///
    /// ```
    /// use foundation_persistence::{Journal, MemoryStore};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), foundation_persistence::StoreError> {
    /// let store = MemoryStore::new();
    /// store.append("a", 0, vec![b"x".to_vec()]).await?;
    /// let ids = ["a".to_owned(), "b".to_owned()];
    /// let recoveries = store.recover_many(&ids).await;
    /// assert_eq!(recoveries[0].as_ref().unwrap().last, 1);
    /// assert_eq!(recoveries[1].as_ref().unwrap().last, 0); // no journal yet
    /// # Ok(())
    /// # }
    /// ```
    fn recover_many<'a>(
        &'a self,
        ids: &'a [String],
    ) -> BoxFuture<'a, Vec<Result<Recovery, StoreError>>> {
        Box::pin(async move {
            let mut recoveries = Vec::with_capacity(ids.len());
            for id in ids {
                recoveries.push(self.recover(id).await);
            }
            recoveries
        })
    }

    /// Stores `state` as `id`'s snapshot as of `sequence` (past the last
    /// event is [`StoreError::Conflict`]), replacing any older snapshot, and deletes the
    /// events up to `sequence`, in one transaction. A snapshot older than
    /// the one stored is ignored.
    fn snapshot<'a>(
        &'a self,
        id: &'a str,
        sequence: u64,
        state: Vec<u8>,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// The conflict of a writer that expected `id`'s last sequence number to
/// be `expected` and found `found` (for a snapshot: one past the end).
pub(crate) fn sequence_conflict(id: &str, expected: u64, found: u64) -> StoreError {
    let version = |sequence: u64| (sequence > 0).then(|| Version::new(sequence));
    StoreError::Conflict {
        key: id.to_owned(),
        expected: version(expected),
        found: version(found),
    }
}
