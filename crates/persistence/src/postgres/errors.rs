//! The driver's and the pool's errors turned into the store's: unavailable, timed out, or a backend failure.

use std::{sync::Arc, time::Duration};

use deadpool_postgres::PoolError;
use tokio_postgres::error::SqlState;

use crate::{BackendError, StoreError};

/// The store's error for a driver error on `key`: a lost or refused
/// connection is [`StoreError::Unavailable`], a statement the server
/// cancelled at its `statement_timeout` (which is `timeout`) is
/// [`StoreError::Timeout`], anything else the server refused is
/// [`StoreError::Backend`].
pub(crate) fn driver_error(
    key: &str,
    error: tokio_postgres::Error,
    timeout: Duration,
) -> StoreError {
    if error.code() == Some(&SqlState::QUERY_CANCELED) {
        StoreError::Timeout {
            key: key.to_owned(),
            after: timeout,
        }
    } else if is_unavailable(&error) {
        StoreError::unavailable(key, error)
    } else {
        StoreError::backend(key, error)
    }
}

/// Whether the error means the connection, or the server, is gone: the
/// connection closed, an I/O error on its socket, or one of the server's
/// connection and shutdown codes (`08…`, `57P01`–`57P03`, `53300` too
/// many connections).
fn is_unavailable(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        let code = code.code();
        return code.starts_with("08")
            || code == SqlState::ADMIN_SHUTDOWN.code()
            || code == SqlState::CRASH_SHUTDOWN.code()
            || code == SqlState::CANNOT_CONNECT_NOW.code()
            || code == SqlState::TOO_MANY_CONNECTIONS.code();
    }
    // No server error: the driver failed talking to the socket.
    std::error::Error::source(&error).is_some_and(|source| source.is::<std::io::Error>())
}

/// The store's error for a pool that could not hand out a connection.
pub(crate) fn pool_error(key: &str, error: PoolError, timeout: Duration) -> StoreError {
    match error {
        PoolError::Backend(error) => driver_error(key, error, timeout),
        other => StoreError::Unavailable {
            key: key.to_owned(),
            source: pool_source(other),
        },
    }
}

/// A pool error as a shared source.
pub(crate) fn pool_source(error: PoolError) -> BackendError {
    match error {
        PoolError::Backend(error) => Arc::new(error),
        other => Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(
            other.to_string(),
        )),
    }
}
