//! One run of a job: its tick's messages sent through supervised send, in
//! a task of the scheduler's own, behind the job's [`Gate`], so a cancel
//! stops the run and nothing of the job is delivered once it returns.

use std::{future::Future, panic::AssertUnwindSafe, pin::pin};

use futures::FutureExt;

use foundation_mailbox::ActorRef;
use foundation_supervised_send::SendOptions;

use crate::{
    Payload,
    actor::{Command, SchedulerActor},
    config::Deliver,
    sync::{Arc, AtomicBool, Ordering},
    table::Handle,
};

/// What stands between a job's runs and its cancel.
///
/// A run holds the read side for as long as it sends and watches
/// `cancelled`; a cancel marks the gate closed, wakes the runs (which drop
/// their send: a message still waiting for room is withdrawn, never
/// queued) and takes the write side, which it gets only once every run has
/// let go. A run that reaches the gate after that finds it closed and sends
/// nothing. So when [`close`](Self::close) returns, no message of the job
/// is in flight and none will be sent: a tick already taken from the heap,
/// or already waiting in a backoff, is dropped.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    open: tokio::sync::RwLock<()>,
    closed: AtomicBool,
    cancelled: tokio::sync::Notify,
}

impl Gate {
    /// Runs `send` unless the gate is closed or closes meanwhile; `None`
    /// if it did not run to its end.
    pub(crate) async fn guarded<T>(&self, send: impl Future<Output = T>) -> Option<T> {
        // Registered before the check, so a close between the check and the
        // send still wakes this run.
        let mut cancelled = pin!(self.cancelled.notified());
        cancelled.as_mut().enable();
        let _open = self.open.read().await;
        if self.closed.load(Ordering::SeqCst) {
            return None;
        }
        tokio::select! {
            biased;
            () = cancelled => None,
            done = send => Some(done),
        }
    }

    /// Closes the gate and waits until no run is inside it.
    ///
    /// Cancel-safe: dropped early, the gate stays closed (no new send
    /// starts) and the runs inside still stop at their next poll.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.cancelled.notify_waiters();
        let _sole = self.open.write().await;
    }
}

/// What the run came to, for the scheduler's stats.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Outcome {
    pub(crate) delivered: u32,
    pub(crate) failed: u32,
    pub(crate) cancelled: bool,
}

/// Everything a run needs.
pub(crate) struct Run<M: Payload> {
    pub(crate) gate: Arc<Gate>,
    pub(crate) deliver: Arc<dyn Deliver<M>>,
    pub(crate) options: SendOptions,
    pub(crate) message: M,
    pub(crate) count: u32,
    pub(crate) scheduler: ActorRef<SchedulerActor<M>>,
    pub(crate) handle: Handle,
}

impl<M> Run<M>
where
    M: Payload,
{
    /// Sends the run's messages one after the other, then tells the
    /// scheduler the run finished.
    pub(crate) async fn go(self) {
        let Run {
            gate,
            deliver,
            options,
            message,
            count,
            scheduler,
            handle,
        } = self;
        let mut outcome = Outcome::default();
        // User code runs here (the message's `Clone`, a target's resolver):
        // a panic ends the run, counted failed, and is still reported, so
        // the job is not left "still going" for ever.
        let sends = AssertUnwindSafe(async {
            for _ in 0..count {
                if deliver.deliver(message.clone(), &options).await {
                    outcome.delivered += 1;
                } else {
                    outcome.failed += 1;
                }
            }
        })
        .catch_unwind();
        match gate.guarded(sends).await {
            None => outcome.cancelled = true,
            Some(Ok(())) => {}
            Some(Err(_panic)) => {
                tracing::error!(target: crate::TARGET, "a scheduled delivery panicked; counted failed");
                outcome.failed = count - outcome.delivered;
            }
        }
        drop(gate);
        if scheduler
            .cast(Command::finished(handle, outcome))
            .await
            .is_err()
        {
            tracing::trace!(target: crate::TARGET, "the scheduler exited before its run finished");
        }
    }
}
