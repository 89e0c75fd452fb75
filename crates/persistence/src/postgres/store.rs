//! [`PostgresStore`]: a [`StateStore`] in one PostgreSQL table, shared by every node that reaches the database.

use std::sync::Arc;

use deadpool_postgres::ClientWrapper;
use tokio_postgres::Row;

use super::{Migration, Postgres, PostgresConfig, journal::JournalShared};
use crate::{Entry, Listed, PostgresOpenError, StateStore, StoreError, Version, store::check_key};

/// The component name of the state table in `foundation_schema`.
const COMPONENT: &str = "state";

/// The state table's migrations. Keys are `bytea` so that their order is
/// byte order whatever the database's collation, and so that any string
/// key (one holding NUL included) round-trips; versions come from one
/// sequence, which never hands out a number twice.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: "CREATE SEQUENCE {schema}.foundation_state_version AS bigint MINVALUE 1;
          CREATE TABLE {schema}.foundation_state (
              key bytea PRIMARY KEY,
              version bigint NOT NULL,
              value bytea NOT NULL
          )",
}];

/// The store's statements, with the schema filled in.
struct Sql {
    get: String,
    put: String,
    update: String,
    insert: String,
    version: String,
    delete: String,
    list_all: String,
    list_range: String,
}

impl Sql {
    fn new(schema: &str) -> Self {
        let table = format!("{schema}.foundation_state");
        let next = format!("nextval('{schema}.foundation_state_version')");
        Self {
            get: format!("SELECT version, value FROM {table} WHERE key = $1"),
            put: format!(
                "INSERT INTO {table} (key, version, value) VALUES ($1, {next}, $2)
                 ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, value = EXCLUDED.value
                 RETURNING version"
            ),
            // The compare-and-set: one conditional statement, atomic under
            // the row's lock at any isolation level.
            update: format!(
                "UPDATE {table} SET version = {next}, value = $3
                 WHERE key = $1 AND version = $2 RETURNING version"
            ),
            insert: format!(
                "INSERT INTO {table} (key, version, value) VALUES ($1, {next}, $2)
                 ON CONFLICT (key) DO NOTHING RETURNING version"
            ),
            version: format!("SELECT version FROM {table} WHERE key = $1"),
            delete: format!("DELETE FROM {table} WHERE key = $1"),
            list_all: format!("SELECT key, version FROM {table} ORDER BY key"),
            list_range: format!(
                "SELECT key, version FROM {table} WHERE key >= $1 AND key < $2 ORDER BY key"
            ),
        }
    }
}

/// A [`StateStore`] in PostgreSQL: the state of actors on several machines
/// in one place every node reaches, fenced by the same compare-and-set as
/// the embedded store.
///
/// One table, `foundation_state (key bytea PRIMARY KEY, version bigint,
/// value bytea)`, in the configured schema. `compare_and_set` is one
/// conditional `UPDATE .. WHERE key = $1 AND version = $2` (or an
/// `INSERT .. ON CONFLICT DO NOTHING` when no entry is expected); when it
/// writes nothing, the version found is read and returned in
/// [`StoreError::Conflict`]. `list` is a range scan of the key index
/// (`key >= prefix AND key < successor(prefix)`). Versions come from a
/// sequence: they grow and are never reused, across nodes too. A write is
/// durable when the server's commit returns (`synchronous_commit = on`,
/// the default), so write-through keeps its promise.
///
/// It is also a [`Journal`](crate::Journal) for event-sourced actors,
/// in tables of its own (`foundation_events`, `foundation_journal_heads`,
/// `foundation_snapshots`), with appends that arrive together committed
/// in one transaction.
///
/// Every operation is bounded by the configured timeout
/// ([`StoreError::Timeout`]); a refused or broken connection is
/// [`StoreError::Unavailable`]. The futures are cancel-safe in the sense
/// that dropping one never corrupts anything, but a write already sent may
/// still be applied by the server: as after a timeout, the next
/// compare-and-set tells.
///
/// ```no_run
/// use foundation_persistence::{PostgresConfig, PostgresStore, StateStore};
///
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// let store = PostgresStore::open(
///     PostgresConfig::new("postgres://app:secret@127.0.0.1:5432/app")?.schema("shop"),
/// )
/// .await?;
/// let first = store.compare_and_set("cart/42", None, b"[]".to_vec()).await?;
/// // Another node that read the same version loses, and is told who won.
/// let stale = store.compare_and_set("cart/42", None, b"[1]".to_vec()).await;
/// assert!(stale.unwrap_err().is_conflict());
/// # let _ = first;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    pub(super) database: Postgres,
    sql: Arc<Sql>,
    /// The event journals' statements and group commit (see `journal`).
    pub(super) journal: Arc<JournalShared>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.database)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the store in the database at `url`, with the default schema,
    /// pool size and timeout; see [`open`](Self::open).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), and [`PostgresOpenError::InvalidUrl`].
    pub async fn connect(url: &str) -> Result<Self, PostgresOpenError> {
        Self::open(PostgresConfig::new(url)?).await
    }

    /// Connects and brings the state and journal tables up to date
    /// (creating the schema and the tables if missing).
    ///
    /// # Errors
    ///
    /// See [`Postgres::connect`] and [`Postgres::migrate`]: a server that
    /// cannot be reached, a schema migrated by a newer build
    /// ([`PostgresOpenError::NewerSchema`]), a failed migration.
    pub async fn open(config: PostgresConfig) -> Result<Self, PostgresOpenError> {
        Self::open_on(Postgres::connect(config).await?).await
    }

    /// Opens the store on a pool it shares with other stores (the
    /// dead-letter queue's), bringing the state table up to date.
    ///
    /// # Errors
    ///
    /// See [`Postgres::migrate`].
    pub async fn open_on(database: Postgres) -> Result<Self, PostgresOpenError> {
        database.migrate(COMPONENT, MIGRATIONS).await?;
        let journal = Arc::new(JournalShared::open(&database).await?);
        let sql = Arc::new(Sql::new(database.quoted_schema()));
        Ok(Self {
            database,
            sql,
            journal,
        })
    }

    /// The newest version of the state table this build knows.
    pub fn schema_version() -> u32 {
        MIGRATIONS.last().map_or(0, |step| step.version)
    }

    /// The pool this store uses, to share with other stores.
    pub fn database(&self) -> &Postgres {
        &self.database
    }

    /// Reads the version stored in `row`'s column `column`.
    fn version(&self, key: &str, row: &Row, column: usize) -> Result<Version, StoreError> {
        let number: i64 = row
            .try_get(column)
            .map_err(|error| self.database.error(key, error))?;
        u64::try_from(number)
            .map(Version::new)
            .map_err(|_| StoreError::Corrupt {
                key: key.to_owned(),
                detail: format!("stored version {number} is negative"),
            })
    }

    /// One attempt at the conditional write: the new version, or `None` if
    /// the entry was not at `expected`.
    async fn try_write(
        &self,
        client: &ClientWrapper,
        key: &str,
        expected: Option<Version>,
        value: &[u8],
    ) -> Result<Option<Version>, StoreError> {
        let fail = |error| self.database.error(key, error);
        let written = match expected {
            Some(version) => {
                // A version past i64 cannot be stored, so it matches nothing.
                let number = i64::try_from(version.get()).unwrap_or(-1);
                let statement = client
                    .prepare_cached(&self.sql.update)
                    .await
                    .map_err(fail)?;
                client
                    .query_opt(&statement, &[&key.as_bytes(), &number, &value])
                    .await
            }
            None => {
                let statement = client
                    .prepare_cached(&self.sql.insert)
                    .await
                    .map_err(fail)?;
                client
                    .query_opt(&statement, &[&key.as_bytes(), &value])
                    .await
            }
        }
        .map_err(fail)?;
        written.map(|row| self.version(key, &row, 0)).transpose()
    }

    /// The version under `key` now.
    async fn found(
        &self,
        client: &ClientWrapper,
        key: &str,
    ) -> Result<Option<Version>, StoreError> {
        let fail = |error| self.database.error(key, error);
        let statement = client
            .prepare_cached(&self.sql.version)
            .await
            .map_err(fail)?;
        let row = client
            .query_opt(&statement, &[&key.as_bytes()])
            .await
            .map_err(fail)?;
        row.map(|row| self.version(key, &row, 0)).transpose()
    }
}

/// The smallest byte string above every string that starts with `prefix`:
/// `prefix` with its last byte plus one. UTF-8 never holds the byte 0xFF,
/// so that never overflows.
fn successor(prefix: &str) -> Vec<u8> {
    let mut bound = prefix.as_bytes().to_vec();
    if let Some(last) = bound.last_mut() {
        *last += 1;
    }
    bound
}

impl StateStore for PostgresStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        check_key(key)?;
        self.database
            .timed(key, async {
                let fail = |error| self.database.error(key, error);
                let client = self.database.client(key).await?;
                let statement = client.prepare_cached(&self.sql.get).await.map_err(fail)?;
                let Some(row) = client
                    .query_opt(&statement, &[&key.as_bytes()])
                    .await
                    .map_err(fail)?
                else {
                    return Ok(None);
                };
                let version = self.version(key, &row, 0)?;
                let value: Vec<u8> = row.try_get(1).map_err(fail)?;
                Ok(Some(Entry { version, value }))
            })
            .await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        check_key(key)?;
        self.database
            .timed(key, async {
                let fail = |error| self.database.error(key, error);
                let client = self.database.client(key).await?;
                let statement = client.prepare_cached(&self.sql.put).await.map_err(fail)?;
                let row = client
                    .query_one(&statement, &[&key.as_bytes(), &value])
                    .await
                    .map_err(fail)?;
                self.version(key, &row, 0)
            })
            .await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        check_key(key)?;
        self.database
            .timed(key, async {
                let client = self.database.client(key).await?;
                // The write failed if the entry was not at `expected`; the
                // version read after it then differs from `expected`
                // (versions are never reused), unless the entry that made
                // an insert fail was deleted in between: then the write is
                // tried again, as if it had come a moment later.
                for _ in 0..3 {
                    if let Some(version) = self.try_write(&client, key, expected, &value).await? {
                        return Ok(version);
                    }
                    let found = self.found(&client, key).await?;
                    if found != expected {
                        return Err(StoreError::Conflict {
                            key: key.to_owned(),
                            expected,
                            found,
                        });
                    }
                }
                Err(StoreError::backend(
                    key,
                    "the entry was created and deleted under three attempts in a row",
                ))
            })
            .await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        check_key(key)?;
        self.database
            .timed(key, async {
                let fail = |error| self.database.error(key, error);
                let client = self.database.client(key).await?;
                let statement = client
                    .prepare_cached(&self.sql.delete)
                    .await
                    .map_err(fail)?;
                let removed = client
                    .execute(&statement, &[&key.as_bytes()])
                    .await
                    .map_err(fail)?;
                Ok(removed > 0)
            })
            .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.database
            .timed(prefix, async {
                let fail = |error| self.database.error(prefix, error);
                let client = self.database.client(prefix).await?;
                let rows = if prefix.is_empty() {
                    let statement = client
                        .prepare_cached(&self.sql.list_all)
                        .await
                        .map_err(fail)?;
                    client.query(&statement, &[]).await
                } else {
                    let statement = client
                        .prepare_cached(&self.sql.list_range)
                        .await
                        .map_err(fail)?;
                    client
                        .query(&statement, &[&prefix.as_bytes(), &successor(prefix)])
                        .await
                }
                .map_err(fail)?;
                rows.iter()
                    .map(|row| {
                        let key: Vec<u8> = row.try_get(0).map_err(fail)?;
                        let key = String::from_utf8(key).map_err(|error| StoreError::Corrupt {
                            key: prefix.to_owned(),
                            detail: format!("a stored key is not UTF-8: {error}"),
                        })?;
                        let version = self.version(&key, row, 1)?;
                        Ok(Listed { key, version })
                    })
                    .collect()
            })
            .await
    }
}
