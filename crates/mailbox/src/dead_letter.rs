//! Where messages go when they cannot be handled: the dead-letter hook.
//!
//! Nothing accepted by a mailbox is lost silently. When a process exits, each
//! message still queued is handed to its dead-letter sink with the exit
//! reason; a mailbox whose overflow policy drops messages hands those over
//! too. The default sink records a tracing event and counts; the
//! `foundation-dead-letter` crate provides a queue that keeps them.

use std::{
    any::Any,
    fmt,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{ExitReason, Pid};

/// Why a message became a dead letter.
#[derive(Clone, Debug, PartialEq)]
pub enum DeadLetterReason {
    /// The receiving process exited with this reason before handling it.
    Exited(ExitReason),
    /// The mailbox was full and its overflow policy dropped the message.
    Overflow,
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(reason) => write!(f, "receiver exited ({reason})"),
            Self::Overflow => f.write_str("mailbox overflow"),
        }
    }
}

/// Whether a dead letter was a cast or the request of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A fire-and-forget message.
    Cast,
    /// A call's request; its caller was told the callee exited.
    Call,
    /// A system message sent with
    /// [`ProcessRef::send_system`](crate::ProcessRef::send_system) that
    /// found the system lane full.
    System,
}

/// A message that was accepted but never handled.
///
/// The message itself is kept, type-erased, so a sink can downcast it and
/// retry or inspect it.
pub struct DeadLetter {
    /// The process the message was for.
    pub recipient: Pid,
    /// Why it was not handled.
    pub reason: DeadLetterReason,
    /// Cast or call.
    pub kind: MessageKind,
    /// The Rust type name of the message, for logs: the type of `message`
    /// for a cast or a system message; for a call, whose request was
    /// dropped, the actor's message type as
    /// [`Actor::message_type_name`](crate::Actor::message_type_name) names it
    /// (the user's type, not a wrapper such as persistence's).
    pub type_name: &'static str,
    /// The message.
    pub message: Box<dyn Any + Send>,
}

impl fmt::Debug for DeadLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeadLetter")
            .field("recipient", &self.recipient)
            .field("reason", &self.reason)
            .field("kind", &self.kind)
            .field("type_name", &self.type_name)
            .finish_non_exhaustive()
    }
}

/// Receives dead letters. Implement it to keep, forward or retry them.
///
/// Called outside every lock, once per message, from the task that noticed
/// the message could not be handled. It must not block for long.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use foundation::mailbox::{DeadLetter, DeadLetterSink};
///
/// #[derive(Debug, Default)]
/// struct Keep(Mutex<Vec<DeadLetter>>);
///
/// impl DeadLetterSink for Keep {
///     fn dead_letter(&self, letter: DeadLetter) {
///         self.0.lock().unwrap().push(letter);
///     }
/// }
///
/// let sink: Arc<dyn DeadLetterSink> = Arc::new(Keep::default());
/// # let _ = sink;
/// ```
pub trait DeadLetterSink: Send + Sync + fmt::Debug + 'static {
    /// Takes one dead letter.
    fn dead_letter(&self, letter: DeadLetter);
}

// Counters, not state anyone mutates by hand: they only ever go up.
static DEFAULT_SINK_COUNT: AtomicU64 = AtomicU64::new(0);
static DEFAULT_SINK_CALLS: AtomicU64 = AtomicU64::new(0);

/// The sink used when none is configured: an event under target
/// `foundation::mailbox` and process-wide counters.
///
/// A cast or system message that was never handled is a `warn` event: its
/// sender was not told. A call's request is a `debug` event: the mailbox
/// dropped it with its reply port, so its caller already got an error (the
/// callee's exit reason, or overflow); it is counted apart, in
/// [`calls`](Self::calls).
///
/// ```
/// use foundation::mailbox::DefaultDeadLetterSink;
///
/// let before = DefaultDeadLetterSink::count();
/// assert!(DefaultDeadLetterSink::count() >= before);
/// assert!(DefaultDeadLetterSink::calls() <= DefaultDeadLetterSink::count());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultDeadLetterSink;

impl DefaultDeadLetterSink {
    /// How many dead letters the default sink has seen in this program.
    pub fn count() -> u64 {
        DEFAULT_SINK_COUNT.load(Ordering::Relaxed)
    }

    /// How many of those were calls' requests, whose callers had been told.
    pub fn calls() -> u64 {
        DEFAULT_SINK_CALLS.load(Ordering::Relaxed)
    }
}

impl DeadLetterSink for DefaultDeadLetterSink {
    fn dead_letter(&self, letter: DeadLetter) {
        if letter.kind == MessageKind::Call {
            // Counted before the total, so `calls() <= count()` holds to a
            // reader at any moment.
            DEFAULT_SINK_CALLS.fetch_add(1, Ordering::Relaxed);
            DEFAULT_SINK_COUNT.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                target: "foundation::mailbox",
                recipient = %letter.recipient,
                reason = %letter.reason,
                message_type = letter.type_name,
                "dead call; its caller was told"
            );
            return;
        }
        DEFAULT_SINK_COUNT.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            target: "foundation::mailbox",
            recipient = %letter.recipient,
            reason = %letter.reason,
            kind = ?letter.kind,
            message_type = letter.type_name,
            "dead letter"
        );
    }
}
