//! Recovery reads of the redb journal, batched: the recoveries asked while one is being read are read next, together, in one read transaction.
//!
//! Starting 10,000 actors at once would otherwise hand 10,000 reads to
//! the blocking pool, which grows a thread for each that finds no idle
//! one. Here at most one reader task is scheduled at a time; it drains
//! the queue batch by batch, and lingers a moment ([`LINGER`]) for more
//! before it ends, so actors started one after another find it awake
//! instead of each paying for a new blocking task.

// std, not the `sync` shim: loom models the in-memory store, and cannot
// run redb's file I/O.
use std::{
    sync::{
        Arc, Condvar, Mutex, PoisonError, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use redb::Database;
use tokio::sync::oneshot;

use super::{EVENTS, HEADS, SNAPSHOTS, scan::Tables};
use crate::{
    Recovery, StoreError,
    redb_store::{Failures, Shared},
};

/// How long a recovery waits for its read before it is a
/// [`StoreError::Timeout`]: far beyond any healthy read, so it only ends
/// a wait on a reader that is stuck.
const PATIENCE: Duration = Duration::from_secs(120);
/// How long an idle reader waits for another recovery before it ends.
const LINGER: Duration = Duration::from_millis(1);

struct PendingRecover {
    id: String,
    done: oneshot::Sender<Result<Recovery, StoreError>>,
}

/// The recoveries waiting to be read, and whether a reader is scheduled.
#[derive(Default)]
pub(in crate::redb_store) struct RecoverQueue {
    pending: Mutex<Vec<PendingRecover>>,
    scheduled: AtomicBool,
    /// Wakes a lingering reader when a recovery is queued.
    queued: Condvar,
}

impl RecoverQueue {
    /// What is queued, waiting up to [`LINGER`] if nothing is.
    fn take(&self) -> Vec<PendingRecover> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.is_empty() {
            pending = self
                .queued
                .wait_timeout(pending, LINGER)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        std::mem::take(&mut *pending)
    }
}

/// Queues a recovery of `id`, makes sure a reader is scheduled, and waits
/// for the answer.
pub(super) async fn recover(shared: &Arc<Shared>, id: &str) -> Result<Recovery, StoreError> {
    let queue = &shared.appends.recoveries;
    let (done, outcome) = oneshot::channel();
    queue
        .pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(PendingRecover {
            id: id.to_owned(),
            done,
        });
    queue.queued.notify_one();
    if !queue.scheduled.swap(true, Ordering::SeqCst) {
        // The reader holds the store only while it reads a batch (see
        // `drain`), so a store dropped after its last recovery is closed.
        let weak = Arc::downgrade(shared);
        let queue = Arc::clone(queue);
        // audit:allow(FND001) the reader ends when the queue is empty; every recovery it serves waits for its answer with a timeout below
        drop(tokio::task::spawn_blocking(move || drain(&queue, &weak)));
    }
    match tokio::time::timeout(PATIENCE, outcome).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(StoreError::backend(
            id,
            "the recovery read was abandoned: its reader ended without an answer",
        )),
        Err(_) => Err(StoreError::Timeout {
            key: id.to_owned(),
            after: PATIENCE,
        }),
    }
}

/// Reads batch after batch until the queue is empty.
fn drain(queue: &RecoverQueue, weak: &Weak<Shared>) {
    loop {
        let batch = queue.take();
        if batch.is_empty() {
            queue.scheduled.store(false, Ordering::SeqCst);
            // A recovery queued after the take saw a reader scheduled and
            // scheduled none: take it on, unless another reader did.
            let queued = !queue
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .is_empty();
            if queued && !queue.scheduled.swap(true, Ordering::SeqCst) {
                continue;
            }
            return;
        }
        // Someone asked, so the store is alive unless the asker dropped
        // it meanwhile (then nobody waits for the answer).
        let Some(shared) = weak.upgrade() else {
            queue.scheduled.store(false, Ordering::SeqCst);
            return;
        };
        let key = batch[0].id.clone();
        let ids: Vec<&str> = batch.iter().map(|pending| pending.id.as_str()).collect();
        let outcome = shared.run(&key, |db, fail| read_batch(db, fail, &ids));
        // Answered only after the store is let go of, so a caller that
        // drops its store on the answer finds the file free.
        drop(shared);
        match outcome {
            Ok(results) => {
                for (pending, result) in batch.into_iter().zip(results) {
                    // A caller that gave up has nothing to be told.
                    let _unheard = pending.done.send(result);
                }
            }
            Err(error) => {
                for pending in batch {
                    let _unheard = pending.done.send(Err(error.clone()));
                }
            }
        }
    }
}

/// One read transaction for a batch, its three tables opened once. Each
/// recovery's errors are its own and name its id; one that means the
/// database must be reopened is passed on to the batch's `fail`.
pub(super) fn read_batch(
    db: &Database,
    fail: &Failures<'_>,
    ids: &[&str],
) -> Result<Vec<Result<Recovery, StoreError>>, StoreError> {
    let txn = db.begin_read().map_err(|error| fail.redb(error))?;
    let tables = Tables {
        snapshots: txn
            .open_table(SNAPSHOTS)
            .map_err(|error| fail.redb(error))?,
        heads: txn.open_table(HEADS).map_err(|error| fail.redb(error))?,
        events: txn.open_table(EVENTS).map_err(|error| fail.redb(error))?,
    };
    Ok(tables.recover_all(ids, fail))
}
