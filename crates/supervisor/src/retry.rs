//! The message a supervisor sends itself to try a failed restart again
//! (OTP's `try_again_restart`). Queued behind the requests already waiting,
//! it leaves the supervisor free to answer them, and to honour a stop,
//! between two attempts.

use foundation_mailbox::{Actor, Context, SendError};

/// A supervisor's note to itself to try a failed restart again, naming the
/// child: by id for a [`Supervisor`](crate::Supervisor), by the pid it had
/// before it exited for a [`DynamicSupervisor`](crate::DynamicSupervisor).
/// Only a supervisor makes these; the type is public because its actor's
/// message carries it.
#[derive(Debug)]
pub struct TryAgain<K>(pub(crate) K);

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

/// Queues a retry of child `key` in the supervisor's own mailbox.
pub(crate) fn queue<A, K>(ctx: &Context<A>, key: K) -> Queued
where
    A: Actor,
    TryAgain<K>: Into<A::Msg>,
{
    match ctx.myself().try_cast_from(TryAgain(key)) {
        Ok(()) => Queued::Yes,
        Err(SendError::Full(_)) => Queued::Full,
        Err(SendError::NoProcess(_)) => Queued::Exiting,
    }
}
