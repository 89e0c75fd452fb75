//! The backends the suite runs on: how each opens a fresh store, reopens it, and cleans up.

use std::path::PathBuf;

use foundation_persistence::{
    Journal, MemoryStore, PostgresStore, RedbStore, StateStore, postgres::testing::TestSchema,
};

/// A store under test and how to get it back after a restart.
pub(crate) trait Backend: Sized {
    type Store: StateStore + Journal + Clone;

    /// A fresh, empty store for `test`; `None` if this backend is skipped here.
    async fn open(test: &str) -> Option<Self>;

    /// The store.
    fn store(&self) -> Self::Store;

    /// Closes the store and opens it again, as a restart of the program
    /// would; what was written must still be there.
    async fn reopen(&mut self);

    /// Cleans up what the test left.
    async fn finish(self) {}
}

/// The in-memory store: a "reopen" keeps the same map, which is what its
/// clones share.
pub(crate) struct MemoryBackend(MemoryStore);

impl Backend for MemoryBackend {
    type Store = MemoryStore;

    async fn open(_test: &str) -> Option<Self> {
        Some(Self(MemoryStore::new()))
    }

    fn store(&self) -> MemoryStore {
        self.0.clone()
    }

    async fn reopen(&mut self) {}
}

/// redb in a temporary directory.
pub(crate) struct RedbBackend {
    _dir: tempfile::TempDir,
    path: PathBuf,
    store: Option<RedbStore>,
}

impl Backend for RedbBackend {
    type Store = RedbStore;

    async fn open(_test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.redb");
        let store = RedbStore::open(&path).unwrap();
        Some(Self {
            _dir: dir,
            path,
            store: Some(store),
        })
    }

    fn store(&self) -> RedbStore {
        self.store.clone().expect("the store is open")
    }

    async fn reopen(&mut self) {
        // Every clone must be gone before the file can be opened again.
        drop(self.store.take());
        self.store = Some(RedbStore::open(&self.path).unwrap());
    }
}

/// PostgreSQL, in a schema of the test's own.
pub(crate) struct PostgresBackend {
    schema: TestSchema,
    store: PostgresStore,
}

impl Backend for PostgresBackend {
    type Store = PostgresStore;

    async fn open(test: &str) -> Option<Self> {
        let schema = TestSchema::create(test)?;
        let store = PostgresStore::open(schema.config()).await.unwrap();
        Some(Self { schema, store })
    }

    fn store(&self) -> PostgresStore {
        self.store.clone()
    }

    async fn reopen(&mut self) {
        // A new pool, as another process would have.
        self.store = PostgresStore::open(self.schema.config()).await.unwrap();
    }

    async fn finish(self) {
        drop(self.store);
        self.schema.drop_schema().await;
    }
}
