//! [`MemoryStore`]: a [`StateStore`] in memory, for tests and state that need not outlive the program.

use std::{collections::BTreeMap, future::Future, ops::Bound, sync::Arc};

use crate::{
    Entry, Listed, StateStore, StoreError, Version,
    store::check_key,
    sync::{Mutex, lock},
};

/// A store in memory: a sorted map under one lock, with the same versions
/// and compare-and-set as the durable stores. Clones share the same map, so
/// a test can keep one to look inside while actors write through another.
///
/// Nothing survives the program; use [`RedbStore`](crate::RedbStore) for
/// that.
///
/// ```
/// use foundation_persistence::{MemoryStore, StateStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), foundation_persistence::StoreError> {
/// let store = MemoryStore::new();
/// store.put("a/1", vec![1]).await?;
/// store.put("a/2", vec![2]).await?;
/// store.put("b/1", vec![3]).await?;
/// let keys: Vec<_> = store.list("a/").await?.into_iter().map(|listed| listed.key).collect();
/// assert_eq!(keys, ["a/1", "a/2"]);
/// assert!(store.delete("a/1").await?);
/// assert_eq!(store.get("a/1").await?, None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    entries: BTreeMap<String, Entry>,
    /// The event journals, by actor id (see [`Journal`](crate::Journal)).
    journals: BTreeMap<String, journal::ActorJournal>,
    /// The last version handed out; versions are never reused.
    last_version: u64,
}

mod journal;

impl Inner {
    fn next_version(&mut self) -> Version {
        self.last_version += 1;
        Version::new(self.last_version)
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many entries the store holds.
    pub fn len(&self) -> usize {
        lock(&self.inner).entries.len()
    }

    /// Whether the store holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn get_now(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        check_key(key)?;
        Ok(lock(&self.inner).entries.get(key).cloned())
    }

    pub(crate) fn compare_and_set_now(
        &self,
        key: &str,
        expected: Option<Option<Version>>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        check_key(key)?;
        let mut inner = lock(&self.inner);
        if let Some(expected) = expected {
            let found = inner.entries.get(key).map(|entry| entry.version);
            if found != expected {
                return Err(StoreError::Conflict {
                    key: key.to_owned(),
                    expected,
                    found,
                });
            }
        }
        let version = inner.next_version();
        inner
            .entries
            .insert(key.to_owned(), Entry { version, value });
        Ok(version)
    }

    fn delete_now(&self, key: &str) -> Result<bool, StoreError> {
        check_key(key)?;
        Ok(lock(&self.inner).entries.remove(key).is_some())
    }

    fn list_now(&self, prefix: &str) -> Vec<Listed> {
        let inner = lock(&self.inner);
        inner
            .entries
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, entry)| Listed {
                key: key.clone(),
                version: entry.version,
            })
            .collect()
    }
}

impl StateStore for MemoryStore {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Entry>, StoreError>> + Send {
        std::future::ready(self.get_now(key))
    }

    fn put(
        &self,
        key: &str,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send {
        std::future::ready(self.compare_and_set_now(key, None::<Option<Version>>, value))
    }

    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send {
        std::future::ready(self.compare_and_set_now(key, Some(expected), value))
    }

    fn delete(&self, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send {
        std::future::ready(self.delete_now(key))
    }

    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<Listed>, StoreError>> + Send {
        std::future::ready(Ok(self.list_now(prefix)))
    }
}
