//! The errors of persistence, one type per operation, each naming the key or path it concerns.

use std::{error::Error, path::PathBuf, sync::Arc, time::Duration};

use thiserror::Error;

use crate::Version;

/// A shared error from a store's backend (redb, a database driver); shared
/// so the errors that carry it can be cloned into both a reply and an exit reason.
pub type BackendError = Arc<dyn Error + Send + Sync + 'static>;

/// A store operation that failed.
///
/// Returned by every [`StateStore`](crate::StateStore) method.
#[derive(Clone, Debug, Error)]
pub enum StoreError {
    /// A [`compare_and_set`](crate::StateStore::compare_and_set) found another
    /// version than it expected: someone else wrote (or deleted) the entry.
    #[error("version conflict on key `{key}`: expected {}, found {}", show(*.expected), show(*.found))]
    Conflict {
        /// The key written.
        key: String,
        /// The version the writer expected (`None`: no entry).
        expected: Option<Version>,
        /// The version the store holds (`None`: no entry).
        found: Option<Version>,
    },
    /// The key is empty or longer than [`MAX_KEY_LEN`](crate::MAX_KEY_LEN).
    #[error("invalid key `{key}`: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The store's data is damaged: a page the backend read fails its
    /// checks (for [`RedbStore`](crate::RedbStore), a page redb trips over
    /// while reading, or a file that no longer opens as a store). Restore
    /// the store from a backup or move it aside.
    #[error("store is corrupt at key `{key}`: {detail}")]
    Corrupt {
        /// The key (or, for a listing, the prefix) of the operation.
        key: String,
        /// What the check found.
        detail: String,
    },
    /// The backend failed (I/O, a full disk, an error the database
    /// reported).
    #[error("store backend failed on key `{key}`: {source}")]
    Backend {
        /// The key (or, for a listing, the prefix) of the operation.
        key: String,
        /// The backend's own error.
        source: BackendError,
    },
    /// A networked store could not be reached, or its connection broke
    /// during the operation (the server is down or restarting, the network
    /// is cut). Retrying later may succeed. A write cut off this way may or
    /// may not have been applied: the next compare-and-set against the
    /// version read before tells, as a conflict, if it was.
    #[error("store unavailable on key `{key}`: {source}")]
    Unavailable {
        /// The key (or, for a listing, the prefix) of the operation.
        key: String,
        /// The driver's error.
        source: BackendError,
    },
    /// A networked store did not answer within its timeout. As with
    /// [`Unavailable`](Self::Unavailable), a write that timed out may
    /// still have been applied.
    #[error("store operation on key `{key}` timed out after {after:?}")]
    Timeout {
        /// The key (or, for a listing, the prefix) of the operation.
        key: String,
        /// The store's timeout.
        after: Duration,
    },
}

impl StoreError {
    /// Wraps a backend error for the operation on `key`.
    pub fn backend(key: &str, source: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        Self::Backend {
            key: key.to_owned(),
            source: Arc::from(source.into()),
        }
    }

    /// Wraps a driver error that means the store cannot be reached.
    pub fn unavailable(
        key: &str,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        Self::Unavailable {
            key: key.to_owned(),
            source: Arc::from(source.into()),
        }
    }

    /// The same error about `key`: one failure of a batch of operations
    /// (a shared commit, a bulk read) told to each of them under its own key.
    pub(crate) fn for_key(&self, key: &str) -> Self {
        let mut error = self.clone();
        let (Self::Conflict { key: own, .. }
        | Self::InvalidKey { key: own, .. }
        | Self::Corrupt { key: own, .. }
        | Self::Backend { key: own, .. }
        | Self::Unavailable { key: own, .. }
        | Self::Timeout { key: own, .. }) = &mut error;
        key.clone_into(own);
        error
    }

    /// Whether this is a version conflict.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Conflict { .. })
    }

    /// Whether the same operation may succeed if tried again later: the
    /// store was unreachable or too slow, nothing is wrong with the
    /// request or the data.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Timeout { .. })
    }
}

fn show(version: Option<Version>) -> String {
    match version {
        Some(version) => version.to_string(),
        None => "no entry".to_owned(),
    }
}

/// A store file that could not be opened.
///
/// Returned by [`RedbStore::open`](crate::RedbStore::open).
#[derive(Debug, Error)]
pub enum OpenError {
    /// The directory for the store file could not be created.
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is held open by this or another process.
    #[error("store file {path} is already open (in this or another process)")]
    InUse {
        /// The store file.
        path: PathBuf,
    },
    /// The file is corrupt or truncated: restore it from a backup or move it
    /// aside; nothing was changed.
    #[error("store file {path} is corrupt or truncated: {detail}")]
    Corrupt {
        /// The store file.
        path: PathBuf,
        /// What the check found.
        detail: String,
    },
    /// The file is a database, but not one written by this crate, or by a
    /// newer version of it.
    #[error(
        "store file {path} is not a foundation-persistence store this build can read: {detail}"
    )]
    Foreign {
        /// The store file.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// Reading or writing the file failed.
    #[error("cannot open store file {path}: {source}")]
    Io {
        /// The store file.
        path: PathBuf,
        /// The backend's error.
        source: BackendError,
    },
}

/// A PostgreSQL store that could not be opened: nothing was written, except
/// the migrations that completed before a failure (each runs in one
/// transaction, so none is half-applied).
///
/// Returned by [`PostgresConfig::new`](crate::PostgresConfig::new),
/// [`Postgres::connect`](crate::postgres::Postgres::connect),
/// [`Postgres::migrate`](crate::postgres::Postgres::migrate) and
/// [`PostgresStore::open`](crate::PostgresStore::open).
#[cfg(feature = "postgres")]
#[derive(Debug, Error)]
pub enum PostgresOpenError {
    /// The connection URL does not parse. (The URL itself is not repeated:
    /// it may hold a password.)
    #[error("invalid PostgreSQL connection URL: {reason}")]
    InvalidUrl {
        /// The driver's complaint.
        reason: String,
    },
    /// The schema name is not one this crate accepts.
    #[error("invalid PostgreSQL schema name `{name}`: {reason}")]
    InvalidSchema {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The server could not be reached, or refused the connection (down,
    /// wrong host or port, wrong password).
    #[error("cannot connect to PostgreSQL: {source}")]
    Unavailable {
        /// The driver's error.
        source: BackendError,
    },
    /// Connecting and migrating did not finish within the configured timeout.
    #[error("opening the PostgreSQL store timed out after {after:?}")]
    Timeout {
        /// The configured timeout.
        after: Duration,
    },
    /// The database schema was migrated by a newer version of this crate:
    /// this build does not know its layout and refuses to touch it. Run
    /// the newer build, or give this one a schema of its own.
    #[error(
        "PostgreSQL schema `{schema}` holds `{component}` at version {found}, newer than the {supported} this build knows; upgrade this program or use another schema"
    )]
    NewerSchema {
        /// The PostgreSQL schema.
        schema: String,
        /// What the migrations are for (`state`, `dead_letters`).
        component: String,
        /// The version found in the database.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// A migration failed; it was rolled back, and so was everything after it.
    #[error(
        "migrating `{component}` in PostgreSQL schema `{schema}` to version {version} failed: {source}"
    )]
    Migration {
        /// The PostgreSQL schema.
        schema: String,
        /// What the migrations are for.
        component: String,
        /// The version the failed migration would have reached.
        version: u32,
        /// The server's error.
        source: BackendError,
    },
}

/// An entry that could not be decoded into state.
///
/// Returned by [`decode`](crate::codec::decode) and, inside
/// [`RecoverError`], when a persistent actor starts.
#[derive(Clone, Debug, Error)]
pub enum DecodeError {
    /// Shorter than the header: truncated or not written by this codec.
    #[error("entry `{key}` is truncated: {len} bytes, shorter than the {header}-byte header")]
    TooShort {
        /// The entry's key.
        key: String,
        /// Its length.
        len: usize,
        /// The header's length.
        header: usize,
    },
    /// The header does not start with the codec's magic bytes.
    #[error("entry `{key}` was not written by this codec (bad magic bytes)")]
    BadMagic {
        /// The entry's key.
        key: String,
    },
    /// The header's layout version is one this build does not know.
    #[error("entry `{key}` has codec format {found}; this build reads format {supported}")]
    UnknownFormat {
        /// The entry's key.
        key: String,
        /// The format found.
        found: u8,
        /// The format this build reads.
        supported: u8,
    },
    /// The payload length in the header disagrees with the entry's length.
    #[error(
        "entry `{key}` is truncated or padded: header says {expected} payload bytes, found {found}"
    )]
    LengthMismatch {
        /// The entry's key.
        key: String,
        /// The length the header records.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// The payload's checksum does not match: the bytes were damaged.
    #[error("entry `{key}` is corrupt: checksum mismatch")]
    Checksum {
        /// The entry's key.
        key: String,
    },
    /// The entry was written by a newer schema than the actor knows: it
    /// cannot be read without losing what the newer version added.
    #[error("entry `{key}` has schema version {found}, newer than this actor's {supported}")]
    NewerSchema {
        /// The entry's key.
        key: String,
        /// The schema version found.
        found: u32,
        /// The newest version this actor reads.
        supported: u32,
    },
    /// The checksum matched but the payload does not deserialize into the
    /// state type: the type changed without a schema version bump.
    #[error("entry `{key}` (schema {schema}) does not decode into the state type: {reason}")]
    Payload {
        /// The entry's key.
        key: String,
        /// The schema version the header records.
        schema: u32,
        /// The deserializer's error.
        reason: postcard::Error,
    },
    /// The entry has an older schema and the actor's migration failed.
    #[error("entry `{key}` could not be migrated from schema {from} to {to}: {source}")]
    Migration {
        /// The entry's key.
        key: String,
        /// The schema version found.
        from: u32,
        /// The actor's schema version.
        to: u32,
        /// Why the migration failed.
        source: MigrationError,
    },
}

/// `$key` bound to the key field of any `DecodeError` variant (every one
/// names its entry), so reading and renaming share one variant list.
macro_rules! decode_error_key {
    ($error:expr, $key:ident => $body:expr) => {
        match $error {
            DecodeError::TooShort { key: $key, .. }
            | DecodeError::BadMagic { key: $key }
            | DecodeError::UnknownFormat { key: $key, .. }
            | DecodeError::LengthMismatch { key: $key, .. }
            | DecodeError::Checksum { key: $key }
            | DecodeError::NewerSchema { key: $key, .. }
            | DecodeError::Payload { key: $key, .. }
            | DecodeError::Migration { key: $key, .. } => $body,
        }
    };
}

impl DecodeError {
    /// The key of the entry that failed to decode.
    pub fn key(&self) -> &str {
        decode_error_key!(self, key => key)
    }

    /// The same error for the entry named `key`: for a decode that ran
    /// under no name, so the hot path formats a key only on failure.
    pub(crate) fn named(mut self, name: impl FnOnce() -> String) -> Self {
        decode_error_key!(&mut self, key => *key = name());
        self
    }
}

/// A state that could not be encoded.
///
/// Returned by [`encode`](crate::codec::encode).
#[derive(Clone, Debug, Error)]
pub enum EncodeError {
    /// The serializer refused the state (a map with non-string keys is fine;
    /// a type that fails in its own `Serialize` is not).
    #[error("state for key `{key}` cannot be encoded: {reason}")]
    Serialize {
        /// The key the state was for.
        key: String,
        /// The serializer's error.
        reason: postcard::Error,
    },
    /// The encoded state is over the codec's limit of `u32::MAX` bytes.
    #[error("state for key `{key}` is {len} bytes encoded, over the codec's 4 GiB limit")]
    TooLarge {
        /// The key the state was for.
        key: String,
        /// Its encoded length.
        len: usize,
    },
}

/// Why a migration from an older schema failed.
///
/// Returned by [`PersistentActor::migrate`](crate::PersistentActor::migrate).
#[derive(Clone, Debug, Error)]
pub enum MigrationError {
    /// The actor has no migration from this schema version.
    #[error("no migration from schema version {0}")]
    Unsupported(u32),
    /// The old payload did not decode as the old type.
    #[error("the old payload does not decode: {0}")]
    Decode(postcard::Error),
    /// The migration itself refused the old state.
    #[error("{0}")]
    Invalid(String),
}

/// A persistent actor's state that could not be saved.
///
/// Returned (inside [`PersistentCallError::Save`](crate::PersistentCallError::Save))
/// by [`PersistentRef::call`](crate::PersistentRef::call) under write-through,
/// and by [`PersistentRef::save`](crate::PersistentRef::save); it is also
/// the exit reason's cause when a failed save crashes the actor.
#[derive(Clone, Debug, Error)]
pub enum SaveError {
    /// The state did not encode.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The store refused or failed the write. A
    /// [`StoreError::Conflict`] means another incarnation wrote the key:
    /// this one is fenced off and stops (see
    /// [`SaveError::is_conflict`]).
    #[error("saving key `{key}` failed: {source}")]
    Store {
        /// The actor's persistence key.
        key: String,
        /// The store's error.
        source: StoreError,
    },
    /// A save's write task ended without a result: its runtime shut down,
    /// or the store panicked. (Every save runs as its own task, so that it
    /// finishes even if its actor is killed meanwhile.)
    #[error("saving key `{key}` was abandoned: {reason}")]
    Abandoned {
        /// The actor's persistence key.
        key: String,
        /// Why.
        reason: String,
    },
}

impl SaveError {
    /// Whether the save lost a compare-and-set: another incarnation (on
    /// this node or another) wrote the key since this one last read or
    /// wrote it. The actor that saw it stops with a shutdown reason that
    /// says it was fenced, and writes nothing more.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Store { source, .. } if source.is_conflict())
    }
}

/// A persistent actor whose saved state could not be recovered; it does not start.
///
/// The cause of [`StartError::Init`](foundation_mailbox::StartError::Init)
/// from [`start`](crate::start).
#[derive(Clone, Debug, Error)]
pub enum RecoverError {
    /// Reading the entry failed.
    #[error("reading the saved state failed: {0}")]
    Store(#[from] StoreError),
    /// The entry did not decode (corrupt, newer schema, failed migration).
    #[error("the saved state does not decode: {0}")]
    Decode(#[from] DecodeError),
}

/// Why a persistent actor failed: its own error, or persistence's.
///
/// The `Error` of [`Persistent`](crate::Persistent), so it becomes the exit
/// reason's cause.
#[derive(Debug, Error)]
pub enum PersistentError<E: Error + 'static> {
    /// The actor's own handler failed.
    #[error(transparent)]
    Actor(E),
    /// Saving failed and the policy crashes the actor.
    #[error(transparent)]
    Save(#[from] SaveError),
    /// Recovery at start failed.
    #[error(transparent)]
    Recover(#[from] RecoverError),
    /// The save policy's numbers are invalid (see
    /// [`SavePolicy::check`](crate::SavePolicy::check)).
    #[error("invalid save policy: {0}")]
    InvalidPolicy(&'static str),
}

/// A call to a persistent actor that produced no reply.
///
/// Returned by [`PersistentRef::call`](crate::PersistentRef::call).
#[derive(Debug, Error)]
pub enum PersistentCallError<M> {
    /// The call itself failed (no process, timeout, the actor exited).
    #[error(transparent)]
    Call(#[from] foundation_mailbox::CallError<M>),
    /// The handler ran but its state change could not be made durable
    /// (write-through with [`OnSaveFailure::FailCall`](crate::OnSaveFailure::FailCall)).
    /// The change stays in memory and is retried with the next save.
    #[error(transparent)]
    Save(SaveError),
}

impl<M> PersistentCallError<M> {
    /// The same error with the undelivered request turned into another type.
    pub fn map_message<N>(self, f: impl FnOnce(M) -> N) -> PersistentCallError<N> {
        match self {
            Self::Call(error) => PersistentCallError::Call(error.map_message(f)),
            Self::Save(error) => PersistentCallError::Save(error),
        }
    }
}
