//! The kit's errors: one type per kind of wait, each saying what was awaited and what came instead.

use std::time::Duration;

use foundation_mailbox::{ExitReason, Pid};

/// Why a [`Probe`](crate::Probe) expectation failed: returned by
/// [`expect`](crate::Probe::expect), [`receive`](crate::Probe::receive),
/// [`expect_map`](crate::Probe::expect_map),
/// [`expect_down`](crate::Probe::expect_down),
/// [`expect_exit`](crate::Probe::expect_exit) and
/// [`expect_no_message`](crate::Probe::expect_no_message).
///
/// Its `Display` is the assertion message a test prints on failure: what
/// was awaited, for how long, and what the probe received instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProbeError {
    /// Nothing matching arrived within the bound.
    #[error(
        "probe {probe}: no {expected} within {within:?}; unread meanwhile: {}",
        list(unread)
    )]
    Timeout {
        /// The probe's pid.
        probe: Pid,
        /// What the test waited for.
        expected: String,
        /// How long it waited.
        within: Duration,
        /// What the probe holds unread (in `Debug` form), oldest first.
        unread: Vec<String>,
    },
    /// [`expect_no_message`](crate::Probe::expect_no_message) found a message.
    #[error("probe {probe}: expected no message for {during:?}, got {received}")]
    Unexpected {
        /// The probe's pid.
        probe: Pid,
        /// The message, in `Debug` form.
        received: String,
        /// The quiet period the test asked for.
        during: Duration,
    },
    /// [`expect_down`](crate::Probe::expect_down) for a process the probe
    /// does not watch: no DOWN could ever come. Call
    /// [`watch`](crate::Probe::watch) first.
    #[error(
        "probe {probe}: waits for a DOWN from {target}, which it does not watch (call `watch` first)"
    )]
    NotWatched {
        /// The probe's pid.
        probe: Pid,
        /// The process named in the expectation.
        target: Pid,
    },
    /// [`expect_exit`](crate::Probe::expect_exit) for a process the probe is
    /// not linked to: no exit signal could ever come. Call
    /// [`link`](crate::Probe::link) first.
    #[error(
        "probe {probe}: waits for an exit signal from {target}, which it is not linked to (call `link` first)"
    )]
    NotLinked {
        /// The probe's pid.
        probe: Pid,
        /// The process named in the expectation.
        target: Pid,
    },
    /// The probe's own process ended (killed by the code under test, or
    /// ended by a link), so nothing more can arrive.
    #[error(
        "probe {probe} has exited ({}): nothing more can arrive",
        reason_text(reason)
    )]
    ProbeExited {
        /// The probe's pid.
        probe: Pid,
        /// Why it exited, when already published.
        reason: Option<ExitReason>,
    },
    /// More messages arrived unread than the probe keeps while it searched
    /// for a match: the code under test sends far more than the test reads.
    #[error(
        "probe {probe}: {unread} messages unread while waiting for {expected}; read them or expect fewer"
    )]
    TooManyUnread {
        /// The probe's pid.
        probe: Pid,
        /// What the test waited for.
        expected: String,
        /// How many messages the probe holds unread.
        unread: usize,
    },
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_owned()
    } else {
        items.join(", ")
    }
}

fn reason_text(reason: &Option<ExitReason>) -> String {
    reason.as_ref().map_or_else(
        || "reason not yet published".to_owned(),
        ToString::to_string,
    )
}

/// A [`wait_for`](crate::wait_for) condition that did not hold within its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("condition not met within {within:?} ({checks} checks)")]
pub struct WaitError {
    /// How long the wait lasted.
    pub within: Duration,
    /// How many times the condition was checked.
    pub checks: u64,
}

/// No captured tracing event matched: returned by
/// [`EventCapture::check_emitted`](crate::EventCapture::check_emitted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "no event matching {matcher} was emitted; captured {captured} events{}",
    recent_text(recent)
)]
pub struct NotEmitted {
    /// The matcher, described.
    pub matcher: String,
    /// How many events were captured in all.
    pub captured: usize,
    /// The last few events captured, described, oldest first.
    pub recent: Vec<String>,
}

fn recent_text(recent: &[String]) -> String {
    if recent.is_empty() {
        String::new()
    } else {
        format!(", the last ones: {}", recent.join("; "))
    }
}

/// A global subscriber was already set, so
/// [`EventCapture::global`](crate::EventCapture::global) cannot capture every
/// thread's events: another test in the same binary (or the test harness)
/// set one first. Give the test a binary of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a global tracing subscriber is already set: give this test a binary of its own")]
pub struct GlobalCaptureError;

/// A test tree did not shut down cleanly: returned by
/// [`RunningTree::shutdown`](crate::RunningTree::shutdown).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TreeShutdownError {
    /// The tree was still stopping when the budget ran out; its root was
    /// killed and every child with it. A child's `terminate` or its
    /// shutdown spec takes longer than the test allows.
    #[error("the tree did not stop within {0:?}: its root was killed")]
    Overran(Duration),
    /// The root supervisor had already exited before the shutdown, for
    /// instance because it reached its restart intensity.
    #[error("the tree's root had already exited: {0}")]
    AlreadyExited(ExitReason),
}
