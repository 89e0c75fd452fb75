//! The errors of names and process groups, one type per operation.
//!
//! As everywhere in the process core, an operation that carries a message
//! or a key gives it back when it fails, and `Debug` does not require it to
//! be `Debug`.

use std::fmt;

use thiserror::Error;

use crate::{CallError, Pid, SendError};

/// A name that could not be registered; the key is inside.
///
/// Returned by [`Registry::register`](crate::Registry::register).
#[derive(Error, PartialEq, Eq)]
pub enum RegisterError<K> {
    /// Another live process holds the name.
    #[error("name already registered to {holder}")]
    Taken {
        /// The key that was asked for.
        key: K,
        /// The process holding it.
        holder: Pid,
    },
    /// The process has exited (or is exiting), so it cannot hold a name.
    #[error("no process")]
    NoProcess(K),
}

impl<K> RegisterError<K> {
    /// The key that was not registered.
    pub fn into_key(self) -> K {
        match self {
            Self::Taken { key, .. } | Self::NoProcess(key) => key,
        }
    }
}

impl<K> fmt::Debug for RegisterError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Taken { holder, .. } => f
                .debug_struct("Taken")
                .field("holder", holder)
                .finish_non_exhaustive(),
            Self::NoProcess(_) => f.write_str("NoProcess(..)"),
        }
    }
}

/// A process that could not join a group: it has exited (or is exiting).
///
/// Returned by [`ProcessGroups::join`](crate::ProcessGroups::join).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("no process")]
pub struct JoinError(pub Pid);

/// A name that did not lead to an actor of the type asked for.
///
/// Returned by [`Registry::lookup`](crate::Registry::lookup).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// No live process holds the name.
    #[error("not registered")]
    NotRegistered,
    /// The process holding the name runs another actor type.
    #[error("{pid} is not a {expected}")]
    WrongType {
        /// The process holding the name.
        pid: Pid,
        /// The actor type asked for.
        expected: &'static str,
    },
}

/// A cast by name that was not accepted; the message is inside.
///
/// Returned by [`Registry::cast`](crate::Registry::cast) and
/// [`Registry::try_cast`](crate::Registry::try_cast).
#[derive(Error)]
pub enum NamedSendError<M> {
    /// The name did not lead to an actor of the right type.
    #[error("{0}")]
    Lookup(LookupError, M),
    /// The actor did not accept the message.
    #[error(transparent)]
    Send(SendError<M>),
}

impl<M> NamedSendError<M> {
    /// The message that was not sent.
    pub fn into_inner(self) -> M {
        match self {
            Self::Lookup(_, message) => message,
            Self::Send(error) => error.into_inner(),
        }
    }
}

impl<M> fmt::Debug for NamedSendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lookup(error, _) => f.debug_tuple("Lookup").field(error).finish_non_exhaustive(),
            Self::Send(error) => f.debug_tuple("Send").field(error).finish(),
        }
    }
}

/// A call by name that did not produce a reply.
///
/// Returned by [`Registry::call`](crate::Registry::call). When the request
/// was never delivered, it is inside.
#[derive(Error)]
pub enum NamedCallError<M> {
    /// The name did not lead to an actor of the right type.
    #[error("{0}")]
    Lookup(LookupError, M),
    /// The call itself failed.
    #[error(transparent)]
    Call(CallError<M>),
}

impl<M> NamedCallError<M> {
    /// The request, when it was never delivered.
    pub fn into_message(self) -> Option<M> {
        match self {
            Self::Lookup(_, message) => Some(message),
            Self::Call(error) => error.into_message(),
        }
    }
}

impl<M> fmt::Debug for NamedCallError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lookup(error, _) => f.debug_tuple("Lookup").field(error).finish_non_exhaustive(),
            Self::Call(error) => f.debug_tuple("Call").field(error).finish(),
        }
    }
}
