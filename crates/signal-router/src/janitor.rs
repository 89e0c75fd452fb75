//! The router process: it holds the monitors of the subscribers and removes those that exit.
//!
//! It owns no subscription. The table lives in the router's shared state,
//! so a crash of this process loses nothing; its monitors end with it
//! (their watcher exited), and when its supervisor starts it again, `init`
//! monitors every subscription anew. A subscriber that exited in between
//! gets a DOWN at once (`NoProcess`) and is removed then.

use std::{convert::Infallible, fmt, sync::Arc};

use foundation_mailbox::{Actor, Context, SystemMessage};

use crate::shared::Shared;

pub(crate) struct Janitor<M> {
    shared: Arc<Shared<M>>,
}

impl<M> fmt::Debug for Janitor<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Janitor").finish_non_exhaustive()
    }
}

impl<M: Send + 'static> Actor for Janitor<M> {
    type Args = Arc<Shared<M>>;
    type Cast = ();
    type Call = ();
    type Reply = ();
    type Error = Infallible;

    async fn init(shared: Self::Args, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        let replaced = shared.attach(ctx.myself().process_ref());
        tracing::debug!(target: "foundation::signal_router", pid = %ctx.pid(), monitored = replaced.len(), "router process started; subscribers monitored");
        // The old monitors' watcher has exited, so they are already out of
        // the registry; dropping them here, outside the table's lock, ends them.
        drop(replaced);
        Ok(Janitor { shared })
    }

    async fn handle_cast(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn handle_call(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        if let SystemMessage::Down(down) = message
            && let Some(removed) = self.shared.remove_by_monitor(down.reference)
        {
            tracing::debug!(target: "foundation::signal_router", subscriber = %down.pid, reason = %down.reason, "subscriber exited; subscription removed");
            drop(removed);
        }
        Ok(())
    }
}
