//! The timer service: one task per runtime holding every waiting timer, so a timer costs no task.
//!
//! Waiting timers sit in a binary heap of deadlines beside a map from timer
//! id to the process to tick. The service's task sleeps until the earliest
//! deadline (or until a new earlier one arrives), hands each due timer's
//! tick to its process's system lane, and sleeps again. It never runs user
//! code: a tick is a number; the actor's own timer table turns it into a
//! message on the actor's task.
//!
//! A cancelled timer is removed from the map at once (which also lets go of
//! its process); its heap entry is skipped when it comes up, and the heap is
//! rebuilt when stale entries outnumber live ones.
//!
//! On a runtime with a [manual time](crate::time::ManualTime) the task
//! never sleeps on tokio's clock: it only fires what is due when a timer is
//! scheduled (a zero delay), and the manual time fires the rest itself, on
//! the thread that advances it, before its `advance` returns.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap},
    fmt,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::{sync::Notify, time::Instant};

use crate::{
    sync::{RuntimeId, Spawner, runtime_id},
    time::Clock,
};

/// A due timer's tick: the id the actor's timer table gave it when it was
/// started. A table that no longer knows the id drops the tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TimerTick(pub(crate) u64);

/// A process a tick can be delivered to.
pub(crate) trait TimerTarget: Send + Sync {
    /// Puts the tick in the process's system lane, waking it if dormant.
    /// Nothing happens if the process has exited.
    fn tick(&self, tick: TimerTick);
}

/// A timer that came due: its id and the process to tick.
type Due = (u64, Arc<dyn TimerTarget>);

/// Heaps smaller than this are never rebuilt to drop stale entries.
const COMPACT_ABOVE: usize = 64;

struct Waiting {
    due: Instant,
    /// A strong reference: a process with a timer pending stays alive until
    /// the timer fires or is cancelled, as an Erlang process would.
    target: Arc<dyn TimerTarget>,
}

#[derive(Default)]
struct Schedule {
    deadlines: BinaryHeap<Reverse<(Instant, u64)>>,
    waiting: HashMap<u64, Waiting>,
    /// The runtime dropped the service's task: nothing will fire any more.
    closed: bool,
}

/// One runtime's timer service.
pub(crate) struct TimerService {
    // Plain std locks, not the loom shim: the service is not part of any
    // model, and its lock never wraps user code or another lock.
    schedule: Mutex<Schedule>,
    /// Wakes the service when an earlier deadline arrives. A notification
    /// sent while the service is busy is kept as a permit, so none is lost.
    wake: Notify,
    /// The clock deadlines are measured on.
    clock: Clock,
}

impl fmt::Debug for TimerService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let schedule = self.lock();
        f.debug_struct("TimerService")
            .field("waiting", &schedule.waiting.len())
            .finish_non_exhaustive()
    }
}

/// The services of the runtimes that started one, found by runtime id.
// audit:allow(FND002) one timer service per runtime must be found from any actor on it; entries of runtimes that shut down are pruned on each lookup
static SERVICES: Mutex<Vec<(RuntimeId, Arc<TimerService>)>> = Mutex::new(Vec::new());

impl TimerService {
    /// The service of `spawner`'s runtime, started on first use with `clock`
    /// (the runtime's clock, which its host decided before any timer).
    pub(crate) fn of(spawner: &Spawner, clock: &Clock) -> Arc<TimerService> {
        let id = runtime_id(spawner);
        let mut services = SERVICES.lock().unwrap_or_else(PoisonError::into_inner);
        services.retain(|(_, service)| !service.lock().closed);
        if let Some((_, service)) = services.iter().find(|(runtime, _)| *runtime == id) {
            return Arc::clone(service);
        }
        let service = Arc::new(TimerService {
            schedule: Mutex::new(Schedule::default()),
            wake: Notify::new(),
            clock: clock.clone(),
        });
        services.push((id, Arc::clone(&service)));
        drop(services);
        if let Clock::Manual(manual) = clock {
            manual.attach(&service);
        }
        // The guard exists before the task: a runtime that drops the task
        // unpolled (it is shutting down) still marks the service closed.
        let _abort = crate::sync::spawn(spawner, run(CloseOnDrop(Arc::clone(&service))));
        service
    }

    /// How many timers wait.
    #[cfg(all(test, not(foundation_loom)))]
    pub(crate) fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }

    /// The runtime dropped the service's task: nothing fires any more.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Ticks every timer due at `now`. The manual time calls it when it
    /// advances, so the ticks are queued before its `advance` returns.
    pub(crate) fn fire_due(&self, now: Instant) {
        let (due, _next) = self.take_due(now);
        for (id, target) in due {
            target.tick(TimerTick(id));
        }
    }

    fn lock(&self) -> MutexGuard<'_, Schedule> {
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until `due`, then ticks `target` with `id`.
    pub(crate) fn schedule(&self, id: u64, due: Instant, target: Arc<dyn TimerTarget>) {
        let mut schedule = self.lock();
        if schedule.closed {
            // The runtime is gone; let go of the process outside the lock.
            drop(schedule);
            drop(target);
            return;
        }
        let earliest = schedule.deadlines.peek().map(|Reverse((at, _))| *at);
        schedule.deadlines.push(Reverse((due, id)));
        let replaced = schedule.waiting.insert(id, Waiting { due, target });
        drop(schedule);
        // Dropped outside the lock: it may be a process's last reference.
        drop(replaced);
        // On a manual clock, a timer already due (a zero delay, or one
        // whose start raced an `advance`) is fired by the task, whatever
        // else waits: the manual time fires only what it finds on advance.
        let due_now = matches!(self.clock, Clock::Manual(_)) && due <= self.clock.now();
        if due_now || earliest.is_none_or(|earliest| due < earliest) {
            self.wake.notify_one();
        }
    }

    /// Forgets timer `id`; it will not tick.
    pub(crate) fn cancel(&self, id: u64) {
        let mut schedule = self.lock();
        let removed = schedule.waiting.remove(&id);
        if schedule.deadlines.len() > COMPACT_ABOVE
            && schedule.deadlines.len() > 2 * schedule.waiting.len()
        {
            let Schedule {
                deadlines, waiting, ..
            } = &mut *schedule;
            deadlines.retain(|Reverse((due, id))| waiting.get(id).is_some_and(|w| w.due == *due));
        }
        drop(schedule);
        // Outside the lock: dropping a process may run its exit.
        drop(removed);
    }

    /// Takes the timers due at `now`; returns them and the next deadline.
    fn take_due(&self, now: Instant) -> (Vec<Due>, Option<Instant>) {
        let mut schedule = self.lock();
        let mut due = Vec::new();
        while let Some(Reverse((at, id))) = schedule.deadlines.peek().copied() {
            if at > now {
                return (due, Some(at));
            }
            schedule.deadlines.pop();
            // A stale entry (cancelled, or re-armed for another time) is skipped.
            if schedule.waiting.get(&id).is_some_and(|w| w.due == at)
                && let Some(waiting) = schedule.waiting.remove(&id)
            {
                due.push((id, waiting.target));
            }
        }
        (due, None)
    }
}

/// Marks the service closed when the runtime drops its task, and lets go of
/// the processes it held.
struct CloseOnDrop(Arc<TimerService>);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        let waiting = {
            let mut schedule = self.0.lock();
            schedule.closed = true;
            schedule.deadlines.clear();
            std::mem::take(&mut schedule.waiting)
        };
        drop(waiting);
    }
}

/// The service's task: tick what is due, sleep until the next deadline or
/// an earlier one arrives. It lives as long as its runtime.
async fn run(service: CloseOnDrop) {
    let service = &service.0;
    let manual = matches!(service.clock, Clock::Manual(_));
    loop {
        let (due, next) = service.take_due(service.clock.now());
        for (id, target) in due {
            target.tick(TimerTick(id));
        }
        match next {
            // The manual time fires the rest when it advances.
            Some(deadline) if !manual => {
                tokio::select! {
                    () = service.wake.notified() => {}
                    () = tokio::time::sleep_until(deadline) => {}
                }
            }
            // No timer waits (or the time is manual): nothing to arm. (An
            // armed far-off sleep would let a paused test clock jump to it.)
            // audit:allow(FND005) the service waits for work for the life of its runtime; it ends when the runtime drops it
            _ => service.wake.notified().await,
        }
    }
}
