//! The queue both durable journals (redb, PostgreSQL) share for group
//! commit: an append joins the queue, a commit task takes everything
//! queued into one transaction and answers each append, and the append
//! that started the task waits for it and reads its own answer.

use std::sync::{Mutex, PoisonError};

use tokio::{sync::oneshot, task::JoinHandle};

use crate::StoreError;

/// An append waiting for the next group commit.
pub(crate) struct PendingAppend {
    pub(crate) id: String,
    pub(crate) after: u64,
    pub(crate) events: Vec<Vec<u8>>,
    pub(crate) done: oneshot::Sender<Result<u64, StoreError>>,
}

/// Queues an append; its answer comes on the receiver.
pub(crate) fn queue(
    pending: &Mutex<Vec<PendingAppend>>,
    id: &str,
    after: u64,
    events: Vec<Vec<u8>>,
) -> oneshot::Receiver<Result<u64, StoreError>> {
    let (done, outcome) = oneshot::channel();
    pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(PendingAppend {
            id: id.to_owned(),
            after,
            events,
            done,
        });
    outcome
}

/// Takes everything queued, for one commit.
pub(crate) fn take_all(pending: &Mutex<Vec<PendingAppend>>) -> Vec<PendingAppend> {
    std::mem::take(&mut *pending.lock().unwrap_or_else(PoisonError::into_inner))
}

/// Waits for `committer`, the commit task this append started, then reads
/// the append's answer. When the task ends the append was committed: by
/// that task, or by the one that held the committer lock before it, which
/// answers before letting go; so nothing is left to wait for.
pub(crate) async fn answered(
    id: &str,
    committer: JoinHandle<()>,
    mut outcome: oneshot::Receiver<Result<u64, StoreError>>,
) -> Result<u64, StoreError> {
    if let Err(error) = committer.await {
        tracing::warn!(target: "foundation::persistence", id = %id, %error, "a journal commit task failed");
    }
    outcome.try_recv().unwrap_or_else(|_| {
        Err(StoreError::backend(
            id,
            "the append was abandoned: its commit ended without an answer",
        ))
    })
}
