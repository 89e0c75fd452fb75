//! [`wait_for`] and [`wait_for_notified`]: wait until a condition holds, bounded, without a sleep in the test.

use std::time::Duration;

use tokio::{sync::Notify, time::Instant};

use crate::WaitError;

/// The first pause between two checks; it doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_micros(100);
/// The longest pause between two checks, so a condition that becomes true is
/// seen within this much (real) time.
const MAX_PAUSE: Duration = Duration::from_millis(5);

/// Waits until `condition` holds, checking it on tokio's clock (at first
/// often, then every few milliseconds), for at most `within`.
///
/// For state that no notifier announces (a counter, a registry's size).
/// Under tokio's paused time the pauses between checks cost no wall time,
/// and the wait ends deterministically at the bound. When the code under
/// test can signal a change, [`wait_for_notified`] wakes on the signal
/// instead of polling.
///
/// Cancel-safe: dropping the future only stops the checks.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicBool, Ordering}};
/// use std::time::Duration;
/// use foundation::testkit::wait_for;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let ready = Arc::new(AtomicBool::new(false));
/// assert!(wait_for(|| ready.load(Ordering::Acquire), Duration::from_millis(50)).await.is_err());
/// ready.store(true, Ordering::Release);
/// wait_for(|| ready.load(Ordering::Acquire), Duration::from_millis(50)).await.unwrap();
/// # }
/// ```
pub async fn wait_for(
    mut condition: impl FnMut() -> bool,
    within: Duration,
) -> Result<(), WaitError> {
    let deadline = Instant::now() + within;
    let mut pause = FIRST_PAUSE;
    let mut checks = 0;
    loop {
        checks += 1;
        if condition() {
            return Ok(());
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(WaitError { within, checks });
        }
        // A pause between checks of a condition nobody announces; bounded
        // by the deadline, so the last check happens at the bound.
        tokio::time::sleep_until(deadline.min(now + pause)).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Waits until `condition` holds, checking it once now and again each time
/// `changed` is notified, for at most `within`.
///
/// The code under test (or a test double) calls
/// [`Notify::notify_waiters`] after each change; the wait never polls. A
/// notification that comes between the check and the wait is not lost: the
/// wait registers for it before checking.
///
/// Cancel-safe: dropping the future only stops the checks.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
/// use std::time::Duration;
/// use tokio::sync::Notify;
/// use foundation::testkit::wait_for_notified;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let count = Arc::new(AtomicU32::new(0));
/// let changed = Arc::new(Notify::new());
/// let (count2, changed2) = (count.clone(), changed.clone());
/// let bump = async move {
///     for _ in 0..3 {
///         count2.fetch_add(1, Ordering::AcqRel);
///         changed2.notify_waiters();
///         tokio::task::yield_now().await;
///     }
/// };
/// let wait = wait_for_notified(&changed, || count.load(Ordering::Acquire) == 3, Duration::from_secs(5));
/// let ((), waited) = tokio::join!(bump, wait);
/// waited.unwrap();
/// # }
/// ```
pub async fn wait_for_notified(
    changed: &Notify,
    mut condition: impl FnMut() -> bool,
    within: Duration,
) -> Result<(), WaitError> {
    let deadline = Instant::now() + within;
    let mut checks = 0;
    loop {
        let notified = changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        checks += 1;
        if condition() {
            return Ok(());
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            checks += 1;
            return if condition() {
                Ok(())
            } else {
                Err(WaitError { within, checks })
            };
        }
    }
}
