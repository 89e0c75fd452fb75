//! Why a process ended: [`ExitReason`] and the typed cause it can carry.

use std::{error::Error, fmt, sync::Arc};

/// Why a process exited.
///
/// The variants follow Erlang/OTP: `Normal` and `Shutdown` are the expected
/// ways to stop, everything else is a crash a supervisor reacts to.
///
/// ```
/// use foundation::mailbox::ExitReason;
///
/// assert!(ExitReason::Normal.is_normal());
/// assert!(ExitReason::shutdown().is_normal());
/// assert!(!ExitReason::Killed.is_normal());
/// assert_eq!(ExitReason::panic("boom").to_string(), "panic: boom");
/// ```
#[derive(Clone, Debug)]
pub enum ExitReason {
    /// The process finished its work and stopped on purpose.
    Normal,
    /// The process was asked to shut down, by its supervisor or its owner,
    /// with an optional cause.
    Shutdown(Option<Arc<str>>),
    /// The process was killed without a chance to clean up.
    Killed,
    /// A handler panicked; the panic's message.
    Panic(Arc<str>),
    /// A handler or `init` returned an error.
    Error(ErrorCause),
    /// The process did not exist when it was monitored or linked (OTP's `noproc`).
    NoProcess,
}

impl ExitReason {
    /// A shutdown with no cause.
    pub fn shutdown() -> Self {
        Self::Shutdown(None)
    }

    /// A shutdown that says why.
    pub fn shutdown_because(cause: impl Into<Arc<str>>) -> Self {
        Self::Shutdown(Some(cause.into()))
    }

    /// A panic with the given message.
    pub fn panic(message: impl Into<Arc<str>>) -> Self {
        Self::Panic(message.into())
    }

    /// An error exit with a typed cause.
    pub fn error(cause: impl Error + Send + Sync + 'static) -> Self {
        Self::Error(ErrorCause::new(cause))
    }

    /// Whether this is a normal exit in OTP's sense (`Normal` or `Shutdown`):
    /// a transient child is not restarted after one.
    pub fn is_normal(&self) -> bool {
        matches!(self, Self::Normal | Self::Shutdown(_))
    }

    /// Whether this is a panic.
    pub fn is_panic(&self) -> bool {
        matches!(self, Self::Panic(_))
    }

    /// Builds the reason for a caught panic from its payload.
    pub(crate) fn from_panic(payload: &(dyn std::any::Any + Send)) -> Self {
        let message = if let Some(text) = payload.downcast_ref::<&'static str>() {
            (*text).into()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.as_str().into()
        } else {
            "non-string panic payload".into()
        };
        Self::Panic(message)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Normal => f.write_str("normal"),
            Self::Shutdown(None) => f.write_str("shutdown"),
            Self::Shutdown(Some(cause)) => write!(f, "shutdown: {cause}"),
            Self::Killed => f.write_str("killed"),
            Self::Panic(message) => write!(f, "panic: {message}"),
            Self::Error(cause) => write!(f, "error: {cause}"),
            Self::NoProcess => f.write_str("no process"),
        }
    }
}

impl PartialEq for ExitReason {
    /// Reasons compare by kind and text; two error causes are equal when they
    /// print the same.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Normal, Self::Normal)
            | (Self::Killed, Self::Killed)
            | (Self::NoProcess, Self::NoProcess) => true,
            (Self::Shutdown(a), Self::Shutdown(b)) => a == b,
            (Self::Panic(a), Self::Panic(b)) => a == b,
            (Self::Error(a), Self::Error(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

/// The typed error behind [`ExitReason::Error`], shared cheaply between
/// everyone who observes the exit.
///
/// ```
/// use foundation::mailbox::ErrorCause;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("disk full")]
/// struct DiskFull;
///
/// let cause = ErrorCause::new(DiskFull);
/// assert!(cause.downcast_ref::<DiskFull>().is_some());
/// assert_eq!(cause.to_string(), "disk full");
/// ```
#[derive(Clone)]
pub struct ErrorCause(Arc<dyn Error + Send + Sync>);

impl ErrorCause {
    /// Wraps a typed error.
    pub fn new(error: impl Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(error))
    }

    /// The error, if it is of type `E`.
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref::<E>()
    }

    /// The error as a trait object.
    pub fn as_error(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl fmt::Debug for ErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}
