//! The send's one deadline, fixed the first time the send has to wait.
//!
//! Reading the clock costs more than the rest of a send that succeeds at
//! once, so a send fixes its deadline only when it first has to wait (for
//! room, for a receipt, for a backoff), at most one scheduler turn after it
//! began, as the mailbox's calls do. Every wait is bounded from then on.

use std::{cmp::min, time::Duration};

use tokio::time::Instant;

/// The deadline of a whole send.
#[derive(Debug)]
pub(crate) struct Deadline {
    timeout: Duration,
    at: Option<Instant>,
}

impl Deadline {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self { timeout, at: None }
    }

    /// The deadline, fixed now if it was not yet.
    pub(crate) fn get(&mut self) -> Instant {
        let timeout = self.timeout;
        *self.at.get_or_insert_with(|| {
            let now = Instant::now();
            // A timeout too large for the clock is a deadline decades away.
            now.checked_add(timeout)
                .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
        })
    }

    /// When the send's time began to count.
    pub(crate) fn start(&mut self) -> Instant {
        let deadline = self.get();
        deadline.checked_sub(self.timeout).unwrap_or(deadline)
    }
}

/// The end of one attempt: the send's deadline, or sooner under the
/// options' attempt bound, fixed the first time the attempt has to wait.
#[derive(Debug)]
pub(crate) struct Until<'a> {
    deadline: &'a mut Deadline,
    bound: Option<Duration>,
    at: Option<Instant>,
}

impl<'a> Until<'a> {
    pub(crate) fn new(deadline: &'a mut Deadline, bound: Option<Duration>) -> Self {
        Self {
            deadline,
            bound,
            at: None,
        }
    }

    pub(crate) fn get(&mut self) -> Instant {
        if let Some(at) = self.at {
            return at;
        }
        let deadline = self.deadline.get();
        let at = match self.bound {
            Some(bound) => Instant::now()
                .checked_add(bound)
                .map_or(deadline, |end| min(deadline, end)),
            None => deadline,
        };
        self.at = Some(at);
        at
    }
}
