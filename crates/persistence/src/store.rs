//! The [`StateStore`] trait, its entries and versions, and [`Store`], any store behind one type.

use std::{fmt, future::Future, pin::Pin, sync::Arc};

use crate::StoreError;

/// The longest key a store accepts, in bytes.
pub const MAX_KEY_LEN: usize = 1024;

/// An entry's version: it grows with every write to the store and is never
/// reused, not even after the key is deleted and written again, so a
/// compare-and-set never mistakes a new entry for the one it read (no ABA).
///
/// ```
/// use foundation_persistence::Version;
///
/// assert!(Version::new(2) > Version::new(1));
/// assert_eq!(Version::new(7).to_string(), "v7");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u64);

impl Version {
    /// The version with this number; backends use it to rebuild versions
    /// they stored.
    pub const fn new(number: u64) -> Self {
        Self(number)
    }

    /// The version's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.0)
    }
}

/// One stored value and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The version written with the value.
    pub version: Version,
    /// The stored bytes.
    pub value: Vec<u8>,
}

/// A key with its entry's version, as [`StateStore::list`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// The key.
    pub key: String,
    /// Its entry's current version.
    pub version: Version,
}

/// A boxed future, for the object-safe side of [`StateStore`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where persistent state lives: a map from string keys to versioned bytes.
///
/// Every write gives the entry a new [`Version`]; [`compare_and_set`]
/// writes only if the entry is still at the version the writer read, so two
/// writers (two incarnations of an actor, two machines) cannot silently
/// overwrite each other. Methods are async so a networked backend fits
/// behind the same trait; see `docs/persistence.md`. Keys are non-empty and
/// at most [`MAX_KEY_LEN`] bytes; a bad key is [`StoreError::InvalidKey`].
///
/// [`compare_and_set`]: StateStore::compare_and_set
///
/// ```
/// use foundation_persistence::{MemoryStore, StateStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), foundation_persistence::StoreError> {
/// let store = MemoryStore::new();
/// let first = store.compare_and_set("counter/a", None, b"1".to_vec()).await?;
/// store.compare_and_set("counter/a", Some(first), b"2".to_vec()).await?;
/// // A writer that still holds the first version loses, and is told so.
/// let stale = store.compare_and_set("counter/a", Some(first), b"9".to_vec()).await;
/// assert!(stale.unwrap_err().is_conflict());
/// assert_eq!(store.get("counter/a").await?.unwrap().value, b"2");
/// # Ok(())
/// # }
/// ```
pub trait StateStore: Send + Sync + 'static {
    /// The entry under `key`, if any.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Entry>, StoreError>> + Send;

    /// Writes `value` under `key` whatever is there; returns the new version.
    fn put(
        &self,
        key: &str,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send;

    /// Writes `value` under `key` only if the entry is at `expected`
    /// (`None`: only if there is no entry); returns the new version, or
    /// [`StoreError::Conflict`] with the version found.
    fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> impl Future<Output = Result<Version, StoreError>> + Send;

    /// Removes the entry under `key`; returns whether there was one.
    fn delete(&self, key: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every key that starts with `prefix`, in byte order, with its version.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<Listed>, StoreError>> + Send;
}

/// Checks a key against the rules every store shares.
pub(crate) fn check_key(key: &str) -> Result<(), StoreError> {
    let reason = if key.is_empty() {
        "keys must not be empty"
    } else if key.len() > MAX_KEY_LEN {
        "keys must be at most 1024 bytes"
    } else {
        return Ok(());
    };
    Err(StoreError::InvalidKey {
        key: key.chars().take(64).collect(),
        reason,
    })
}

/// The object-safe mirror of [`StateStore`], implemented for every store.
trait DynStore: Send + Sync {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Entry>, StoreError>>;
    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Version, StoreError>>;
    fn compare_and_set<'a>(
        &'a self,
        key: &'a str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Version, StoreError>>;
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<Listed>, StoreError>>;
    fn name(&self) -> &'static str;
}

impl<S: StateStore> DynStore for S {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Entry>, StoreError>> {
        Box::pin(StateStore::get(self, key))
    }

    fn put<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Version, StoreError>> {
        Box::pin(StateStore::put(self, key, value))
    }

    fn compare_and_set<'a>(
        &'a self,
        key: &'a str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> BoxFuture<'a, Result<Version, StoreError>> {
        Box::pin(StateStore::compare_and_set(self, key, expected, value))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(StateStore::delete(self, key))
    }

    fn list<'a>(&'a self, prefix: &'a str) -> BoxFuture<'a, Result<Vec<Listed>, StoreError>> {
        Box::pin(StateStore::list(self, prefix))
    }

    fn name(&self) -> &'static str {
        std::any::type_name::<S>()
    }
}

/// Any [`StateStore`] behind one cheap, clonable type: what persistent
/// actors hold, so actor code never names its backend and swapping the
/// embedded store for another (in memory for tests, PostgreSQL for
/// several machines) changes only the line that opens it.
///
/// ```
/// use foundation_persistence::{MemoryStore, StateStore, Store};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), foundation_persistence::StoreError> {
/// let store = Store::new(MemoryStore::new());
/// store.put("greeting", b"hello".to_vec()).await?;
/// let listed = store.list("greet").await?;
/// assert_eq!(listed[0].key, "greeting");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Store(Arc<dyn DynStore>);

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Store").field(&self.0.name()).finish()
    }
}

impl Store {
    /// Wraps a store.
    pub fn new(store: impl StateStore) -> Self {
        Self(Arc::new(store))
    }
}

impl StateStore for Store {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.0.get(key).await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        self.0.put(key, value).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        self.0.compare_and_set(key, expected, value).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.0.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.0.list(prefix).await
    }
}
