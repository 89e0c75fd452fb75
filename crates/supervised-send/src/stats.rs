//! Counts of supervised sends, per call-site [`Tag`] and in total.

use std::{fmt, sync::OnceLock};

use crate::sync::{Arc, AtomicU64, Mutex, Ordering, lock};

/// The tag of sends whose options name none.
pub const UNTAGGED: &str = "untagged";

/// One tag's counters. Relaxed atomics: each is a monotonic count read
/// only for reporting, so no ordering between them is promised.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) sent: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dead_lettered: AtomicU64,
    pub(crate) cancelled: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn counts(&self) -> Counts {
        Counts {
            sent: self.sent.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            dead_lettered: self.dead_lettered.load(Ordering::Relaxed),
            cancelled: self.cancelled.load(Ordering::Relaxed),
        }
    }
}

/// A call-site tag: the counters its sends add to. Made by
/// [`SendStats::tag`] (or [`SendOptions::tag`](crate::SendOptions::tag),
/// which uses the [global](SendStats::global) stats) once per call site;
/// a send then only adds to relaxed atomics, without a lock.
#[derive(Clone)]
pub struct Tag {
    pub(crate) name: Arc<str>,
    pub(crate) counters: Arc<Counters>,
}

impl Tag {
    /// The tag's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tag's counts so far.
    pub fn counts(&self) -> Counts {
        self.counters.counts()
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tag").field(&self.name).finish()
    }
}

/// What happened to supervised sends.
///
/// A send is counted once in `sent` and, when it ends, once in
/// `delivered`, `failed` or `cancelled` (its future dropped before it
/// ended), so `sent - delivered - failed - cancelled` sends are in flight.
/// `retried` counts attempts after the first; `dead_lettered` counts
/// failed sends whose message the dead-letter queue kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Sends started.
    pub sent: u64,
    /// Sends that ended delivered (or, in ack mode, acknowledged).
    pub delivered: u64,
    /// Sends that ended failed, whatever their on-error policy.
    pub failed: u64,
    /// Attempts after a send's first.
    pub retried: u64,
    /// Failed sends whose message a dead-letter queue kept.
    pub dead_lettered: u64,
    /// Sends whose future was dropped before they ended.
    pub cancelled: u64,
}

impl Counts {
    /// Sends started and not yet ended.
    pub fn in_flight(&self) -> u64 {
        self.sent
            .saturating_sub(self.delivered + self.failed + self.cancelled)
    }

    fn add(&mut self, other: Counts) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.failed += other.failed;
        self.retried += other.retried;
        self.dead_lettered += other.dead_lettered;
        self.cancelled += other.cancelled;
    }
}

/// A snapshot of a [`SendStats`]: every tag's counts and their total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Every tag's counts added up.
    pub total: Counts,
    /// Each tag's counts, in the order the tags were first made.
    pub per_tag: Vec<(String, Counts)>,
}

impl StatsSnapshot {
    /// The counts of the tag named `name`, if it was made.
    pub fn tag(&self, name: &str) -> Option<Counts> {
        self.per_tag
            .iter()
            .find(|(tag, _)| tag == name)
            .map(|(_, counts)| *counts)
    }
}

/// A set of call-site tags and their counters. Most programs use the
/// [global](Self::global) one; a test or a subsystem that wants its own
/// totals makes its own and passes its tags to
/// [`SendOptions::tagged`](crate::SendOptions::tagged).
///
/// ```
/// use foundation_supervised_send::SendStats;
///
/// let stats = SendStats::new();
/// let billing = stats.tag("billing");
/// assert_eq!(billing.name(), "billing");
/// assert_eq!(stats.snapshot().tag("billing").unwrap().sent, 0);
/// // The same name gives the same counters.
/// assert_eq!(stats.tag("billing").counts(), billing.counts());
/// ```
#[derive(Clone, Default)]
pub struct SendStats {
    tags: Arc<Mutex<Vec<Tag>>>,
}

impl fmt::Debug for SendStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendStats")
            .field("total", &self.snapshot().total)
            .finish_non_exhaustive()
    }
}

impl SendStats {
    /// An empty set of tags.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide stats, which options use unless told otherwise.
    pub fn global() -> &'static SendStats {
        // audit:allow(FND002) counters only ever added to and read for reports, never control flow; a program that wants its own makes a `SendStats` and passes its tags
        static GLOBAL: OnceLock<SendStats> = OnceLock::new();
        GLOBAL.get_or_init(SendStats::new)
    }

    /// The tag named `name`, made on first use. Takes a lock: call it once
    /// per call site, not per send.
    pub fn tag(&self, name: &str) -> Tag {
        let mut tags = lock(&self.tags);
        if let Some(tag) = tags.iter().find(|tag| &*tag.name == name) {
            return tag.clone();
        }
        let tag = Tag {
            name: Arc::from(name),
            counters: Arc::new(Counters::default()),
        };
        tags.push(tag.clone());
        tag
    }

    /// Every tag's counts and their total.
    pub fn snapshot(&self) -> StatsSnapshot {
        let tags = lock(&self.tags);
        let mut snapshot = StatsSnapshot::default();
        for tag in tags.iter() {
            let counts = tag.counts();
            snapshot.total.add(counts);
            snapshot.per_tag.push((tag.name.to_string(), counts));
        }
        snapshot
    }
}
