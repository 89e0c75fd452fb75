//! PostgreSQL behind persistence: [`Postgres`], a pool of connections to one schema with the timeout and migrations every store on it shares, and [`PostgresStore`].
//!
//! The embedded [`RedbStore`](crate::RedbStore) is the default; this is
//! for a service that runs on several machines and needs its actors'
//! state in one place every node reaches. Enabled by the `postgres`
//! feature.
//!
//! - **One schema per deployment.** Every table lives in one PostgreSQL
//!   schema ([`PostgresConfig::schema`], `foundation` by default), created
//!   if missing; several applications, or several test runs, share a
//!   database without seeing each other's keys.
//! - **Versioned migrations.** Each store keeps the version of its tables
//!   in `foundation_schema` (one row per component) and brings them up to
//!   date at open, one transaction per step, serialised between nodes by
//!   an advisory lock. A schema migrated by a newer build is refused with
//!   [`PostgresOpenError::NewerSchema`] and left alone.
//! - **Bounded waits.** Every operation (waiting for a pooled connection
//!   included) is bounded by [`PostgresConfig::timeout`] and fails with
//!   [`StoreError::Timeout`]. The server is told the same bound
//!   (`statement_timeout`) and enforces it, so a statement stuck on a
//!   lock is cancelled there and applies nothing; the client waits a
//!   grace longer before it gives up on a silent server. A refused or
//!   broken connection is
//!   [`StoreError::Unavailable`].
//!
//! Other crates' stores on PostgreSQL (the dead-letter queue's) share a
//! [`Postgres`] with the state store and run their own [`Migration`]s.

use std::{fmt, str::FromStr, sync::Arc, time::Duration};

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::{PostgresOpenError, StoreError};

mod errors;
mod journal;
mod migrate;
mod store;
pub mod testing;

#[cfg(test)]
mod tests;

pub use deadpool_postgres;
pub use tokio_postgres;

pub use self::{migrate::Migration, store::PostgresStore};

/// The schema stores use unless told otherwise.
pub const DEFAULT_SCHEMA: &str = "foundation";
/// How long an operation may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections per pool unless told otherwise.
pub const DEFAULT_POOL_SIZE: usize = 8;

/// Where and how to reach PostgreSQL: the connection URL, the schema the
/// tables live in, the pool's size and the timeout of every operation.
///
/// ```
/// use std::time::Duration;
/// use foundation_persistence::PostgresConfig;
///
/// let config = PostgresConfig::new("postgres://app:secret@127.0.0.1:5432/app")?
///     .schema("orders")
///     .pool_size(4)
///     .timeout(Duration::from_secs(2));
/// assert_eq!(config.schema_name(), "orders");
/// // A bad schema name is refused when the store opens, with a typed error.
/// # Ok::<(), foundation_persistence::PostgresOpenError>(())
/// ```
#[derive(Clone)]
pub struct PostgresConfig {
    connection: tokio_postgres::Config,
    schema: String,
    pool_size: usize,
    timeout: Duration,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The driver's config hides the password in its own Debug.
        f.debug_struct("PostgresConfig")
            .field("connection", &self.connection)
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl PostgresConfig {
    /// A configuration for the database at `url`
    /// (`postgres://user:password@host:port/database`, or libpq's
    /// `key=value` form), with the defaults: schema [`DEFAULT_SCHEMA`],
    /// [`DEFAULT_POOL_SIZE`] connections, [`DEFAULT_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// [`PostgresOpenError::InvalidUrl`] if the URL does not parse.
    pub fn new(url: &str) -> Result<Self, PostgresOpenError> {
        let connection = tokio_postgres::Config::from_str(url).map_err(|error| {
            PostgresOpenError::InvalidUrl {
                reason: error.to_string(),
            }
        })?;
        Ok(Self::from_connection(connection))
    }

    /// A configuration from the driver's own connection settings.
    pub fn from_connection(connection: tokio_postgres::Config) -> Self {
        Self {
            connection,
            schema: DEFAULT_SCHEMA.to_owned(),
            pool_size: DEFAULT_POOL_SIZE,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The PostgreSQL schema the tables live in: lowercase ASCII letters,
    /// digits and `_`, not starting with a digit, at most 63 bytes.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// How many connections the pool keeps at most (at least 1).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }

    /// The longest any one operation may take, waiting for a connection
    /// included (at least 1 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Sets the `application_name` the server shows for these connections
    /// (in `pg_stat_activity`), to tell nodes apart.
    pub fn application_name(mut self, name: &str) -> Self {
        self.connection.application_name(name);
        self
    }

    /// The schema the tables live in.
    pub fn schema_name(&self) -> &str {
        &self.schema
    }

    /// The driver's connection settings (the server is also told
    /// `statement_timeout`, from [`timeout`](Self::timeout)).
    pub fn connection(&self) -> tokio_postgres::Config {
        let mut connection = self.connection.clone();
        if connection.get_application_name().is_none() {
            connection.application_name("foundation");
        }
        let millis = self.timeout.as_millis().max(1);
        let options = match connection.get_options() {
            Some(existing) => format!("{existing} -c statement_timeout={millis}"),
            None => format!("-c statement_timeout={millis}"),
        };
        connection.options(options);
        connection
    }
}

/// Checks a schema name; it is also quoted wherever it is used.
fn check_schema(name: &str) -> Result<(), PostgresOpenError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.len() > 63 {
        "it is longer than 63 bytes"
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        "it starts with a digit"
    } else if !name
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
    {
        "use only lowercase ASCII letters, digits and `_`"
    } else if name.starts_with("pg_") {
        "names starting with `pg_` are reserved by PostgreSQL"
    } else {
        return Ok(());
    };
    Err(PostgresOpenError::InvalidSchema {
        name: name.to_owned(),
        reason,
    })
}

/// A pool of connections to one PostgreSQL database, for the tables of
/// one schema: what every Foundation store on PostgreSQL holds, and what
/// several of them (the state store, the dead-letter queue) can share.
/// Clones share the pool.
///
/// ```no_run
/// use foundation_persistence::{PostgresConfig, PostgresStore, postgres::Postgres};
///
/// # async fn example() -> Result<(), foundation_persistence::PostgresOpenError> {
/// let database = Postgres::connect(PostgresConfig::new("postgres://app:secret@127.0.0.1/app")?).await?;
/// let store = PostgresStore::open_on(database.clone()).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Postgres {
    shared: Arc<Shared>,
}

struct Shared {
    pool: Pool,
    config: PostgresConfig,
    /// The schema, quoted for SQL.
    quoted: String,
}

impl fmt::Debug for Postgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Postgres")
            .field("schema", &self.shared.config.schema)
            .field("pool", &self.shared.pool.status())
            .finish_non_exhaustive()
    }
}

impl Postgres {
    /// Builds the pool and checks that the server answers (one connection
    /// is opened, within the timeout). Nothing is created in the database.
    ///
    /// # Errors
    ///
    /// [`PostgresOpenError::InvalidSchema`] for a bad schema name,
    /// [`PostgresOpenError::Unavailable`] if the server cannot be reached
    /// or refuses the login, [`PostgresOpenError::Timeout`] if it does not
    /// answer in time.
    pub async fn connect(config: PostgresConfig) -> Result<Self, PostgresOpenError> {
        check_schema(&config.schema)?;
        let manager = Manager::from_config(
            config.connection(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|error| PostgresOpenError::Unavailable {
                source: Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(
                    error.to_string(),
                )),
            })?;
        let quoted = format!("\"{}\"", config.schema);
        let database = Self {
            shared: Arc::new(Shared {
                pool,
                config,
                quoted,
            }),
        };
        let timeout = database.timeout();
        match tokio::time::timeout(timeout, database.shared.pool.get()).await {
            Ok(Ok(_client)) => Ok(database),
            Ok(Err(error)) => Err(PostgresOpenError::Unavailable {
                source: errors::pool_source(error),
            }),
            Err(_) => Err(PostgresOpenError::Timeout { after: timeout }),
        }
    }

    /// The configuration it was built from.
    pub fn config(&self) -> &PostgresConfig {
        &self.shared.config
    }

    /// The schema, double-quoted for use in SQL (`"foundation"`).
    pub fn quoted_schema(&self) -> &str {
        &self.shared.quoted
    }

    /// The timeout of every operation.
    pub fn timeout(&self) -> Duration {
        self.shared.config.timeout
    }

    /// A pooled connection, for an operation on `key`; bound it (and what
    /// is done with it) with [`timed`](Self::timed).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] if no connection can be made.
    pub async fn client(&self, key: &str) -> Result<Object, StoreError> {
        self.shared
            .pool
            .get()
            .await
            .map_err(|error| errors::pool_error(key, error, self.timeout()))
    }

    /// The store's error for a driver error in an operation on `key`: a
    /// lost or refused connection is [`StoreError::Unavailable`], a
    /// statement the server cancelled at the timeout is
    /// [`StoreError::Timeout`], anything else [`StoreError::Backend`].
    pub fn error(&self, key: &str, error: tokio_postgres::Error) -> StoreError {
        errors::driver_error(key, error, self.timeout())
    }

    /// Runs `operation` on `key` within the timeout, answering
    /// [`StoreError::Timeout`] past it.
    ///
    /// The server enforces the timeout itself (`statement_timeout`): a
    /// statement that waits too long, on a lock say, is cancelled there
    /// and nothing of it is applied. This side gives up only a grace
    /// later (half the timeout, within 200 ms to 2 s), for a server or network gone silent; an
    /// operation dropped that way (its connection with it) may still be
    /// applied by the server. Were both bounds the same, the client
    /// would often win the race, and a write the caller was told timed
    /// out would land once the lock it waited on was released.
    ///
    /// # Errors
    ///
    /// What `operation` returns, or [`StoreError::Timeout`].
    pub async fn timed<T>(
        &self,
        key: &str,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let after = self.timeout();
        tokio::time::timeout(client_bound(after), operation)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::Timeout {
                    key: key.to_owned(),
                    after,
                })
            })
    }
}

/// How long the client waits for an operation whose server-side bound is
/// `timeout`: half as long again, at least 200 ms and at most 2 s more,
/// so that the server's own cancellation, which applies nothing, comes
/// first.
fn client_bound(timeout: Duration) -> Duration {
    timeout + (timeout / 2).clamp(Duration::from_millis(200), Duration::from_secs(2))
}
