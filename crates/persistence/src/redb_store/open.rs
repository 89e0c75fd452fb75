//! Opening a redb store file: refusing damaged or empty files, creating new ones whole, and naming what went wrong.

use std::{
    fs::{File, OpenOptions},
    io,
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
};

use redb::{Builder, Database, DatabaseError, ReadableTable, StorageError, backends::FileBackend};

use super::{
    ENTRIES, FORMAT_KEY, LAST_VERSION_KEY, META, STORE_FORMAT,
    journal::{EVENTS, HEADS, SNAPSHOTS},
};
use crate::OpenError;

/// What the database's bytes go through: the file itself, or (in unit
/// tests) the file behind a backend that fails on demand.
#[derive(Clone, Debug)]
pub(super) enum Backing {
    /// The file, as redb opens it.
    File,
    /// The file behind a fault-injecting backend.
    #[cfg(test)]
    Faulty(std::sync::Arc<super::faulty::Faults>),
}

impl Backing {
    /// Opens (or, in an empty file, initializes) a database in `file`.
    fn database(&self, file: File) -> Result<Database, DatabaseError> {
        let backend = FileBackend::new(file)?;
        match self {
            Self::File => Builder::new().create_with_backend(backend),
            #[cfg(test)]
            Self::Faulty(faults) => Builder::new().create_with_backend(faults.wrap(backend)),
        }
    }
}

/// Opens the store at `path`, or creates it if there is no file there.
///
/// redb checks its own headers and checksums at open; a file damaged in a
/// way it does not expect could still trip an assertion inside it, so a
/// panic there is a corrupt file too, never our caller's crash.
pub(super) fn open_database(path: &Path, backing: &Backing) -> Result<Database, OpenError> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
    }
    let opened = catch_unwind(AssertUnwindSafe(|| {
        match OpenOptions::new().read(true).write(true).open(path) {
            Ok(file) => open_existing(path, file, backing),
            Err(error) if error.kind() == io::ErrorKind::NotFound => create(path, backing),
            Err(error) => Err(io_error(path, error)),
        }
    }));
    opened.unwrap_or_else(|payload| {
        Err(OpenError::Corrupt {
            path: path.to_owned(),
            detail: panic_message(&*payload),
        })
    })
}

fn open_existing(path: &Path, file: File, backing: &Backing) -> Result<Database, OpenError> {
    // redb would take an empty file for a new store, so an actor whose file
    // was cut to nothing would silently start over from `init`. Every store
    // this crate creates holds redb's header before it appears under its
    // name (see `create`), so an empty one was truncated.
    let len = file
        .metadata()
        .map_err(|error| io_error(path, error))?
        .len();
    if len == 0 {
        return Err(OpenError::Corrupt {
            path: path.to_owned(),
            detail: "the file is empty (0 bytes), so it was truncated: a store file always \
                     holds at least redb's header"
                .to_owned(),
        });
    }
    let db = backing
        .database(file)
        .map_err(|error| open_error(path, error))?;
    prepare(&db, path)?;
    Ok(db)
}

/// Creates a new store whole: the database is initialized and committed
/// (fsynced) in a side file, which then gets the store's name with a hard
/// link that fails if the name was taken meanwhile. A crash or a full disk
/// part-way leaves at most the side file, never an empty or half-written
/// file under the store's name.
fn create(path: &Path, backing: &Backing) -> Result<Database, OpenError> {
    let mut side = path.as_os_str().to_owned();
    side.push(".creating");
    let side = PathBuf::from(side);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&side)
        .map_err(|error| io_error(path, error))?;
    let handle = file.try_clone().map_err(|error| io_error(path, error))?;
    // Locked before it is emptied, so a second creator is `InUse` instead of
    // cutting ours short; a side file left by a crash is stale and starts
    // over. The lock belongs to the open file, which `handle` shares, so it
    // holds through redb's own locking below.
    let locked = FileBackend::new(file).map_err(|error| open_error(path, error))?;
    let created = handle
        .set_len(0)
        .map_err(|error| io_error(path, error))
        .and_then(|()| {
            drop(locked);
            let db = backing
                .database(handle)
                .map_err(|error| open_error(path, error))?;
            prepare(&db, path)?;
            Ok(db)
        });
    let db = match created {
        Ok(db) => db,
        Err(error) => {
            // Best effort: the side file holds nothing anyone relies on.
            if let Err(removal) = std::fs::remove_file(&side) {
                tracing::debug!(target: "foundation::persistence", path = %side.display(), %removal, "could not remove the side file of a failed creation");
            }
            return Err(error);
        }
    };
    let linked = std::fs::hard_link(&side, path);
    if let Err(removal) = std::fs::remove_file(&side) {
        tracing::debug!(target: "foundation::persistence", path = %side.display(), %removal, "could not remove the side file of a new store");
    }
    match linked {
        Ok(()) => {
            sync_dir(path);
            Ok(db)
        }
        // Another opener created the store first: open theirs.
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            drop(db);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .map_err(|error| io_error(path, error))?;
            open_existing(path, file, backing)
        }
        Err(error) => Err(io_error(path, error)),
    }
}

/// Makes the new store's name durable; a failure only risks the name
/// (never the contents), so it is logged.
fn sync_dir(path: &Path) {
    let Some(dir) = path.parent() else { return };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if let Err(error) = File::open(dir).and_then(|dir| dir.sync_all()) {
        tracing::debug!(target: "foundation::persistence", path = %dir.display(), %error, "could not sync the store's directory");
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
        // The journal's tables, created in stores made before journals
        // existed too: an older build ignores them.
        txn.open_table(EVENTS).map_err(|error| io(error.into()))?;
        txn.open_table(HEADS).map_err(|error| io(error.into()))?;
        txn.open_table(SNAPSHOTS)
            .map_err(|error| io(error.into()))?;
    }
    txn.commit().map_err(|error| io(error.into()))
}

fn io_error(path: &Path, error: io::Error) -> OpenError {
    OpenError::Io {
        path: path.to_owned(),
        source: std::sync::Arc::new(error),
    }
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
            if io.kind() == io::ErrorKind::UnexpectedEof =>
        {
            OpenError::Corrupt {
                path,
                detail: format!("the file is cut short ({io})"),
            }
        }
        DatabaseError::Storage(StorageError::Io(io)) if io.kind() == io::ErrorKind::InvalidData => {
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

/// What a panic inside redb said, for a `Corrupt` error's detail.
pub(super) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a check inside redb failed");
    format!("redb rejected the file: {message}")
}
