//! The time a runtime's processes see: tokio's clock, or a manual time a test installed on that runtime.
//!
//! Every runtime reads tokio's clock unless a test installed a
//! [`ManualTime`] on it before any actor started there. With manual time,
//! the runtime's timers ([`Context::send_after`](crate::Context::send_after),
//! intervals) fire only when the test moves the time past their deadline,
//! and every bounded wait of the process core (call timeouts, stop and
//! shutdown timeouts, waits for room in a mailbox) expires only when the
//! time is moved past it. tokio's own paused time does this only on a
//! current-thread runtime; a manual time works on a multi-thread one.
//!
//! A wait is measured on the clock of the runtime the *waiting* task runs
//! on; a timer on the clock of the runtime its actor runs on. A manual time
//! installed on one runtime changes nothing on another.
//!
//! Crates built on the mailbox (a scheduler, say) read the same time
//! through [`now`] and [`sleep_until`], so a test that installs a manual
//! time drives them too.
//!
//! ```
//! use std::time::Duration;
//! use foundation::mailbox::time::{self, ManualTime};
//!
//! let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! let manual = ManualTime::new();
//! manual.install(runtime.handle()).unwrap();
//! runtime.block_on(async {
//!     let start = time::now();
//!     manual.advance(Duration::from_secs(5));
//!     assert_eq!(time::now() - start, Duration::from_secs(5));
//!     // Already passed: returns at once, without any wall-clock wait.
//!     time::sleep_until(start + Duration::from_secs(5)).await;
//! });
//! ```

// Loom models do not model time: under loom no manual time can be
// installed, and what only manual time uses is left unused.
#![cfg_attr(foundation_loom, allow(dead_code, unused_imports))]

use std::{
    future::Future,
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

pub use tokio::time::Instant;

pub(crate) use self::manual::ManualShared;
pub use self::manual::ManualTime;
pub use crate::error::InstallError;

mod manual;

/// Set once any manual time has been installed in this process. Until then
/// (always, outside tests) finding the current runtime's clock is one
/// relaxed load, and only on the paths that arm a timer anyway.
// A plain std atomic, not the loom shim: it is a one-way switch no model checks.
static ANY_MANUAL: AtomicBool = AtomicBool::new(false);

/// The clock of one runtime.
#[derive(Clone, Debug, Default)]
pub(crate) enum Clock {
    /// tokio's clock (paused time included).
    #[default]
    Tokio,
    /// A manual time a test installed on the runtime.
    Manual(Arc<ManualShared>),
}

impl Clock {
    /// The clock of the runtime the caller runs on: tokio's unless a manual
    /// time was installed there.
    pub(crate) fn current() -> Clock {
        if !ANY_MANUAL.load(Ordering::Relaxed) {
            return Clock::Tokio;
        }
        Self::current_installed()
    }

    #[cold]
    #[cfg(not(foundation_loom))]
    fn current_installed() -> Clock {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return Clock::Tokio;
        };
        crate::host::Host::clock_of(handle.id()).unwrap_or_default()
    }

    #[cfg(foundation_loom)]
    fn current_installed() -> Clock {
        Clock::Tokio
    }

    /// The time now on this clock.
    pub(crate) fn now(&self) -> Instant {
        match self {
            Clock::Tokio => Instant::now(),
            Clock::Manual(manual) => manual.now(),
        }
    }

    /// Waits until `deadline` on this clock.
    pub(crate) async fn sleep_until(&self, deadline: Instant) {
        match self {
            Clock::Tokio => tokio::time::sleep_until(deadline).await,
            Clock::Manual(manual) => manual.sleep_until(deadline).await,
        }
    }

    /// Waits for `future`, at most until `deadline` on this clock; `None`
    /// if the deadline came first.
    pub(crate) async fn timeout_at<F: Future>(
        &self,
        deadline: Instant,
        future: F,
    ) -> Option<F::Output> {
        match self {
            Clock::Tokio => tokio::time::timeout_at(deadline, future).await.ok(),
            Clock::Manual(manual) => {
                let mut future = pin!(future);
                let mut expired = pin!(manual.sleep_until(deadline));
                // The future first: a wait that ended as the deadline passed
                // reports its result, as tokio's timeout does.
                std::future::poll_fn(|cx| {
                    if let std::task::Poll::Ready(output) = future.as_mut().poll(cx) {
                        return std::task::Poll::Ready(Some(output));
                    }
                    expired.as_mut().poll(cx).map(|()| None)
                })
                .await
            }
        }
    }
}

/// Marks that a manual time exists, so [`Clock::current`] looks for one.
pub(crate) fn note_manual_installed() {
    ANY_MANUAL.store(true, Ordering::Relaxed);
}

/// The time now on the clock of the runtime the caller runs on: tokio's
/// [`Instant::now`], or the manual time a test installed on the runtime.
///
/// Outside a runtime it is tokio's clock.
///
/// ```
/// use foundation::mailbox::time;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let start = time::now();
/// assert!(time::now() >= start);
/// # }
/// ```
pub fn now() -> Instant {
    Clock::current().now()
}

/// Waits until `deadline` on the clock of the runtime the caller runs on:
/// tokio's, or the manual time a test installed there, which ends the wait
/// only when the test moves the time to `deadline` or past it.
///
/// The clock is found when the returned future is first polled.
///
/// Cancel-safe: dropping the future forgets the wait.
///
/// # Panics
///
/// On tokio's clock, outside a tokio runtime with the time driver enabled,
/// as [`tokio::time::sleep_until`] does.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::time;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let deadline = time::now() + Duration::from_millis(10);
/// time::sleep_until(deadline).await;
/// assert!(time::now() >= deadline);
/// # }
/// ```
pub async fn sleep_until(deadline: Instant) {
    Clock::current().sleep_until(deadline).await;
}

#[cfg(all(test, not(foundation_loom)))]
mod tests;
