//! [`Filter`]: which entries a `list` or `purge` touches.

use std::time::SystemTime;

use crate::{Entry, EntryId, ReasonClass, Status, Storage};

/// Which entries to list, purge or redrive. Every condition set must hold;
/// [`Filter::all`] matches every entry.
///
/// ```
/// use foundation::dead_letter::{Filter, ReasonClass, Status};
///
/// let stuck = Filter::all().status(Status::Exhausted).reason(ReasonClass::Exited);
/// # let _ = stuck;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Filter {
    ids: Option<Vec<EntryId>>,
    recipient: Option<u64>,
    type_name: Option<String>,
    reason: Option<ReasonClass>,
    status: Option<Status>,
    storage: Option<Storage>,
    metadata: Vec<(String, String)>,
    failed_before: Option<SystemTime>,
}

impl Filter {
    /// Matches every entry.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these entries.
    pub fn ids(mut self, ids: impl IntoIterator<Item = EntryId>) -> Self {
        self.ids = Some(ids.into_iter().collect());
        self
    }

    /// Only entries for the recipient with this pid number.
    pub fn recipient(mut self, pid: u64) -> Self {
        self.recipient = Some(pid);
        self
    }

    /// Only messages of this Rust type name (as `std::any::type_name` gives it).
    pub fn type_name(mut self, name: impl Into<String>) -> Self {
        self.type_name = Some(name.into());
        self
    }

    /// Only entries whose reason is of this class.
    pub fn reason(mut self, class: ReasonClass) -> Self {
        self.reason = Some(class);
        self
    }

    /// Only pending or only exhausted entries.
    pub fn status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// Only in-memory or only durable entries.
    pub fn storage(mut self, storage: Storage) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Only entries whose metadata holds `key` with `value`.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// Only entries that first failed before `at`.
    pub fn failed_before(mut self, at: SystemTime) -> Self {
        self.failed_before = Some(at);
        self
    }

    /// Whether `entry` matches.
    pub fn matches(&self, entry: &Entry) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&entry.id))
            && self
                .recipient
                .is_none_or(|pid| Some(pid) == entry.recipient)
            && self
                .type_name
                .as_ref()
                .is_none_or(|name| *name == entry.type_name)
            && self
                .reason
                .is_none_or(|class| class == entry.reason.class())
            && self.status.is_none_or(|status| status == entry.status)
            && self.storage.is_none_or(|storage| storage == entry.storage)
            && self
                .metadata
                .iter()
                .all(|(key, value)| entry.metadata.get(key) == Some(value))
            && self.failed_before.is_none_or(|at| entry.first_failure < at)
    }
}
