//! The router's state, held outside its process: the trie, the entries with their monitors, and the counters.
//!
//! Everything here runs under one `RwLock`, and none of it is user code:
//! routing reads the trie and lets go of the lock before it sends (a
//! conversion into a subscriber's message type is user code, and may
//! itself subscribe or route).

use std::{
    collections::HashMap,
    sync::{
        Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use ahash::RandomState;
use foundation_mailbox::{ProcessRef, Recipient, Reference};
use foundation_monitor_manager::{Monitor, MonitorManager};

use crate::{
    OverflowPolicy, Pattern, Signal, SubscriptionId, SubscriptionInfo,
    subscription::{Counters, Unsubscribe},
    trie::Trie,
};

/// The tag the router's monitors carry in the monitor registry.
pub(crate) const MONITOR_TAG: &str = "signal-router";

/// A queue group: the members' shared turn counter.
#[derive(Debug)]
pub(crate) struct QueueGroup {
    pub(crate) name: Arc<str>,
    pub(crate) turn: AtomicUsize,
}

/// One subscription as the trie holds it.
pub(crate) struct Sub<M> {
    pub(crate) id: SubscriptionId,
    pub(crate) pattern: Pattern,
    pub(crate) recipient: Recipient<Signal<M>>,
    pub(crate) group: Option<Arc<QueueGroup>>,
    pub(crate) overflow: OverflowPolicy,
    pub(crate) counters: Arc<Counters>,
}

/// A subscription and the monitor that removes it when its subscriber exits.
struct Entry<M> {
    sub: Arc<Sub<M>>,
    monitor: Option<Monitor>,
}

/// What a removal takes out of the table, to drop outside the lock: the
/// monitor's drop flushes the router process's mailbox.
pub(crate) struct Removed<M> {
    _sub: Arc<Sub<M>>,
    _monitor: Option<Monitor>,
}

struct Table<M> {
    trie: Trie<Arc<Sub<M>>>,
    entries: HashMap<SubscriptionId, Entry<M>, RandomState>,
    by_monitor: HashMap<Reference, SubscriptionId, RandomState>,
    groups: HashMap<Arc<str>, (Arc<QueueGroup>, usize), RandomState>,
    /// The router process that watches subscribers, while one runs.
    janitor: Option<ProcessRef>,
}

/// Router-wide counters.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub(crate) routed: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) removed_dead: AtomicU64,
}

pub(crate) struct Shared<M> {
    table: RwLock<Table<M>>,
    monitors: MonitorManager,
    next_id: AtomicU64,
    pub(crate) totals: Totals,
}

impl<M: Send + 'static> Shared<M> {
    pub(crate) fn new(monitors: MonitorManager) -> Self {
        Self {
            table: RwLock::new(Table {
                trie: Trie::default(),
                entries: HashMap::default(),
                by_monitor: HashMap::default(),
                groups: HashMap::default(),
                janitor: None,
            }),
            monitors,
            next_id: AtomicU64::new(1),
            totals: Totals::default(),
        }
    }

    // Nothing under the lock is user code, so a poisoned lock only means a
    // panic elsewhere in the same thread's unwinding; the table is whole.
    fn read(&self) -> RwLockReadGuard<'_, Table<M>> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Table<M>> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn next_id(&self) -> SubscriptionId {
        SubscriptionId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Adds a subscription, monitored by the router process if one runs.
    /// Under the write lock, so a router process starting at the same time
    /// either finds it when it re-monitors, or is the watcher it gets.
    #[track_caller]
    pub(crate) fn insert(
        &self,
        id: SubscriptionId,
        pattern: Pattern,
        recipient: Recipient<Signal<M>>,
        queue: Option<&str>,
        overflow: OverflowPolicy,
        process: &ProcessRef,
    ) -> Arc<Counters> {
        let counters = Arc::new(Counters::default());
        counters.active.store(true, Ordering::Release);
        let mut table = self.write();
        let group = queue.map(|name| {
            let (group, members) = table.groups.entry(name.into()).or_insert_with(|| {
                let group = QueueGroup {
                    name: name.into(),
                    turn: AtomicUsize::new(0),
                };
                (Arc::new(group), 0)
            });
            *members += 1;
            Arc::clone(group)
        });
        let sub = Arc::new(Sub {
            id,
            pattern,
            recipient,
            group,
            overflow,
            counters: Arc::clone(&counters),
        });
        let monitor = table
            .janitor
            .as_ref()
            .map(|janitor| self.monitors.monitor(janitor, process, MONITOR_TAG));
        if let Some(monitor) = &monitor {
            table.by_monitor.insert(monitor.reference(), id);
        }
        table.trie.insert(&sub.pattern, Arc::clone(&sub));
        table.entries.insert(id, Entry { sub, monitor });
        counters
    }

    /// Takes a subscription out. `None` if it was already gone.
    pub(crate) fn remove(&self, id: SubscriptionId) -> Option<Removed<M>> {
        let mut table = self.write();
        let entry = table.entries.remove(&id)?;
        Some(table.take_out(entry))
    }

    /// Takes out the subscription a DOWN is for; counted as a dead subscriber.
    pub(crate) fn remove_by_monitor(&self, reference: Reference) -> Option<Removed<M>> {
        let mut table = self.write();
        let id = table.by_monitor.remove(&reference)?;
        let entry = table.entries.remove(&id)?;
        self.totals.removed_dead.fetch_add(1, Ordering::Relaxed);
        Some(table.take_out(entry))
    }

    /// Removes every subscription whose subscriber has exited: the router
    /// process's catch-up when its mailbox dropped a DOWN.
    pub(crate) fn sweep(&self) -> Vec<Removed<M>> {
        let mut table = self.write();
        let dead: Vec<SubscriptionId> = table
            .entries
            .values()
            .filter(|entry| !entry.sub.recipient.is_alive())
            .map(|entry| entry.sub.id)
            .collect();
        let mut removed = Vec::with_capacity(dead.len());
        for id in dead {
            if let Some(entry) = table.entries.remove(&id) {
                removed.push(table.take_out(entry));
            }
        }
        self.totals
            .removed_dead
            .fetch_add(removed.len() as u64, Ordering::Relaxed);
        removed
    }

    /// Makes `janitor` the router process: every subscription gets a fresh
    /// monitor watched by it. The old monitors (their watcher has exited, so
    /// they are already out of the registry) are returned to drop outside
    /// the lock. A subscriber that exited while no router process ran gets
    /// its DOWN at once, with `NoProcess`, and is removed by it.
    #[track_caller]
    pub(crate) fn attach(&self, janitor: ProcessRef) -> Vec<Monitor> {
        let mut table = self.write();
        let table = &mut *table;
        table.by_monitor.clear();
        let mut old = Vec::with_capacity(table.entries.len());
        for (id, entry) in &mut table.entries {
            let process = entry.sub.recipient.process_ref();
            let monitor = self.monitors.monitor(&janitor, &process, MONITOR_TAG);
            table.by_monitor.insert(monitor.reference(), *id);
            if let Some(previous) = entry.monitor.replace(monitor) {
                old.push(previous);
            }
        }
        table.janitor = Some(janitor);
        old
    }

    /// The subscriptions whose pattern matches `topic`, in the trie's order.
    pub(crate) fn matches(&self, topic: &str, into: &mut Vec<Arc<Sub<M>>>) {
        let table = self.read();
        table
            .trie
            .for_each_match(topic, &mut |sub| into.push(Arc::clone(sub)));
    }

    pub(crate) fn len(&self) -> usize {
        let table = self.read();
        debug_assert_eq!(table.trie.len(), table.entries.len());
        table.entries.len()
    }

    /// How many subscriptions a live monitor watches, and the router process's pid.
    pub(crate) fn watch_state(&self) -> (usize, Option<foundation_mailbox::Pid>) {
        let table = self.read();
        let monitored = table
            .entries
            .values()
            .filter(|entry| entry.monitor.as_ref().is_some_and(Monitor::is_active))
            .count();
        let janitor = table
            .janitor
            .as_ref()
            .filter(|janitor| janitor.is_alive())
            .map(ProcessRef::pid);
        (monitored, janitor)
    }

    pub(crate) fn list(&self) -> Vec<SubscriptionInfo> {
        let table = self.read();
        let mut list: Vec<SubscriptionInfo> = table
            .entries
            .values()
            .map(|entry| {
                let sub = &entry.sub;
                SubscriptionInfo {
                    id: sub.id,
                    pattern: sub.pattern.clone(),
                    subscriber: sub.recipient.pid(),
                    queue: sub.group.as_ref().map(|group| Arc::clone(&group.name)),
                    overflow: sub.overflow,
                    delivered: sub.counters.delivered.load(Ordering::Relaxed),
                    dropped: sub.counters.dropped.load(Ordering::Relaxed),
                    monitored: entry.monitor.as_ref().is_some_and(Monitor::is_active),
                }
            })
            .collect();
        list.sort_by_key(|info| info.id);
        list
    }
}

impl<M> Table<M> {
    /// Unlinks `entry` from the trie, the monitor index and its group.
    fn take_out(&mut self, entry: Entry<M>) -> Removed<M> {
        let Entry { sub, monitor } = entry;
        sub.counters.active.store(false, Ordering::Release);
        let id = sub.id;
        self.trie
            .remove(&sub.pattern, |candidate| candidate.id == id);
        if let Some(monitor) = &monitor {
            self.by_monitor.remove(&monitor.reference());
        }
        if let Some(group) = &sub.group
            && let Some((_, members)) = self.groups.get_mut(&group.name)
        {
            *members -= 1;
            if *members == 0 {
                self.groups.remove(&group.name);
            }
        }
        Removed {
            _sub: sub,
            _monitor: monitor,
        }
    }
}

impl<M: Send + 'static> Unsubscribe for Shared<M> {
    fn unsubscribe(&self, id: SubscriptionId) {
        drop(self.remove(id));
    }
}
