//! [`RedbStore`]: the embedded durable default, a [`StateStore`] in one redb file.
//!
//! redb is a pure-Rust embedded key-value store with ACID transactions and
//! copy-on-write B-trees: a commit is atomic, and with immediate durability
//! (the default here) it is on disk (fsync) when `commit` returns. A
//! process killed at any instant leaves either the old or the new state of
//! each transaction, never a torn one.
//!
//! Layout: table `foundation_entries` maps each key to its version
//! (little-endian `u64`) followed by the value; table `foundation_meta`
//! holds the store's format and the last version handed out, bumped in the
//! same transaction as every write, so versions are never reused. The
//! event journals have tables of their own (see `journal`).

use std::{
    cell::Cell,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    // std, not the `sync` shim: loom models the in-memory store, and cannot
    // run redb's file I/O.
    sync::{Arc, RwLock},
};

use redb::{Database, ReadableTable, TableDefinition};

use self::{
    journal::AppendQueue,
    open::{Backing, open_database, panic_message},
};
use crate::{Entry, Listed, OpenError, StateStore, StoreError, Version, store::check_key};

mod journal;
mod open;

#[cfg(test)]
mod faulty;

const ENTRIES: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("foundation_entries");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("foundation_meta");
const FORMAT_KEY: &str = "format";
const LAST_VERSION_KEY: &str = "last_version";
/// The store layout this build writes and reads.
const STORE_FORMAT: u64 = 1;
/// Where [`RedbStore::open_default`] puts the store unless
/// `FOUNDATION_STATE_PATH` says otherwise.
pub const DEFAULT_PATH: &str = "foundation-data/state.redb";

/// The embedded durable store: one redb file, crash-safe and transactional,
/// no server.
///
/// Every operation runs on tokio's blocking pool, so neither a write's
/// fsync nor a read that misses redb's page cache stalls other actors on
/// the same worker thread. Every write is its own transaction, committed
/// with an fsync before the returned future resolves. Clones share the
/// open database.
///
/// The store survives its file's errors. A write that fails on I/O (a full
/// disk) fails its own operation with [`StoreError::Backend`]; redb then
/// refuses every later operation on that database, so the store closes it
/// (releasing the file) and reopens it at its next operation, which goes
/// through once the cause is gone: a supervisor's restart after a
/// transient full disk succeeds. A damaged page that redb trips over while
/// reading is [`StoreError::Corrupt`], never a panic in the caller.
///
/// ```
/// use foundation_persistence::{RedbStore, StateStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("state.redb");
/// let store = RedbStore::open(&path)?;
/// let version = store.put("counter/a", b"1".to_vec()).await?;
/// drop(store);
///
/// // Reopened, the entry and its version are there.
/// let store = RedbStore::open(&path)?;
/// assert_eq!(store.get("counter/a").await?.unwrap().version, version);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedbStore {
    shared: Arc<Shared>,
}

/// What the clones of one store share.
struct Shared {
    path: PathBuf,
    backing: Backing,
    /// The open database. Operations hold the read side while they run
    /// (redb orders its own transactions); replacing a broken database
    /// takes the write side, so the old one is dropped (and its file lock
    /// released) only once no operation still uses it.
    slot: RwLock<Slot>,
    /// Event appends waiting for a shared commit (see `journal`).
    appends: AppendQueue,
}

struct Slot {
    /// `None` once an I/O failure or a panic inside redb left the database
    /// unusable: the next operation reopens it.
    db: Option<Database>,
    /// Bumped at every reopen, so a failure seen on an old database does
    /// not close its replacement.
    generation: u64,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.shared.path)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens the store at `path`, creating the file (and its directory) if
    /// there is none. A corrupt or truncated file (an empty one included),
    /// a file of another kind, or one already open is a typed [`OpenError`]
    /// naming the path; nothing is changed in that case. A new store
    /// appears under `path` only once it is whole.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path.as_ref(), Backing::File)
    }

    fn open_with(path: &Path, backing: Backing) -> Result<Self, OpenError> {
        let db = open_database(path, &backing)?;
        Ok(Self {
            shared: Arc::new(Shared {
                path: path.to_owned(),
                backing,
                slot: RwLock::new(Slot {
                    db: Some(db),
                    generation: 0,
                }),
                appends: AppendQueue::default(),
            }),
        })
    }

    /// Opens the store at `FOUNDATION_STATE_PATH`, or at [`DEFAULT_PATH`]
    /// under the current directory.
    pub fn open_default() -> Result<Self, OpenError> {
        Self::open(Self::default_path())
    }

    /// Where [`open_default`](Self::open_default) opens.
    pub fn default_path() -> PathBuf {
        std::env::var_os("FOUNDATION_STATE_PATH")
            .filter(|path| !path.is_empty())
            .map_or_else(|| PathBuf::from(DEFAULT_PATH), PathBuf::from)
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Runs one operation on the blocking pool: a write's commit waits for
    /// the disk, and a read can too.
    async fn run<T: Send + 'static>(
        &self,
        key: &str,
        operation: impl FnOnce(&Database, &Failures<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let shared = Arc::clone(&self.shared);
        let owned = key.to_owned();
        // audit:allow(FND001) the blocking operation is awaited right here by its caller, which owns it; it never outlives the operation
        let task = tokio::task::spawn_blocking(move || shared.run(&owned, operation));
        match task.await {
            Ok(result) => result,
            Err(error) => Err(StoreError::backend(key, error)),
        }
    }
}

impl Shared {
    /// Runs `operation` on the open database, reopening it first if a
    /// failure closed it.
    fn run<T>(
        &self,
        key: &str,
        operation: impl FnOnce(&Database, &Failures<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let slot = self
            .slot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = match slot.db {
            Some(_) => slot,
            None => {
                drop(slot);
                self.reopen(key)?;
                self.slot
                    .read()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            }
        };
        let Some(db) = &slot.db else {
            // Closed again by another failure between the reopen and now.
            return Err(StoreError::backend(
                key,
                "the store was closed by a failure; retry",
            ));
        };
        let generation = slot.generation;
        let failures = Failures {
            key,
            reopen: Cell::new(false),
        };
        // A damaged page can trip an assertion inside redb: that is a
        // corrupt store, never a panic in the actor that asked.
        let outcome =
            catch_unwind(AssertUnwindSafe(|| operation(db, &failures))).unwrap_or_else(|payload| {
                failures.reopen.set(true);
                Err(StoreError::Corrupt {
                    key: key.to_owned(),
                    detail: panic_message(&*payload),
                })
            });
        drop(slot);
        if failures.reopen.get() {
            self.close(generation);
        }
        outcome
    }

    /// Drops the database of `generation` if it is still the open one: redb
    /// refuses every operation after an I/O failure until it is reopened,
    /// and the file stays locked until it is dropped.
    fn close(&self, generation: u64) {
        let mut slot = self
            .slot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.generation != generation {
            return;
        }
        if let Some(db) = slot.db.take() {
            // redb's drop flushes what it can; after a panic inside it, a
            // lock of its own may be poisoned and that flush panic too.
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(db))) {
                tracing::warn!(target: "foundation::persistence", path = %self.path.display(), detail = %panic_message(&*payload), "closing a failed store panicked inside redb");
            }
            tracing::warn!(target: "foundation::persistence", path = %self.path.display(), "store closed after a failure; it reopens at its next operation");
        }
    }

    /// Opens the database again after a failure closed it.
    fn reopen(&self, key: &str) -> Result<(), StoreError> {
        let mut slot = self
            .slot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.db.is_some() {
            // Another operation reopened it first.
            return Ok(());
        }
        match open_database(&self.path, &self.backing) {
            Ok(db) => {
                slot.db = Some(db);
                slot.generation += 1;
                tracing::info!(target: "foundation::persistence", path = %self.path.display(), "store reopened after a failure");
                Ok(())
            }
            Err(OpenError::Corrupt { detail, .. }) => Err(StoreError::Corrupt {
                key: key.to_owned(),
                detail,
            }),
            Err(error) => Err(StoreError::backend(key, error)),
        }
    }
}

/// Turns redb's errors into the store's for the operation on `key`, and
/// notes those after which the database must be reopened.
struct Failures<'a> {
    key: &'a str,
    reopen: Cell<bool>,
}

impl Failures<'_> {
    fn redb(&self, error: impl Into<redb::Error>) -> StoreError {
        match error.into() {
            redb::Error::Corrupted(detail) => {
                self.reopen.set(true);
                StoreError::Corrupt {
                    key: self.key.to_owned(),
                    detail,
                }
            }
            error @ (redb::Error::Io(_)
            | redb::Error::PreviousIo
            | redb::Error::LockPoisoned(_)) => {
                self.reopen.set(true);
                StoreError::backend(self.key, error)
            }
            other => StoreError::backend(self.key, other),
        }
    }
}

/// Splits a stored value into its version and bytes.
fn unpack(key: &str, stored: &[u8]) -> Result<Entry, StoreError> {
    match stored.split_first_chunk::<8>() {
        Some((version, value)) => Ok(Entry {
            version: Version::new(u64::from_le_bytes(*version)),
            value: value.to_vec(),
        }),
        // Every value this store writes starts with its version.
        None => Err(StoreError::Corrupt {
            key: key.to_owned(),
            detail: format!(
                "stored value is {} bytes, shorter than its version",
                stored.len()
            ),
        }),
    }
}

/// The version found under `key` inside a write transaction.
fn found_version(
    table: &redb::Table<'_, &str, &[u8]>,
    key: &str,
    fail: &Failures<'_>,
) -> Result<Option<Version>, StoreError> {
    match table.get(key).map_err(|error| fail.redb(error))? {
        Some(stored) => Ok(Some(unpack(key, stored.value())?.version)),
        None => Ok(None),
    }
}

/// One write transaction: check `expected` if given, write, commit durably.
fn write_entry(
    db: &Database,
    fail: &Failures<'_>,
    expected: Option<Option<Version>>,
    value: &[u8],
) -> Result<Version, StoreError> {
    let key = fail.key;
    let txn = db.begin_write().map_err(|error| fail.redb(error))?;
    let version = {
        let mut entries = txn.open_table(ENTRIES).map_err(|error| fail.redb(error))?;
        if let Some(expected) = expected {
            let found = found_version(&entries, key, fail)?;
            if found != expected {
                // Dropping the transaction aborts it.
                return Err(StoreError::Conflict {
                    key: key.to_owned(),
                    expected,
                    found,
                });
            }
        }
        let mut meta = txn.open_table(META).map_err(|error| fail.redb(error))?;
        let last = meta
            .get(LAST_VERSION_KEY)
            .map_err(|error| fail.redb(error))?
            .map_or(0, |value| value.value());
        let version = last + 1;
        meta.insert(LAST_VERSION_KEY, version)
            .map_err(|error| fail.redb(error))?;
        let mut stored = Vec::with_capacity(8 + value.len());
        stored.extend_from_slice(&version.to_le_bytes());
        stored.extend_from_slice(value);
        entries
            .insert(key, stored.as_slice())
            .map_err(|error| fail.redb(error))?;
        Version::new(version)
    };
    txn.commit().map_err(|error| fail.redb(error))?;
    Ok(version)
}

impl StateStore for RedbStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        check_key(key)?;
        self.run(key, |db, fail| {
            let txn = db.begin_read().map_err(|error| fail.redb(error))?;
            let entries = txn.open_table(ENTRIES).map_err(|error| fail.redb(error))?;
            match entries.get(fail.key).map_err(|error| fail.redb(error))? {
                Some(stored) => Ok(Some(unpack(fail.key, stored.value())?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        check_key(key)?;
        self.run(key, move |db, fail| write_entry(db, fail, None, &value))
            .await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        check_key(key)?;
        self.run(key, move |db, fail| {
            write_entry(db, fail, Some(expected), &value)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        check_key(key)?;
        self.run(key, |db, fail| {
            let txn = db.begin_write().map_err(|error| fail.redb(error))?;
            let existed = {
                let mut entries = txn.open_table(ENTRIES).map_err(|error| fail.redb(error))?;
                let removed = entries.remove(fail.key).map_err(|error| fail.redb(error))?;
                removed.is_some()
            };
            txn.commit().map_err(|error| fail.redb(error))?;
            Ok(existed)
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.run(prefix, |db, fail| {
            let prefix = fail.key;
            let txn = db.begin_read().map_err(|error| fail.redb(error))?;
            let entries = txn.open_table(ENTRIES).map_err(|error| fail.redb(error))?;
            let mut listed = Vec::new();
            for item in entries.range(prefix..).map_err(|error| fail.redb(error))? {
                let (key, stored) = item.map_err(|error| fail.redb(error))?;
                let key = key.value();
                if !key.starts_with(prefix) {
                    break;
                }
                listed.push(Listed {
                    key: key.to_owned(),
                    version: unpack(key, stored.value())?.version,
                });
            }
            Ok(listed)
        })
        .await
    }
}

#[cfg(test)]
mod tests;
