//! [`ActorOptions`]: how one actor's mailbox and start are configured.

use std::{sync::Arc, time::Duration};

use crate::{DEFAULT_CAPACITY, DeadLetterSink, Overflow};

/// How to start an actor: mailbox capacity and overflow policy, where dead
/// letters go, and how long `start` waits for `init`.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{ActorOptions, Overflow};
///
/// let options = ActorOptions::new()
///     .capacity(64)
///     .overflow(Overflow::Reject)
///     .start_timeout(Duration::from_secs(1));
/// assert_eq!(options.mailbox_capacity(), 64);
/// ```
#[derive(Clone, Debug)]
pub struct ActorOptions {
    pub(crate) capacity: usize,
    pub(crate) overflow: Overflow,
    pub(crate) dead_letters: Option<Arc<dyn DeadLetterSink>>,
    pub(crate) start_timeout: Option<Duration>,
}

impl Default for ActorOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl ActorOptions {
    /// A mailbox of [`DEFAULT_CAPACITY`] with backpressure, the default
    /// dead-letter sink, and the configured start timeout.
    pub fn new() -> Self {
        Self {
            capacity: DEFAULT_CAPACITY,
            overflow: Overflow::Backpressure,
            dead_letters: None,
            start_timeout: None,
        }
    }

    /// The most user messages the mailbox holds. Must be at least 1 and at
    /// most `u32::MAX`; [`start`](crate::start) rejects anything else with
    /// [`StartError::InvalidOptions`](crate::StartError::InvalidOptions).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// What a full mailbox does with one more message.
    pub fn overflow(mut self, overflow: Overflow) -> Self {
        self.overflow = overflow;
        self
    }

    /// Where messages this actor never handles go.
    pub fn dead_letters(mut self, sink: Arc<dyn DeadLetterSink>) -> Self {
        self.dead_letters = Some(sink);
        self
    }

    /// How long [`start`](crate::start) waits for `init`; by default
    /// [`TimeoutConfig`](crate::TimeoutConfig)'s `Start` timeout.
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = Some(timeout);
        self
    }

    /// The configured capacity.
    pub fn mailbox_capacity(&self) -> usize {
        self.capacity
    }
}
