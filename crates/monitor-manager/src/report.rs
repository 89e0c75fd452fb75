//! What the registry reports: live monitors, counters, and suspected leaks grouped by where they were made.

use std::{fmt, panic::Location, time::Duration};

use foundation_mailbox::{Pid, Reference};

/// One live monitor, as [`MonitorManager::list`](crate::MonitorManager::list) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorInfo {
    /// The monitor's reference, as its DOWN will carry it.
    pub reference: Reference,
    /// The tag given when it was made.
    pub tag: &'static str,
    /// The process it watches.
    pub target: Pid,
    /// The process its DOWN goes to; `None` when the guard receives it.
    pub watcher: Option<Pid>,
    /// How long ago it was made.
    pub age: Duration,
    /// Where in the source it was made.
    pub location: &'static Location<'static>,
}

/// The registry's counters, from [`MonitorManager::stats`](crate::MonitorManager::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Monitors ever made.
    pub created: u64,
    /// Monitors ever cleaned: DOWN delivered, guard dropped or watcher exited.
    pub cleaned: u64,
    /// Monitors live now (`created - cleaned`).
    pub active: u64,
    /// Live monitors older than the manager's leak age whose target and
    /// watcher are both alive (see [`MonitorManager::with_leak_age`](crate::MonitorManager::with_leak_age)).
    pub suspected_leaks: u64,
}

/// Suspected leaks made at one source location with one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakGroup {
    /// The tag the monitors were made with.
    pub tag: &'static str,
    /// Where in the source they were made.
    pub location: &'static Location<'static>,
    /// The oldest one's age.
    pub oldest: Duration,
    /// The monitors themselves, oldest first.
    pub monitors: Vec<MonitorInfo>,
}

/// What [`MonitorManager::find_leaks`](crate::MonitorManager::find_leaks)
/// found: groups by tag and location, the biggest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeakReport {
    /// One group per (tag, location), the biggest first.
    pub groups: Vec<LeakGroup>,
}

impl LeakReport {
    /// Whether nothing looked leaked.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// How many monitors look leaked, over all groups.
    pub fn total(&self) -> usize {
        self.groups.iter().map(|group| group.monitors.len()).sum()
    }

    pub(crate) fn from_monitors(mut monitors: Vec<MonitorInfo>) -> Self {
        // Oldest first within a group once grouped (a stable sort keeps it).
        monitors.sort_by_key(|info| std::cmp::Reverse(info.age));
        let mut groups: Vec<LeakGroup> = Vec::new();
        for info in monitors {
            let same =
                |group: &&mut LeakGroup| group.tag == info.tag && group.location == info.location;
            match groups.iter_mut().find(same) {
                Some(group) => group.monitors.push(info),
                None => groups.push(LeakGroup {
                    tag: info.tag,
                    location: info.location,
                    oldest: info.age,
                    monitors: vec![info],
                }),
            }
        }
        groups.sort_by(|a, b| {
            b.monitors
                .len()
                .cmp(&a.monitors.len())
                .then(b.oldest.cmp(&a.oldest))
        });
        Self { groups }
    }
}

impl fmt::Display for LeakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.groups.is_empty() {
            return f.write_str("no suspected monitor leaks");
        }
        write!(f, "{} suspected monitor leak(s):", self.total())?;
        for group in &self.groups {
            write!(
                f,
                "\n  {} x tag `{}` at {}, oldest {:?}",
                group.monitors.len(),
                group.tag,
                group.location,
                group.oldest
            )?;
        }
        Ok(())
    }
}
