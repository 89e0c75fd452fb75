//! Bounded waits that arm a timer only when they have to.
//!
//! Every wait in Foundation has a deadline, but most waits end within a
//! scheduler turn: the callee replies, `init` returns, the actor exits.
//! Arming a tokio timer costs a locked insert into the timer wheel and a
//! locked removal, more than the rest of a call on one thread. [`Budget`]
//! polls the wait, lets the runtime run other tasks once, polls again, and
//! only then arms the timer. The deadline is fixed when the wait first has
//! to block, one scheduler turn after it began at most.
//! The wait is bounded on every path; only the bookkeeping is lazy.
//!
//! The deadline is measured on the clock of the runtime the waiting task
//! runs on ([`Clock::current`]): tokio's, or a manual time a test
//! installed there. That clock is found only when the wait has to block,
//! so a wait that ends within its first turn never looks for it.

use std::{
    future::Future,
    pin::{Pin, pin},
    task::{Context, Poll},
    time::Duration,
};

use tokio::time::Instant;

#[cfg(not(foundation_loom))]
use crate::time::Clock;

/// The deadline passed before the wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// A timeout whose deadline is fixed the first time it is needed and shared
/// by every wait made under it (a call's wait for room and for its reply).
#[derive(Debug)]
// Loom models do not model time, so under loom the deadline is never read.
#[cfg_attr(foundation_loom, allow(dead_code))]
pub(crate) struct Budget {
    timeout: Duration,
    deadline: Option<Instant>,
}

impl Budget {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            deadline: None,
        }
    }

    #[cfg(not(foundation_loom))]
    fn deadline(&mut self, clock: &Clock) -> Instant {
        let timeout = self.timeout;
        *self.deadline.get_or_insert_with(|| {
            // `Duration::MAX` is how callers say "no limit" (a supervisor's
            // `Shutdown::Infinity`): clamp it to a deadline decades away
            // rather than overflow `Instant`.
            let now = clock.now();
            now.checked_add(timeout)
                .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
        })
    }

    /// Waits for `future`, at most until the deadline.
    pub(crate) async fn wait<F: Future>(&mut self, future: F) -> Result<F::Output, Elapsed> {
        let mut future = pin!(future);
        if let Poll::Ready(output) = PollOnce(future.as_mut()).await {
            return Ok(output);
        }
        self.wait_after_sending(future, false).await
    }

    /// Like [`wait`](Self::wait), for a wait that cannot be over yet because
    /// its cause was just sent (a request, a stop): yields first, so a
    /// callee on the same thread can finish before anything registers;
    /// unless `handled` (the callee ran in the sender's poll), when the
    /// answer may be there already.
    pub(crate) async fn wait_after_sending<F: Future>(
        &mut self,
        future: F,
        handled: bool,
    ) -> Result<F::Output, Elapsed> {
        YieldOnce(handled).await;
        let mut future = pin!(future);
        if let Poll::Ready(output) = PollOnce(future.as_mut()).await {
            return Ok(output);
        }
        self.until_deadline(future).await
    }

    #[cfg(not(foundation_loom))]
    async fn until_deadline<F: Future>(&mut self, future: F) -> Result<F::Output, Elapsed> {
        let clock = Clock::current();
        let deadline = self.deadline(&clock);
        match clock {
            // The default path, as it was before manual time: tokio's timer.
            Clock::Tokio => tokio::time::timeout_at(deadline, future)
                .await
                .map_err(|_| Elapsed),
            Clock::Manual(_) => clock.timeout_at(deadline, future).await.ok_or(Elapsed),
        }
    }

    /// Loom models do not model time: a wait there lasts until its future
    /// ends, and one that never would is reported by loom as a deadlock.
    #[cfg(foundation_loom)]
    async fn until_deadline<F: Future>(&mut self, future: F) -> Result<F::Output, Elapsed> {
        Ok(future.await)
    }
}

/// Polls `future` once and reports what it said.
pub(crate) fn poll_once<F: Future>(future: Pin<&mut F>) -> PollOnce<'_, F> {
    PollOnce(future)
}

/// Polls the inner future once and reports what it said.
pub(crate) struct PollOnce<'a, F>(Pin<&'a mut F>);

impl<F: Future> Future for PollOnce<'_, F> {
    type Output = Poll<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(self.0.as_mut().poll(cx))
    }
}

/// Gives the runtime one turn: the task is rescheduled at once, behind the
/// tasks already ready to run (the callee a send just woke, say).
#[derive(Debug)]
pub(crate) struct YieldOnce(bool);

impl YieldOnce {
    pub(crate) fn new() -> Self {
        Self(false)
    }
}

impl Future for YieldOnce {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
