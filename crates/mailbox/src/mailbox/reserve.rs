//! Sends whose message is converted by user code: room is reserved under the
//! lock, the conversion runs outside it, and the converted message is then
//! committed. No user code ever runs under the mailbox lock, so a conversion
//! that panics poisons nothing and one that sends to the same actor does not
//! deadlock.

use std::task::{Context, Poll};

use super::{Activation, Admission, Departed, Mailbox, Status};
use crate::{ExitReason, sync::lock, waiters::WaiterKey};

/// Room for one message, promised by [`Mailbox::poll_reserve`].
#[derive(Debug)]
pub(crate) enum Reserved<T> {
    /// Commit the converted message with [`Mailbox::commit`] (or give the
    /// room back with [`Mailbox::unreserve`]).
    Room,
    /// As `Room`, and this older message was evicted to make it.
    Evicted(Departed<T>),
    /// The overflow policy drops the new message: convert it and hand it to
    /// dead letters; nothing is reserved.
    Discard,
}

/// Why no room was reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    Closed,
    Full,
}

impl<T, S> Mailbox<T, S> {
    /// Reserves room for one message, by the same bound and overflow policy
    /// as a push. With `cx`, a full backpressure mailbox registers the
    /// sender and returns `Pending`.
    pub(crate) fn poll_reserve(
        &self,
        cx: Option<&mut Context<'_>>,
        key: &mut WaiterKey,
    ) -> Poll<Result<Reserved<T>, Refused>> {
        let mut state = lock(&self.state);
        let reserved = match self.admit(&mut state, cx, key) {
            Admission::Closed => Err(Refused::Closed),
            Admission::Full => Err(Refused::Full),
            Admission::Wait => return Poll::Pending,
            Admission::Room => Ok(Reserved::Room),
            Admission::Evicted(oldest) => Ok(Reserved::Evicted(oldest)),
            Admission::Discard => return Poll::Ready(Ok(Reserved::Discard)),
        };
        if reserved.is_ok() {
            state.reserved += 1;
        }
        Poll::Ready(reserved)
    }

    /// Queues a converted message, unmarked, in the room reserved for it. If the
    /// mailbox closed meanwhile, the message comes back with the reason, to
    /// be handed to dead letters.
    pub(crate) fn commit(&self, item: T) -> Result<Option<Activation<S>>, (T, ExitReason)> {
        let mut state = lock(&self.state);
        state.reserved = state.reserved.saturating_sub(1);
        match &state.status {
            Status::Killing(reason) | Status::Exiting(reason) | Status::Exited(reason) => {
                let reason = reason.clone();
                Err((item, reason))
            }
            Status::Starting | Status::Running => {
                self.queue_user(&mut state, item, false);
                Ok(state.activate())
            }
        }
    }

    /// Gives back room whose message will never come (its conversion
    /// panicked), waking a sender that waits for it.
    pub(crate) fn unreserve(&self) {
        let mut state = lock(&self.state);
        state.reserved = state.reserved.saturating_sub(1);
        let next = state.senders.pop();
        drop(state);
        if let Some(next) = next {
            next.wake();
        }
    }
}
