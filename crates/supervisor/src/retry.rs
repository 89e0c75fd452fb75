//! The message a supervisor sends itself to try a failed restart again
//! (OTP's `try_again_restart`). Queued behind the requests already waiting,
//! it leaves the supervisor free to answer them, and to honour a stop,
//! between two attempts.

use std::sync::Arc;

use foundation_mailbox::{Actor, Context, Pid, SendError};

/// A supervisor's note to itself to try a failed restart again. Only a
/// supervisor makes these; the type is public because it is its actor's
/// `Cast`.
#[derive(Debug)]
pub struct TryAgain(pub(crate) Target);

/// Which child to try again.
#[derive(Debug)]
pub(crate) enum Target {
    /// A static supervisor's child, by id.
    Child(Arc<str>),
    /// A dynamic supervisor's child, by the pid it had before it exited.
    Pid(Pid),
}

/// What became of a queued retry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Queued {
    /// It waits behind the requests already in the mailbox.
    Yes,
    /// The mailbox is full: the caller tries again at once instead, since a
    /// handler cannot wait for room in its own mailbox.
    Full,
    /// The supervisor is exiting: there is nothing to retry for.
    Exiting,
}

/// Queues a retry of `target` in the supervisor's own mailbox.
pub(crate) fn queue<A: Actor<Cast = TryAgain>>(ctx: &Context<A>, target: Target) -> Queued {
    match ctx.myself().try_cast(TryAgain(target)) {
        Ok(()) => Queued::Yes,
        Err(SendError::Full(_)) => Queued::Full,
        Err(SendError::NoProcess(_)) => Queued::Exiting,
    }
}
