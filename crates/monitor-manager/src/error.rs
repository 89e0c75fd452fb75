//! The errors of this crate, one type per operation.

use std::time::Duration;

use foundation_mailbox::Pid;

/// Why [`Monitor::down`](crate::Monitor::down) gave no DOWN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DownError {
    /// The target did not exit within the timeout.
    #[error("no DOWN within {0:?}")]
    Timeout(Duration),
    /// The monitor has a watcher process: its DOWN goes to that process's
    /// mailbox, not to the guard (see [`MonitorManager::monitor`](crate::MonitorManager::monitor)).
    #[error("the DOWN goes to the watcher's mailbox")]
    InMailbox,
    /// The DOWN was already taken from this guard.
    #[error("the DOWN was already taken")]
    Taken,
}

/// Why [`link`](crate::link) made no link.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// That process had already exited (OTP's `noproc`).
    #[error("no process {0}")]
    NoProcess(Pid),
    /// A process cannot link to itself.
    #[error("a process cannot link to itself")]
    SelfLink,
}
