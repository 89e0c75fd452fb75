//! The errors of the queue's operations, one type per operation.

use foundation_persistence::StoreError;
use thiserror::Error;

use crate::{EntryId, Letter};

/// Why [`Config`](crate::Config) could not build a queue, returned by
/// [`DeadLetterQueue::new`](crate::DeadLetterQueue::new) and inside
/// [`OpenError`].
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A queue must hold at least one entry.
    #[error("capacity must be at least 1")]
    ZeroCapacity,
    /// An entry must be tried at least once.
    #[error("max attempts must be at least 1")]
    ZeroAttempts,
    /// The redrive rate or the warning cap is not a valid rate.
    #[error("invalid rate: {0}")]
    Rate(#[from] foundation_rate_limiter::ConfigError),
}

/// Why [`DeadLetterQueue::open`](crate::DeadLetterQueue::open) could not
/// open a durable queue.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not list or read the stored entries.
    #[error("could not load dead letters: {0}")]
    Store(#[from] StoreError),
    /// The redb file could not be opened
    /// ([`DeadLetterQueue::open_redb`](crate::DeadLetterQueue::open_redb)).
    #[error(transparent)]
    File(#[from] foundation_persistence::OpenError),
    /// The PostgreSQL table could not be brought up to date
    /// ([`DeadLetterQueue::open_postgres`](crate::DeadLetterQueue::open_postgres)).
    #[cfg(feature = "postgres")]
    #[error(transparent)]
    Postgres(#[from] foundation_persistence::PostgresOpenError),
}

/// Why [`DeadLetterQueue::redrive_claimed`](crate::DeadLetterQueue::redrive_claimed)
/// could not claim entries. Deliveries made before the failure are undone
/// in the table (their claim's transaction rolls back), so they are
/// redriven again later: at least once.
#[cfg(feature = "postgres")]
#[derive(Debug, Error)]
pub enum ClaimError {
    /// The queue is not on PostgreSQL (it was not opened with
    /// [`open_postgres`](crate::DeadLetterQueue::open_postgres)).
    #[error("the dead-letter queue is not on PostgreSQL: there is nothing to claim")]
    NotShared,
    /// The writes this node queued before the claim could not be confirmed.
    #[error("could not write this node's entries before claiming: {0}")]
    Flush(#[from] FlushError),
    /// The claim, or settling what it claimed, failed.
    #[error("claiming dead letters failed: {0}")]
    Store(#[from] StoreError),
}

/// Why [`DeadLetterQueue::append`](crate::DeadLetterQueue::append) did not
/// keep a letter durably, or at all. A letter not kept is given back (boxed,
/// so the `Ok` path stays small).
#[derive(Error)]
pub enum AppendError {
    /// The queue is full and its overflow policy is
    /// [`Overflow::Reject`](crate::Overflow::Reject).
    #[error("dead-letter queue full")]
    Rejected(Box<Letter>),
    /// The letter is of a suppressed class: counted, not kept.
    #[error("dead letter suppressed")]
    Suppressed(Box<Letter>),
    /// The entry was kept in memory, but writing it to the store failed: it
    /// will not survive a restart.
    #[error("dead letter {id} kept in memory only: {source}")]
    NotDurable {
        /// The entry, still listed.
        id: EntryId,
        /// The store's error.
        source: StoreError,
    },
}

impl AppendError {
    /// The letter, if it was not kept.
    pub fn into_letter(self) -> Option<Letter> {
        match self {
            Self::Rejected(letter) | Self::Suppressed(letter) => Some(*letter),
            Self::NotDurable { .. } => None,
        }
    }
}

impl std::fmt::Debug for AppendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rejected(_) => f.write_str("Rejected(..)"),
            Self::Suppressed(_) => f.write_str("Suppressed(..)"),
            Self::NotDurable { id, source } => f
                .debug_struct("NotDurable")
                .field("id", id)
                .field("source", source)
                .finish(),
        }
    }
}

/// Why [`DeadLetterQueue::flush`](crate::DeadLetterQueue::flush) could not
/// confirm that every change so far is in the store.
#[derive(Debug, Error)]
pub enum FlushError {
    /// A write since the last flush failed; the entries it touched are
    /// kept in memory.
    #[error("a dead-letter write failed: {0}")]
    Store(#[from] StoreError),
    /// The queue's writer has stopped (the queue was closed, or its
    /// runtime shut down).
    #[error("dead-letter writer stopped")]
    WriterStopped,
    /// The store did not answer within
    /// [`Config::store_timeout`](crate::Config::store_timeout).
    #[error("dead-letter store did not answer within {0:?}")]
    Timeout(std::time::Duration),
}
