//! [`MonitorManager`]: making monitors, and the registry's views (list, stats, leaks).

use std::{
    future::Future,
    panic::Location,
    sync::{Arc, OnceLock},
    time::Duration,
};

use foundation_mailbox::{ProcessRef, Reference};
use quanta::Instant;

use crate::{
    LeakReport, MonitorInfo, Stats,
    delivery::{self, Delivery},
    monitor::{Cell, Entry, Monitor, Notify, Slot},
    registry::{Registry, SHARDS},
    sync::Mutex,
};

/// How old a live monitor must be before [`stats`](MonitorManager::stats)
/// counts it as a suspected leak, unless set with
/// [`with_leak_age`](MonitorManager::with_leak_age).
pub const DEFAULT_LEAK_AGE: Duration = Duration::from_secs(300);

/// Makes monitors and keeps the registry of live ones.
///
/// Cloning is cheap and shares the registry. Most code uses one manager for
/// the whole program, [`MonitorManager::global`]; tests and libraries that
/// want their own counts make their own with [`MonitorManager::new`].
#[derive(Debug, Clone)]
pub struct MonitorManager {
    registry: Arc<Registry<Entry>>,
    leak_age: Duration,
}

impl Default for MonitorManager {
    fn default() -> Self {
        Self::new()
    }
}

impl MonitorManager {
    /// A manager with an empty registry.
    pub fn new() -> Self {
        Self {
            registry: Arc::new(Registry::new(SHARDS)),
            leak_age: DEFAULT_LEAK_AGE,
        }
    }

    /// The same registry, with `age` as the threshold
    /// [`stats`](Self::stats) counts suspected leaks from.
    pub fn with_leak_age(mut self, age: Duration) -> Self {
        self.leak_age = age;
        self
    }

    /// The process-wide manager the free functions ([`monitor`](crate::monitor),
    /// [`watch`](crate::watch)) use.
    pub fn global() -> &'static MonitorManager {
        // Immutable once made: the registry inside is sharded and synchronised
        // on its own, and nothing replaces the manager.
        static GLOBAL: OnceLock<MonitorManager> = OnceLock::new();
        GLOBAL.get_or_init(MonitorManager::new)
    }

    /// Monitors `target` on behalf of the actor `watcher`: when the target
    /// exits, `watcher` gets exactly one [`SystemMessage::Down`](foundation_mailbox::SystemMessage::Down)
    /// in its system lane, with the target's pid, the monitor's
    /// [`reference`](Monitor::reference) and the exit reason, unless the
    /// guard is dropped first. A target that has already exited gets a DOWN
    /// at once with
    /// [`ExitReason::NoProcess`](foundation_mailbox::ExitReason::NoProcess).
    /// A watcher that has already exited gets an inert guard.
    #[track_caller]
    pub fn monitor(&self, watcher: &ProcessRef, target: &ProcessRef, tag: &'static str) -> Monitor {
        let notify = Notify::Mailbox(watcher.clone());
        self.create(Some(watcher), target, tag, notify, Location::caller())
    }

    /// Monitors `target` for code that is not an actor: the DOWN waits in
    /// the guard for [`Monitor::down`].
    #[track_caller]
    pub fn watch(&self, target: &ProcessRef, tag: &'static str) -> Monitor {
        let notify = Notify::Slot(Mutex::new(Slot::default()));
        self.create(None, target, tag, notify, Location::caller())
    }

    /// Runs `body` with a monitor of `target` (as [`watch`](Self::watch)
    /// makes it) and releases the monitor however the body ends: returning,
    /// panicking, or the returned future being dropped.
    #[track_caller]
    pub fn scoped<'a, T>(
        &self,
        target: &ProcessRef,
        tag: &'static str,
        body: impl AsyncFnOnce(&mut Monitor) -> T + 'a,
    ) -> impl Future<Output = T> + 'a {
        // Made now, so the location is the caller's; owned by the future, so
        // it goes with the future on every path.
        let mut monitor = self.watch(target, tag);
        async move { body(&mut monitor).await }
    }

    fn create(
        &self,
        watcher: Option<&ProcessRef>,
        target: &ProcessRef,
        tag: &'static str,
        notify: Notify,
        location: &'static Location<'static>,
    ) -> Monitor {
        let reference = Reference::new();
        // Registered before any hook exists, so whichever hook cleans it
        // finds it; the cell is made under the shard's lock to learn its slot.
        let cell = self.registry.insert_with(reference.as_u64(), |slot| {
            let made = Arc::new(Cell {
                delivery: Delivery::new(),
                reference,
                target: target.pid(),
                target_process: target.clone(),
                notify,
                registry: self.registry.clone(),
                slot,
            });
            let entry = Entry {
                cell: made.clone(),
                tag,
                created: Instant::now(),
                location,
            };
            (entry, made)
        });
        let (watcher_hook, target_hook) = delivery::hook_exits(&cell, watcher, target);
        Monitor {
            cell,
            target_hook,
            watcher_hook,
            tag,
            location,
        }
    }

    /// Every live monitor.
    pub fn list(&self) -> Vec<MonitorInfo> {
        let now = Instant::now();
        let mut monitors = Vec::new();
        self.registry
            .for_each(|entry| monitors.push(info(entry, now)));
        monitors
    }

    /// The registry's counters. `suspected_leaks` walks the registry.
    pub fn stats(&self) -> Stats {
        let (created, cleaned) = self.registry.counts();
        let now = Instant::now();
        let mut suspected_leaks = 0;
        self.registry.for_each(|entry| {
            if is_suspect(entry, now, self.leak_age) {
                suspected_leaks += 1;
            }
        });
        crate::metrics::suspected_leaks(suspected_leaks);
        Stats {
            created,
            cleaned,
            active: created.saturating_sub(cleaned),
            suspected_leaks,
        }
    }

    /// How many monitors are live, by counting the registry's entries
    /// (`stats().active` is the same number from the counters).
    pub fn len(&self) -> usize {
        self.registry.len()
    }

    /// Whether no monitor is live.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Live monitors at least `older_than` old whose target and watcher are
    /// both still alive, grouped by tag and source location: the monitors
    /// someone forgot to drop. `Duration::ZERO` reports every such monitor.
    pub fn find_leaks(&self, older_than: Duration) -> LeakReport {
        let now = Instant::now();
        let mut suspects = Vec::new();
        self.registry.for_each(|entry| {
            if is_suspect(entry, now, older_than) {
                suspects.push(info(entry, now));
            }
        });
        let report = LeakReport::from_monitors(suspects);
        crate::metrics::suspected_leaks(report.total() as u64);
        if !report.is_empty() {
            tracing::warn!(target: "foundation::monitor_manager", suspected = report.total(), groups = report.groups.len(), "suspected monitor leaks");
        }
        report
    }
}

fn is_suspect(entry: &Entry, now: Instant, older_than: Duration) -> bool {
    now.saturating_duration_since(entry.created) >= older_than
        && entry.cell.target_process.is_alive()
        && entry.cell.watcher().is_none_or(ProcessRef::is_alive)
}

fn info(entry: &Entry, now: Instant) -> MonitorInfo {
    MonitorInfo {
        reference: entry.cell.reference,
        tag: entry.tag,
        target: entry.cell.target,
        watcher: entry.cell.watcher().map(ProcessRef::pid),
        age: now.saturating_duration_since(entry.created),
        location: entry.location,
    }
}
