//! The host of every process on one runtime: its spawner, and the register
//! that ends those processes when the runtime shuts down.
//!
//! A dormant actor has no task, so a runtime that shuts down has nothing of
//! it to drop: without the register such an actor would look alive forever,
//! its monitors would never fire and the reply ports it kept would leave
//! their callers to time out. Each runtime that starts a process gets one
//! host and one small task, the *reaper*, which never wakes; the runtime
//! drops it when it shuts down, and its `Drop` kills every process the
//! register still holds. Processes that had a task are killed twice, which
//! is harmless: exactly one kill or exit wins.
//!
//! The register keeps a weak reference per process, and a process takes its
//! entry out when its cell is freed, so the register holds what is alive,
//! not what ever ran. Plain std locks, not the loom shim: the register is not part
//! of any model (the kill it performs is), and no user code runs under its
//! lock.

// Under loom each process has a host of its own and no reaper task runs:
// the models call `reap` themselves, and other crates' models never do.
#![cfg_attr(foundation_loom, allow(dead_code))]

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use crate::{
    Actor, ExitReason,
    process::Process,
    sync::{RuntimeId, Spawner, current_spawner},
    time::Clock,
    timer::TimerService,
};

/// Where a process sits in its host's register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Place(u32);

impl Place {
    /// Not in the register: the runtime had shut down.
    pub(crate) const NOWHERE: Place = Place(u32::MAX);
}

/// The processes of one runtime, and how to reach that runtime.
pub(crate) struct Host {
    spawner: Spawner,
    id: RuntimeId,
    /// Set once the runtime has dropped the reaper: nothing runs here any more.
    closed: AtomicBool,
    register: Mutex<Register>,
    timers: OnceLock<Arc<TimerService>>,
    /// The runtime's clock, fixed when the host is made: tokio's, or a
    /// manual time installed before any process started.
    clock: Clock,
}

impl fmt::Debug for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Host")
            .field("closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A weak reference per process, and the free places to reuse.
#[derive(Default)]
struct Register {
    entries: Vec<Option<Weak<dyn Reap>>>,
    free: Vec<u32>,
}

/// What the reaper does to a process.
trait Reap: Send + Sync {
    fn reap(&self);
}

impl<A: Actor> Reap for Process<A> {
    fn reap(&self) {
        self.kill(ExitReason::Killed);
    }
}

/// The hosts of the runtimes that started a process, found by runtime id.
#[cfg(not(foundation_loom))]
// audit:allow(FND002) one host per runtime must be found from any thread of it; hosts of runtimes that shut down are pruned on each lookup
static HOSTS: Mutex<Vec<Arc<Host>>> = Mutex::new(Vec::new());

#[cfg(not(foundation_loom))]
// audit:allow(FND002) a per-thread cache of the global list above, checked against the current runtime's id on every use
thread_local! {
    static CURRENT: std::cell::RefCell<Option<Arc<Host>>> = const { std::cell::RefCell::new(None) };
}

impl Host {
    /// The host of the runtime the caller runs on, made on first use; `None`
    /// outside a runtime, or on one that has shut down.
    #[cfg(not(foundation_loom))]
    pub(crate) fn current() -> Option<Arc<Host>> {
        let spawner = current_spawner()?;
        let id = crate::sync::runtime_id(&spawner);
        let cached = CURRENT.with_borrow(|cached| {
            cached
                .as_ref()
                .filter(|host| host.id == id && !host.is_closed())
                .map(Arc::clone)
        });
        if let Some(host) = cached {
            return Some(host);
        }
        let host = Self::find_or_make(spawner, id, Clock::Tokio).ok()?;
        CURRENT.with_borrow_mut(|cached| *cached = Some(Arc::clone(&host)));
        Some(host)
    }

    /// Under loom every process has a host of its own: a model's shutdown
    /// then ends its own processes, and no state outlives an iteration.
    #[cfg(foundation_loom)]
    pub(crate) fn current() -> Option<Arc<Host>> {
        let spawner = current_spawner()?;
        Some(Arc::new(Host::new(spawner, (), Clock::Tokio)))
    }

    fn new(spawner: Spawner, id: RuntimeId, clock: Clock) -> Host {
        Host {
            spawner,
            id,
            closed: AtomicBool::new(false),
            register: Mutex::new(Register::default()),
            timers: OnceLock::new(),
            clock,
        }
    }

    /// The host of runtime `id`, made with `clock` if there is none yet.
    /// `Err` with the host found if there was one already; `Err(None)` if
    /// the runtime has shut down.
    #[cfg(not(foundation_loom))]
    fn find_or_make(
        spawner: Spawner,
        id: RuntimeId,
        clock: Clock,
    ) -> Result<Arc<Host>, Option<Arc<Host>>> {
        let mut hosts = HOSTS.lock().unwrap_or_else(PoisonError::into_inner);
        hosts.retain(|host| !host.is_closed());
        if let Some(host) = hosts.iter().find(|host| host.id == id) {
            return match clock {
                Clock::Tokio => Ok(Arc::clone(host)),
                Clock::Manual(_) => Err(Some(Arc::clone(host))),
            };
        }
        let host = Arc::new(Host::new(spawner, id, clock));
        hosts.push(Arc::clone(&host));
        drop(hosts);
        Self::start_reaper(&host);
        if host.is_closed() {
            return Err(None);
        }
        Ok(host)
    }

    /// Makes `clock` the clock of `runtime`, whose processes have not
    /// started yet (see [`ManualTime::install`](crate::time::ManualTime::install)).
    #[cfg(not(foundation_loom))]
    pub(crate) fn install_clock(
        runtime: &tokio::runtime::Handle,
        clock: Clock,
    ) -> Result<(), crate::time::InstallError> {
        use crate::time::InstallError;
        if matches!(clock, Clock::Manual(_)) {
            // Before the host is published under the lock: whoever finds
            // the host also sees that clocks must be looked up.
            crate::time::note_manual_installed();
        }
        match Self::find_or_make(runtime.clone(), runtime.id(), clock) {
            Ok(host) => {
                // The timer service exists from the start, so the manual
                // time fires its timers from the first one on.
                let _service = host.timers();
                Ok(())
            }
            Err(Some(host)) if matches!(host.clock, Clock::Manual(_)) => {
                Err(InstallError::AlreadyInstalled)
            }
            Err(Some(_)) => Err(InstallError::AlreadyStarted),
            Err(None) => Err(InstallError::ShutDown),
        }
    }

    /// The clock of runtime `id`, if a process or a manual time made its
    /// host; made nothing otherwise.
    #[cfg(not(foundation_loom))]
    pub(crate) fn clock_of(id: RuntimeId) -> Option<Clock> {
        let cached = CURRENT.with_borrow(|cached| {
            cached
                .as_ref()
                .filter(|host| host.id == id && !host.is_closed())
                .map(|host| host.clock.clone())
        });
        if cached.is_some() {
            return cached;
        }
        let hosts = HOSTS.lock().unwrap_or_else(PoisonError::into_inner);
        hosts
            .iter()
            .find(|host| host.id == id && !host.is_closed())
            .map(|host| host.clock.clone())
    }

    /// The runtime's clock.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The reaper exists before its task: a runtime already shutting down
    /// drops it unpolled, which closes the host at once.
    #[cfg(not(foundation_loom))]
    fn start_reaper(host: &Arc<Host>) {
        let _abort = crate::sync::spawn(&host.spawner, Reaper(Arc::clone(host)));
    }

    pub(crate) fn spawner(&self) -> &Spawner {
        &self.spawner
    }

    /// The timer service of this runtime, started on first use.
    pub(crate) fn timers(&self) -> &Arc<TimerService> {
        self.timers
            .get_or_init(|| TimerService::of(&self.spawner, &self.clock))
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Register> {
        self.register.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Enters `process` in the register; [`Place::NOWHERE`] if the runtime
    /// has shut down, when the process must not start.
    pub(crate) fn enter<A: Actor>(&self, process: Weak<Process<A>>) -> Place {
        self.try_enter(process).unwrap_or(Place::NOWHERE)
    }

    fn try_enter<A: Actor>(&self, process: Weak<Process<A>>) -> Option<Place> {
        let process: Weak<dyn Reap> = process;
        let mut register = self.lock();
        if self.is_closed() {
            return None;
        }
        let slot = match register.free.pop() {
            Some(slot) => {
                register.entries[slot as usize] = Some(process);
                slot
            }
            None => {
                let slot = u32::try_from(register.entries.len())
                    .ok()
                    .filter(|slot| *slot != Place::NOWHERE.0)?;
                register.entries.push(Some(process));
                slot
            }
        };
        Some(Place(slot))
    }

    /// Takes a freed process's entry out of the register.
    pub(crate) fn leave(&self, place: Place) {
        if place == Place::NOWHERE {
            return;
        }
        let mut register = self.lock();
        if let Some(entry) = register.entries.get_mut(place.0 as usize)
            && entry.take().is_some()
        {
            register.free.push(place.0);
        }
    }

    /// The runtime has shut down: kills every process it still holds. (Under
    /// loom, where a task that never ends would be reported as a deadlock,
    /// the models call it themselves.)
    pub(crate) fn reap(&self) {
        let mut processes = Vec::new();
        {
            let mut register = self.lock();
            self.closed.store(true, Ordering::Release);
            let Register { entries, free } = std::mem::take(&mut *register);
            drop(register);
            drop(free);
            processes.extend(entries.into_iter().filter_map(|entry| entry?.upgrade()));
        }
        if !processes.is_empty() {
            tracing::debug!(target: "foundation::mailbox", processes = processes.len(), "runtime shut down: ending its processes");
        }
        // Outside the lock: a kill drops dormant state (user code), and the
        // last reference to a process may go here.
        for process in processes {
            process.reap();
        }
    }
}

/// The task a runtime drops when it shuts down. It never wakes.
struct Reaper(Arc<Host>);

impl Future for Reaper {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        self.0.reap();
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use super::*;
    use crate::{Context, start};

    #[derive(Debug)]
    struct Idle;

    impl Actor for Idle {
        type Args = ();
        type Msg = ();
        type Error = std::convert::Infallible;

        async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
            Ok(Idle)
        }

        async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
            Ok(())
        }
    }

    fn entered(host: &Host) -> (usize, usize) {
        let register = host.lock();
        let live = register
            .entries
            .iter()
            .filter(|entry| entry.is_some())
            .count();
        (live, register.entries.len())
    }

    /// A freed process leaves the register, and its place is reused: the
    /// register holds what is alive, not what ever ran.
    #[tokio::test(flavor = "current_thread")]
    async fn the_register_holds_only_live_processes() {
        let host = Host::current().unwrap();
        let kept = start::<Idle>(()).await.unwrap();
        for _ in 0..100 {
            drop(start::<Idle>(()).await.unwrap());
        }
        let (live, places) = entered(&host);
        assert_eq!(live, 1);
        assert!(places <= 2, "{places} places for 1 process");
        drop(kept);
    }
}
