//! [`ManualTime`]: a time that moves only when a test advances it, installed per runtime.
//!
//! The time is a count of nanoseconds since an origin instant. Advancing it
//! does its work before it returns, on the caller's thread: every timer of
//! every runtime it is installed on whose deadline is now passed is handed
//! to its process (the tick is in the process's system lane), and every
//! wait whose deadline is passed is woken. A test that advanced the time
//! can therefore wait for the effect (a reply, a probe message) at once,
//! with no sleep and no race against a timer task.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, Weak,
        atomic::{AtomicU64, Ordering},
    },
    task::{Context, Poll, Waker},
    time::Duration,
};

use super::{Clock, Instant};
use crate::{error::InstallError, timer::TimerService};

/// A time source that moves only when a test says so, for the timers and
/// timeouts of the runtimes it is installed on.
///
/// Install it on a runtime with [`install`](Self::install) before any actor
/// starts there; from then on that runtime's timers, intervals and bounded
/// waits (call, stop and shutdown timeouts) follow this time instead of
/// tokio's clock, on a multi-thread runtime as on a current-thread one.
/// [`advance`](Self::advance) moves it. Clones share the same time, and one
/// time may be installed on several runtimes.
///
/// `foundation_testkit::ManualClock` wraps one, so the same `advance` also
/// moves the rate limiter, circuit breaker and dead-letter clocks; tests
/// normally use that.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::time::ManualTime;
///
/// let manual = ManualTime::new();
/// manual.advance(Duration::from_millis(1500));
/// assert_eq!(manual.elapsed(), Duration::from_millis(1500));
/// ```
#[derive(Clone)]
pub struct ManualTime {
    shared: Arc<ManualShared>,
}

/// What the clones of one manual time share.
pub(crate) struct ManualShared {
    origin: Instant,
    nanos: AtomicU64,
    /// Plain std locks: nothing of the process core's models runs under
    /// them, and no user code does.
    wheels: Mutex<Wheels>,
}

#[derive(Default)]
struct Wheels {
    /// The timer services of the runtimes this time is installed on.
    services: Vec<Weak<TimerService>>,
    /// Waits (timeouts, sleeps) not yet over, by key.
    sleepers: HashMap<u64, (Instant, Waker)>,
    next_sleeper: u64,
}

impl ManualTime {
    /// A manual time at zero.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(ManualShared {
                origin: Instant::now(),
                nanos: AtomicU64::new(0),
                wheels: Mutex::new(Wheels::default()),
            }),
        }
    }

    /// Makes this time the clock of `runtime`'s processes: their timers and
    /// bounded waits follow it from now on.
    ///
    /// # Errors
    ///
    /// [`InstallError::AlreadyStarted`] if a process was already started
    /// on `runtime` (its timers would mix two clocks),
    /// [`InstallError::AlreadyInstalled`] if `runtime` already has a manual
    /// time, [`InstallError::ShutDown`] if `runtime` has shut down.
    ///
    /// ```
    /// use foundation::mailbox::time::{InstallError, ManualTime};
    ///
    /// let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// ManualTime::new().install(runtime.handle()).unwrap();
    /// assert_eq!(ManualTime::new().install(runtime.handle()), Err(InstallError::AlreadyInstalled));
    /// ```
    pub fn install(&self, runtime: &tokio::runtime::Handle) -> Result<(), InstallError> {
        #[cfg(not(foundation_loom))]
        {
            crate::host::Host::install_clock(runtime, Clock::Manual(Arc::clone(&self.shared)))
        }
        #[cfg(foundation_loom)]
        {
            let _ = runtime;
            Err(InstallError::ShutDown)
        }
    }

    /// Moves the time forward by `by`, saturating about 584 years after its
    /// start. Before it returns, every timer now due on the runtimes this
    /// time is installed on has been handed to its process, and every wait
    /// now past its deadline has been woken.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // A closure that always returns `Some` makes `fetch_update` infallible.
        let _previous =
            self.shared
                .nanos
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                    Some(now.saturating_add(by))
                });
        self.shared.fire_due();
    }

    /// Sets the time since the start to `elapsed`, then does what
    /// [`advance`](Self::advance) does. The time never goes backwards: an
    /// earlier time is ignored.
    pub fn set_elapsed(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.shared.nanos.fetch_max(nanos, Ordering::AcqRel);
        self.shared.fire_due();
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.shared.nanos())
    }

    /// The time now, as the runtimes this time is installed on read it.
    pub fn now(&self) -> Instant {
        self.shared.now()
    }
}

impl Default for ManualTime {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ManualTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualTime")
            .field("elapsed", &self.elapsed())
            .finish()
    }
}

impl fmt::Debug for ManualShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualShared")
            .field("elapsed", &Duration::from_nanos(self.nanos()))
            .finish_non_exhaustive()
    }
}

impl ManualShared {
    fn nanos(&self) -> u64 {
        self.nanos.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Wheels> {
        self.wheels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn now(&self) -> Instant {
        self.origin + Duration::from_nanos(self.nanos())
    }

    /// Fires `service`'s due timers when this time advances.
    pub(crate) fn attach(&self, service: &Arc<TimerService>) {
        self.lock().services.push(Arc::downgrade(service));
    }

    /// Hands every due timer to its process and wakes every wait past its
    /// deadline. Called after the time moved.
    fn fire_due(&self) {
        let (services, woken) = {
            let mut wheels = self.lock();
            wheels
                .services
                .retain(|service| service.upgrade().is_some_and(|s| !s.is_closed()));
            let services: Vec<_> = wheels.services.iter().filter_map(Weak::upgrade).collect();
            // Read under the lock: a wait that registers after this read
            // sees the new time itself (it checks under the same lock).
            let now = self.now();
            let mut woken = Vec::new();
            wheels.sleepers.retain(|_, (deadline, waker)| {
                if *deadline <= now {
                    woken.push(waker.clone());
                    false
                } else {
                    true
                }
            });
            (services, woken)
        };
        // Outside the lock: a tick may drop a process's last reference.
        let now = self.now();
        for service in services {
            service.fire_due(now);
        }
        for waker in woken {
            waker.wake();
        }
    }

    /// A future that ends when this time reaches `deadline`.
    pub(crate) fn sleep_until(self: &Arc<Self>, deadline: Instant) -> ManualSleep {
        ManualSleep {
            time: Arc::clone(self),
            deadline,
            key: None,
        }
    }
}

/// A wait until a manual deadline; forgets itself when dropped.
pub(crate) struct ManualSleep {
    time: Arc<ManualShared>,
    deadline: Instant,
    key: Option<u64>,
}

impl Future for ManualSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut wheels = this.time.lock();
        if this.time.now() >= this.deadline {
            if let Some(key) = this.key.take() {
                wheels.sleepers.remove(&key);
            }
            return Poll::Ready(());
        }
        let key = *this.key.get_or_insert_with(|| {
            let key = wheels.next_sleeper;
            wheels.next_sleeper += 1;
            key
        });
        wheels
            .sleepers
            .insert(key, (this.deadline, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let removed = self.time.lock().sleepers.remove(&key);
            drop(removed);
        }
    }
}
