//! The router process: it holds the monitors of the subscribers and removes those that exit.
//!
//! It owns no subscription. The table lives in the router's shared state,
//! so a crash of this process loses nothing; its monitors end with it
//! (their watcher exited), and when its supervisor starts it again, `init`
//! monitors every subscription anew. A subscriber that exited in between
//! gets a DOWN at once (`NoProcess`) and is removed then.
//!
//! DOWNs reach it through its system lane, which holds at most its
//! mailbox's capacity of them (`RouterOptions::mailbox_capacity`). A burst
//! of exits beyond that has some DOWNs dead-lettered by the mailbox; the
//! process notices from its mailbox's drop counter, while it still has
//! DOWNs queued from the same burst, and sweeps the whole table for
//! subscribers that have exited.

use std::{convert::Infallible, fmt, sync::Arc};

use foundation_mailbox::{Actor, Context, DeadLetter, DeadLetterSink, SystemMessage};

use crate::shared::Shared;

/// The router process's dead-letter sink. What lands there is a DOWN its
/// lane had no room for, which the process recovers from with a sweep; so
/// it is noted at `debug`, not warned about once per subscriber.
#[derive(Debug)]
pub(crate) struct DroppedDowns;

impl DeadLetterSink for DroppedDowns {
    fn dead_letter(&self, letter: DeadLetter) {
        tracing::debug!(target: "foundation::signal_router", kind = ?letter.kind, reason = %letter.reason, "the router process's mailbox dropped a message; a sweep will catch up");
    }
}

pub(crate) struct Janitor<M> {
    shared: Arc<Shared<M>>,
    /// The mailbox's drop count when last looked at.
    dropped_seen: u64,
}

impl<M> fmt::Debug for Janitor<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Janitor").finish_non_exhaustive()
    }
}

impl<M: Send + 'static> Actor for Janitor<M> {
    type Args = Arc<Shared<M>>;
    type Msg = ();
    type Error = Infallible;

    async fn init(shared: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        let replaced = shared.attach(ctx.myself().process_ref());
        tracing::debug!(target: "foundation::signal_router", pid = %ctx.pid(), monitored = replaced.len(), "router process started; subscribers monitored");
        // The old monitors' watcher has exited, so they are already out of
        // the registry; dropping them here, outside the table's lock, ends them.
        drop(replaced);
        Ok(Janitor {
            shared,
            dropped_seen: ctx.myself().mailbox_stats().dropped,
        })
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        let SystemMessage::Down(down) = message else {
            return Ok(());
        };
        if let Some(removed) = self.shared.remove_by_monitor(down.reference) {
            tracing::debug!(target: "foundation::signal_router", subscriber = %down.pid, reason = %down.reason, "subscriber exited; subscription removed");
            drop(removed);
        }
        let dropped = ctx.myself().mailbox_stats().dropped;
        if dropped > self.dropped_seen {
            self.dropped_seen = dropped;
            let removed = self.shared.sweep();
            tracing::info!(target: "foundation::signal_router", removed = removed.len(), "the router process's mailbox dropped DOWNs in a burst of exits; swept the exited subscribers");
        }
        Ok(())
    }
}
