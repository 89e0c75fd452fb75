//! One attempt of a send: putting a message in a recipient's mailbox within
//! a bound, and in ack mode waiting for its acknowledgement.

use std::{
    future::{Future, poll_fn},
    pin::Pin,
    task::Poll,
    time::Duration,
};

use foundation_mailbox::{ExitReason, Exited, Recipient, Reply, ReplyError, SendError};
use tokio::time::{Instant, error::Elapsed, timeout_at};

use crate::{Acked, DeliveryId, Failure, Receipt, clock::Until, target::Direct};

/// How an attempt reports a failure: why, and the message back when it was
/// not delivered.
pub(crate) type Attempted<M> = Result<(), (Failure, M)>;

/// Puts `message` in `recipient`'s mailbox, waiting for room until
/// `until` (fixed only if it has to wait). `exited` is the failure to report when the recipient has
/// exited. Cancel-safe: dropped while waiting for room, the message is
/// withdrawn (and dropped with this future).
pub(crate) async fn deliver<M: Send + 'static>(
    recipient: &Recipient<M>,
    direct: Option<&dyn Direct<M>>,
    message: M,
    until: &mut Until<'_>,
    exited: impl FnOnce() -> Failure,
) -> Attempted<M> {
    let first = match direct {
        Some(direct) => direct.try_send(message),
        None => recipient.try_send(message),
    };
    let message = match first {
        Ok(()) => return Ok(()),
        Err(SendError::NoProcess(message)) => return Err((exited(), message)),
        Err(SendError::Full(message)) => message,
    };
    let mut send = recipient.send(message);
    match bounded(until, &mut send).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(SendError::NoProcess(message))) => Err((exited(), message)),
        Ok(Err(SendError::Full(message))) => Err((Failure::Full, message)),
        Err(_elapsed) => match send.withdraw() {
            Some(message) => Err((Failure::Timeout, message)),
            // Room came as the deadline passed: it was queued.
            None => Ok(()),
        },
    }
}

/// Delivers `message` (the caller's copy; the original stays with it for
/// the next attempt or the dead letter) wrapped in an [`Acked`] with id
/// `id` and waits until `until` for its receipt. Cancel-safe: dropped
/// while waiting for room the copy is withdrawn; dropped after delivery
/// the copy stays queued and will be handled, its receipt unheard.
pub(crate) async fn deliver_acked<M: Send + 'static>(
    recipient: &Recipient<Acked<M>>,
    direct: Option<&dyn Direct<Acked<M>>>,
    message: M,
    id: DeliveryId,
    until: &mut Until<'_>,
    exited: impl FnOnce() -> Failure,
) -> Result<Receipt, Failure> {
    let (port, mut answer) = Reply::pair();
    let acked = Acked { message, id, port };
    if let Err((failure, _copy)) = deliver(recipient, direct, acked, until, exited).await {
        return Err(failure);
    }
    // Most receipts come within a scheduler turn: look for one before
    // arming a timer or registering with the recipient's exit.
    yield_once().await;
    if let Poll::Ready(answer) = poll_once(&mut answer).await {
        return settle(Some(Ok(answer)), until, recipient, None).await;
    }
    // Most of the rest come within a short grace, which a timer alone
    // bounds, as a call's wait is.
    let end = until.get();
    let grace = Instant::now()
        .checked_add(EXIT_WATCH_AFTER)
        .map_or(end, |grace| grace.min(end));
    if let Ok(answer) = timeout_at(grace, &mut answer).await {
        return settle(Some(Ok(answer)), until, recipient, None).await;
    }
    if grace >= end {
        return settle(None, until, recipient, None).await;
    }
    // Then wait for the receipt or for the recipient's exit: a message
    // queued at an exit goes to the dead-letter sink, which may keep it (and
    // its port) for good. The receipt is looked at first, so one sent just
    // before the exit counts.
    let process = recipient.process_ref();
    let mut exit = process.exited();
    let waited = timeout_at(
        end,
        poll_fn(|cx| {
            if let Poll::Ready(answer) = Pin::new(&mut answer).poll(cx) {
                return Poll::Ready(Ok(answer));
            }
            Pin::new(&mut exit).poll(cx).map(Err)
        }),
    )
    .await;
    settle(waited.ok(), until, recipient, Some(exit)).await
}

/// How long ack mode waits for a receipt with a timer alone before it also
/// watches the recipient's exit (a lock to register and one to leave): a
/// recipient whose queued copy went to a dead-letter queue that keeps it is
/// noticed this much later, and a fast handler costs no more than a call.
const EXIT_WATCH_AFTER: Duration = Duration::from_millis(1);

/// What a wait for a receipt came to.
async fn settle<M: Send + 'static>(
    waited: Option<Result<Result<Receipt, ReplyError>, ExitReason>>,
    until: &mut Until<'_>,
    recipient: &Recipient<M>,
    exit: Option<Exited>,
) -> Result<Receipt, Failure> {
    match waited {
        Some(Ok(Ok(receipt))) => match receipt {
            Receipt::Stale => Err(Failure::Stale),
            receipt => Ok(receipt),
        },
        Some(Ok(Err(ReplyError::NoReply))) => Err(Failure::NoAck),
        Some(Ok(Err(ReplyError::Dropped))) => Err(Failure::Full),
        Some(Ok(Err(ReplyError::Exiting))) => {
            let exit = exit.unwrap_or_else(|| recipient.process_ref().exited());
            match timeout_at(until.get(), exit).await {
                Ok(reason) => Err(Failure::Exited(reason)),
                Err(_elapsed) => Err(Failure::Timeout),
            }
        }
        Some(Err(reason)) => Err(Failure::Exited(reason)),
        None => Err(Failure::Timeout),
    }
}

/// Waits for `future` until `until`, arming the timer only if a first poll,
/// and another after one scheduler turn, found it pending.
async fn bounded<F: Future + Unpin>(
    until: &mut Until<'_>,
    mut future: F,
) -> Result<F::Output, Elapsed> {
    if let Poll::Ready(output) = poll_once(&mut future).await {
        return Ok(output);
    }
    yield_once().await;
    if let Poll::Ready(output) = poll_once(&mut future).await {
        return Ok(output);
    }
    timeout_at(until.get(), future).await
}

/// Polls `future` once and reports what it said.
fn poll_once<F: Future + Unpin>(future: &mut F) -> impl Future<Output = Poll<F::Output>> + '_ {
    poll_fn(move |cx| Poll::Ready(Pin::new(&mut *future).poll(cx)))
}

/// Gives the runtime one turn: the task is woken at once, behind the tasks
/// already ready to run (the recipient a send just woke, say).
fn yield_once() -> impl Future<Output = ()> {
    let mut yielded = false;
    poll_fn(move |cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
}
