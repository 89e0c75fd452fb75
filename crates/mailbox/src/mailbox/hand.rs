//! A push that hands its message to the dormant actor it wakes instead of
//! queueing it: for a call whose caller runs the woken actor itself (see
//! `runtime::inline`), the message goes straight to the activation it
//! begins with. A lane that was empty stays empty, so the push allocates no
//! lane buffer and no call marks, and the activation takes no lock to
//! receive it.

use std::task::{Context, Poll};

use super::{Activation, Mailbox, PushError, Pushed};
use crate::{sync::lock, waiters::WaiterKey};

/// What [`Mailbox::poll_hand`] did with a message.
#[derive(Debug)]
pub(crate) enum Offered<T, S> {
    /// Pushed as any message is: queued, or dropped by the overflow policy
    /// (see [`Pushed`]), and the activation if the push woke the actor.
    Pushed(Pushed<T>, Option<Activation<S>>),
    /// The actor was dormant: its activation, and the message it must
    /// begin with, never queued.
    Handed(T, Activation<S>),
}

impl<T, S> Mailbox<T, S> {
    /// [`poll_push`](Self::poll_push), but a message that finds the actor
    /// dormant and the mailbox open is not queued: it comes back with the
    /// activation, to be that activation's first message. Its lanes are
    /// empty (a dormant actor has nothing queued), so it overtakes nothing.
    #[allow(clippy::type_complexity)] // a push's whole outcome, named where it is used
    #[inline(always)]
    pub(crate) fn poll_hand<U>(
        &self,
        cx: Option<&mut Context<'_>>,
        slot: &mut Option<U>,
        key: &mut WaiterKey,
        into: impl FnOnce(U) -> T,
        marked: bool,
    ) -> Poll<Result<Offered<T, S>, PushError<U>>> {
        let Some(message) = slot.take() else {
            // Polled again after completion: nothing left to send.
            return Poll::Pending;
        };
        {
            let mut state = lock(&self.state);
            if !state.status.is_closed()
                && state.has_room(self.capacity())
                && let Some(activation) = state.activate()
            {
                if key.is_registered() {
                    state.senders.remove(key);
                }
                drop(state);
                return Poll::Ready(Ok(Offered::Handed(into(message), activation)));
            }
        }
        // Not dormant (a caller met a busy actor), or no room: pushed as
        // any message is, in a lock of its own, so that the push every cast
        // makes stays as it was.
        *slot = Some(message);
        self.poll_push(cx, slot, key, into, marked)
            .map(|outcome| outcome.map(|(pushed, woken)| Offered::Pushed(pushed, woken)))
    }
}
