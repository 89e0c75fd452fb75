//! A redb storage backend for unit tests that fails writes on demand (a full disk), fails one chosen read, and records which threads read.

use std::{
    io,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicI64, Ordering},
    },
    thread::ThreadId,
};

use redb::{StorageBackend, backends::FileBackend};

/// The switches and records shared by a test and every backend it opened.
#[derive(Debug)]
pub(crate) struct Faults {
    fail_writes: AtomicBool,
    /// Reads to let through before one fails; negative when none will.
    reads_before_failure: AtomicI64,
    read_threads: Mutex<Vec<ThreadId>>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            fail_writes: AtomicBool::new(false),
            reads_before_failure: AtomicI64::new(-1),
            read_threads: Mutex::default(),
        }
    }
}

impl Faults {
    /// From now on, every write, resize and sync fails as on a full disk
    /// (`fail`), or goes through again (`!fail`).
    pub(crate) fn fail_writes(&self, fail: bool) {
        self.fail_writes.store(fail, Ordering::SeqCst);
    }

    /// Lets `reads` more reads through, then fails the next one (an I/O
    /// error, as from a bad sector); the reads after it succeed.
    pub(crate) fn fail_one_read_after(&self, reads: u32) {
        self.reads_before_failure
            .store(i64::from(reads), Ordering::SeqCst);
    }

    fn check_read(&self) -> Result<(), io::Error> {
        if self.reads_before_failure.load(Ordering::SeqCst) >= 0
            && self.reads_before_failure.fetch_sub(1, Ordering::SeqCst) == 0
        {
            return Err(io::Error::other("unreadable sector (simulated)"));
        }
        Ok(())
    }

    /// The threads that read from the file so far, and forgets them.
    pub(crate) fn take_read_threads(&self) -> Vec<ThreadId> {
        std::mem::take(&mut *self.read_threads.lock().unwrap())
    }

    pub(super) fn wrap(self: &Arc<Self>, file: FileBackend) -> FaultyBackend {
        FaultyBackend {
            file,
            faults: Arc::clone(self),
        }
    }

    fn check_write(&self) -> Result<(), io::Error> {
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device (simulated)",
            ));
        }
        Ok(())
    }
}

/// A file backend whose writes (and one read) fail when its [`Faults`] say so.
#[derive(Debug)]
pub(crate) struct FaultyBackend {
    file: FileBackend,
    faults: Arc<Faults>,
}

impl StorageBackend for FaultyBackend {
    fn len(&self) -> Result<u64, io::Error> {
        self.file.len()
    }

    fn read(&self, offset: u64, len: usize) -> Result<Vec<u8>, io::Error> {
        self.faults
            .read_threads
            .lock()
            .unwrap()
            .push(std::thread::current().id());
        self.faults.check_read()?;
        self.file.read(offset, len)
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        self.faults.check_write()?;
        self.file.set_len(len)
    }

    fn sync_data(&self, eventual: bool) -> Result<(), io::Error> {
        self.faults.check_write()?;
        self.file.sync_data(eventual)
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        self.faults.check_write()?;
        self.file.write(offset, data)
    }
}
