//! Passivation's other half: the coordinator's one waker, which holds the
//! wake-up time of every passivated workflow as an actor timer and starts
//! its process again when it comes due. A passivated workflow costs a timer
//! entry here and its record in the store; no process, no task.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{Actor, Context};
use foundation_supervisor::DynamicSupervisorRef;

use crate::coordinator::Inner;

/// What the waker is sent.
#[derive(Debug)]
pub(crate) enum WakerMsg {
    /// Start workflow `id`'s process after `delay`.
    WakeAfter(String, Duration),
    /// Start workflow `id`'s process now, unless it runs.
    Wake(String),
}

/// The coordinator's waker process.
#[derive(Debug)]
pub(crate) struct Waker {
    inner: Arc<Inner>,
    workflows: DynamicSupervisorRef<(Arc<Inner>, String)>,
}

impl Actor for Waker {
    type Args = (Arc<Inner>, DynamicSupervisorRef<(Arc<Inner>, String)>);
    type Msg = WakerMsg;
    type Error = std::convert::Infallible;

    async fn init(
        (inner, workflows): Self::Args,
        _: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        Ok(Self { inner, workflows })
    }

    async fn handle(&mut self, msg: WakerMsg, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match msg {
            // Keyed by id: a second wake-up for one workflow replaces the first.
            WakerMsg::WakeAfter(id, delay) => ctx.send_after(id.clone(), delay, WakerMsg::Wake(id)),
            WakerMsg::Wake(id) => {
                if self.inner.names.whereis(&id).is_none()
                    && let Err(error) = self
                        .workflows
                        .start_child((Arc::clone(&self.inner), id.clone()))
                        .await
                {
                    tracing::error!(target: "foundation::coordinator", %id, %error, "a passivated workflow could not be woken; a coordinator started later resumes it");
                }
            }
        }
        Ok(())
    }
}
