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
//! same transaction as every write, so versions are never reused.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    sync::Arc,
};

use redb::{Database, DatabaseError, ReadableTable, StorageError, TableDefinition};

use crate::{Entry, Listed, OpenError, StateStore, StoreError, Version, store::check_key};

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
/// Every write is its own transaction, committed with an fsync before the
/// returned future resolves, and runs on tokio's blocking pool so the fsync
/// never stalls other actors on the same worker thread. Reads are one
/// B-tree lookup through redb's page cache and run on the caller's task.
/// Clones share the open database.
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
    db: Arc<Database>,
    path: Arc<Path>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RedbStore {
    /// Opens the store at `path`, creating the file (and its directory) if
    /// needed. A corrupt or truncated file, a file of another kind, or one
    /// already open is a typed [`OpenError`] naming the path; nothing is
    /// changed in that case.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        // redb checks its own headers and checksums at open; a file damaged
        // in a way it does not expect could still trip an assertion inside
        // it, so a panic there is a corrupt file too, never our caller's crash.
        let opened = catch_unwind(AssertUnwindSafe(|| {
            let db = Database::create(path).map_err(|error| open_error(path, error))?;
            prepare(&db, path)?;
            Ok(db)
        }));
        let db = match opened {
            Ok(db) => db?,
            Err(payload) => {
                return Err(OpenError::Corrupt {
                    path: path.to_owned(),
                    detail: panic_message(&*payload),
                });
            }
        };
        Ok(Self {
            db: Arc::new(db),
            path: path.into(),
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
        &self.path
    }

    /// Runs a write transaction on the blocking pool, since its commit waits
    /// for the disk.
    async fn write<T: Send + 'static>(
        &self,
        key: &str,
        write: impl FnOnce(&Database, &str) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        check_key(key)?;
        let db = Arc::clone(&self.db);
        let owned = key.to_owned();
        // audit:allow(FND001) the blocking write is awaited right here by its caller, which owns it; it never outlives the operation
        let task = tokio::task::spawn_blocking(move || write(&db, &owned));
        match task.await {
            Ok(result) => result,
            Err(error) => Err(StoreError::backend(key, error)),
        }
    }
}

/// Checks the file is one of ours (or new), and creates the tables.
fn prepare(db: &Database, path: &Path) -> Result<(), OpenError> {
    let io = |error: redb::Error| match error {
        redb::Error::Corrupted(detail) => OpenError::Corrupt {
            path: path.to_owned(),
            detail,
        },
        other => OpenError::Io {
            path: path.to_owned(),
            source: std::sync::Arc::new(other),
        },
    };
    let txn = db.begin_write().map_err(|error| io(error.into()))?;
    {
        use redb::TableHandle;
        let tables: Vec<String> = txn
            .list_tables()
            .map_err(|error| io(error.into()))?
            .map(|table| table.name().to_owned())
            .collect();
        let ours = tables.iter().any(|name| name == META.name());
        if !ours && !tables.is_empty() {
            return Err(OpenError::Foreign {
                path: path.to_owned(),
                detail: format!("it holds other tables ({})", tables.join(", ")),
            });
        }
        let mut meta = txn.open_table(META).map_err(|error| io(error.into()))?;
        let format = meta
            .get(FORMAT_KEY)
            .map_err(|error| io(error.into()))?
            .map(|value| value.value());
        match format {
            Some(STORE_FORMAT) => {}
            Some(other) => {
                return Err(OpenError::Foreign {
                    path: path.to_owned(),
                    detail: format!("store format {other}, this build reads {STORE_FORMAT}"),
                });
            }
            None if ours => {
                return Err(OpenError::Corrupt {
                    path: path.to_owned(),
                    detail: "the format marker is missing".to_owned(),
                });
            }
            None => {
                meta.insert(FORMAT_KEY, STORE_FORMAT)
                    .map_err(|error| io(error.into()))?;
                meta.insert(LAST_VERSION_KEY, 0)
                    .map_err(|error| io(error.into()))?;
            }
        }
        txn.open_table(ENTRIES).map_err(|error| io(error.into()))?;
    }
    txn.commit().map_err(|error| io(error.into()))
}

fn open_error(path: &Path, error: DatabaseError) -> OpenError {
    let path = path.to_owned();
    match error {
        DatabaseError::DatabaseAlreadyOpen => OpenError::InUse { path },
        DatabaseError::Storage(StorageError::Corrupted(detail)) => {
            OpenError::Corrupt { path, detail }
        }
        DatabaseError::UpgradeRequired(version) => OpenError::Foreign {
            path,
            detail: format!("redb file format {version} needs an upgrade"),
        },
        // redb reports a header it cannot read past the end of a truncated
        // file as `UnexpectedEof`, and one with bad magic bytes or
        // impossible fields as `InvalidData`: both mean the file is damaged.
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            OpenError::Corrupt {
                path,
                detail: format!("the file is cut short ({io})"),
            }
        }
        DatabaseError::Storage(StorageError::Io(io))
            if io.kind() == std::io::ErrorKind::InvalidData =>
        {
            OpenError::Corrupt {
                path,
                detail: format!("its header is not a valid redb header ({io})"),
            }
        }
        other => OpenError::Io {
            path,
            source: std::sync::Arc::new(other),
        },
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a check inside redb failed");
    format!("redb rejected the file: {message}")
}

/// Splits a stored value into its version and bytes.
fn unpack(key: &str, stored: &[u8]) -> Result<Entry, StoreError> {
    match stored.split_first_chunk::<8>() {
        Some((version, value)) => Ok(Entry {
            version: Version::new(u64::from_le_bytes(*version)),
            value: value.to_vec(),
        }),
        None => Err(StoreError::backend(
            key,
            format!(
                "stored value is {} bytes, shorter than its version",
                stored.len()
            ),
        )),
    }
}

fn backend(key: &str) -> impl Fn(redb::Error) -> StoreError + '_ {
    move |error| StoreError::backend(key, error)
}

/// The version found under `key` inside a write transaction.
fn found_version(
    table: &redb::Table<'_, &str, &[u8]>,
    key: &str,
) -> Result<Option<Version>, StoreError> {
    match table.get(key).map_err(|error| backend(key)(error.into()))? {
        Some(stored) => Ok(Some(unpack(key, stored.value())?.version)),
        None => Ok(None),
    }
}

/// One write transaction: check `expected` if given, write, commit durably.
fn write_entry(
    db: &Database,
    key: &str,
    expected: Option<Option<Version>>,
    value: &[u8],
) -> Result<Version, StoreError> {
    let fail = backend(key);
    let txn = db.begin_write().map_err(|error| fail(error.into()))?;
    let version = {
        let mut entries = txn
            .open_table(ENTRIES)
            .map_err(|error| fail(error.into()))?;
        if let Some(expected) = expected {
            let found = found_version(&entries, key)?;
            if found != expected {
                // Dropping the transaction aborts it.
                return Err(StoreError::Conflict {
                    key: key.to_owned(),
                    expected,
                    found,
                });
            }
        }
        let mut meta = txn.open_table(META).map_err(|error| fail(error.into()))?;
        let last = meta
            .get(LAST_VERSION_KEY)
            .map_err(|error| fail(error.into()))?
            .map_or(0, |value| value.value());
        let version = last + 1;
        meta.insert(LAST_VERSION_KEY, version)
            .map_err(|error| fail(error.into()))?;
        let mut stored = Vec::with_capacity(8 + value.len());
        stored.extend_from_slice(&version.to_le_bytes());
        stored.extend_from_slice(value);
        entries
            .insert(key, stored.as_slice())
            .map_err(|error| fail(error.into()))?;
        Version::new(version)
    };
    txn.commit().map_err(|error| fail(error.into()))?;
    Ok(version)
}

impl StateStore for RedbStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        check_key(key)?;
        let fail = backend(key);
        let txn = self.db.begin_read().map_err(|error| fail(error.into()))?;
        let entries = txn
            .open_table(ENTRIES)
            .map_err(|error| fail(error.into()))?;
        match entries.get(key).map_err(|error| fail(error.into()))? {
            Some(stored) => Ok(Some(unpack(key, stored.value())?)),
            None => Ok(None),
        }
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        self.write(key, move |db, key| write_entry(db, key, None, &value))
            .await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        self.write(key, move |db, key| {
            write_entry(db, key, Some(expected), &value)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.write(key, |db, key| {
            let fail = backend(key);
            let txn = db.begin_write().map_err(|error| fail(error.into()))?;
            let existed = {
                let mut entries = txn
                    .open_table(ENTRIES)
                    .map_err(|error| fail(error.into()))?;
                let removed = entries.remove(key).map_err(|error| fail(error.into()))?;
                removed.is_some()
            };
            txn.commit().map_err(|error| fail(error.into()))?;
            Ok(existed)
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        let fail = backend(prefix);
        let txn = self.db.begin_read().map_err(|error| fail(error.into()))?;
        let entries = txn
            .open_table(ENTRIES)
            .map_err(|error| fail(error.into()))?;
        let mut listed = Vec::new();
        for item in entries
            .range(prefix..)
            .map_err(|error| fail(error.into()))?
        {
            let (key, stored) = item.map_err(|error| fail(error.into()))?;
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
    }
}

#[cfg(test)]
mod tests;
