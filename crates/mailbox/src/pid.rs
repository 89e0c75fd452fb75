//! Process identifiers and unique references.

use std::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
};

// Plain std atomics, not the loom shim: these counters only hand out unique
// numbers and are not part of any model.
static NEXT_PID: AtomicU64 = AtomicU64::new(1);
static NEXT_REFERENCE: AtomicU64 = AtomicU64::new(1);

/// Identifies one process for the life of the program.
///
/// Pids are never reused, cheap to copy and compare, and print the way Erlang
/// prints them.
///
/// ```
/// use foundation::mailbox::Pid;
///
/// let a = Pid::new();
/// let b = Pid::new();
/// assert_ne!(a, b);
/// assert!(a.to_string().starts_with("<0."));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid(u64);

impl Pid {
    /// Allocates a pid no other process has had or will have.
    ///
    /// The runtime does this when it starts a process; call it directly only
    /// for processes of your own (tests, foreign tasks you register).
    pub fn new() -> Self {
        Self(NEXT_PID.fetch_add(1, Ordering::Relaxed))
    }

    /// The pid's number, unique within this program.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl Default for Pid {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<0.{}.0>", self.0)
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A unique reference, like Erlang's `make_ref()`: monitors and requests use
/// it to match a reply or a notification to what caused it.
///
/// ```
/// use foundation::mailbox::Reference;
///
/// assert_ne!(Reference::new(), Reference::new());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference(u64);

impl Reference {
    /// Makes a reference no other call has returned.
    pub fn new() -> Self {
        Self(NEXT_REFERENCE.fetch_add(1, Ordering::Relaxed))
    }

    /// The reference's number, unique within this program.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl Default for Reference {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#Ref<{}>", self.0)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
