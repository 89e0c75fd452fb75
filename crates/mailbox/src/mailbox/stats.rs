//! The mailbox's public knobs and read-outs: its overflow policy and stats.

/// What a full mailbox does with one more message.
///
/// ```
/// use foundation_mailbox::{ActorOptions, Overflow};
///
/// // A telemetry sink that would rather lose old samples than slow producers.
/// let options = ActorOptions::new().capacity(256).overflow(Overflow::DropOldest);
/// # let _ = options;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overflow {
    /// `cast(..).await` waits for room; `try_cast` gives the message back.
    #[default]
    Backpressure,
    /// Every send fails at once with the message given back.
    Reject,
    /// The oldest message still queued is dropped to make room (handed to the
    /// dead-letter sink and counted). When every queued message has already
    /// been taken by the actor for handling, the new message is dropped instead.
    DropOldest,
    /// The new message is dropped (handed to the dead-letter sink and
    /// counted); the send reports success.
    DropNewest,
}

/// A snapshot of a mailbox, for observability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailboxStats {
    /// User messages waiting, including those the actor has taken but not
    /// yet handled.
    pub queued: usize,
    /// The bound on `queued`.
    pub capacity: usize,
    /// Messages the overflow policy dropped since the actor started.
    pub dropped: u64,
    /// Message slots currently allocated in the shared user lane, plus the
    /// messages the actor has taken into its own batch and not yet handled.
    pub reserved_slots: usize,
    /// Bytes those slots take: `reserved_slots` times the size of one queued message.
    pub reserved_bytes: usize,
}
