//! Why a supervised send failed: each attempt's [`Failure`] and its
//! [`ErrorClass`], the whole send's [`SendFailure`], and [`OptionsError`].

use std::{
    borrow::Cow,
    fmt,
    time::{Duration, SystemTime},
};

use foundation_dead_letter::EntryId;
use foundation_mailbox::{ExitReason, Pid};
use thiserror::Error;

/// The class of a [`Failure`], for the retry policy: a send gives up at
/// once on a class in its options' fatal set
/// ([`SendOptions::give_up_on`](crate::SendOptions::give_up_on)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// [`Failure::Gone`]. Fatal by default.
    Gone,
    /// [`Failure::NotRegistered`].
    NotRegistered,
    /// [`Failure::Restarting`].
    Restarting,
    /// [`Failure::Full`].
    Full,
    /// [`Failure::Timeout`].
    Timeout,
    /// [`Failure::Exited`].
    Exited,
    /// [`Failure::NoAck`].
    NoAck,
    /// [`Failure::Stale`]. Fatal by default.
    Stale,
    /// [`Failure::InvalidOptions`]. Always fatal.
    InvalidOptions,
}

impl ErrorClass {
    pub(crate) fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// Why one attempt of a supervised send failed.
#[derive(Clone, Debug, Error)]
pub enum Failure {
    /// The recipient exited and nothing will bring it back under this
    /// target: a fixed reference's actor exited, a supervisor's child is
    /// stopped or removed, a name is held by an actor of another type.
    #[error("recipient gone: {0}")]
    Gone(Cow<'static, str>),
    /// No live process holds the name (yet: a restarted actor may register
    /// it again).
    #[error("no process holds the name")]
    NotRegistered,
    /// The recipient is between incarnations: a child its supervisor is
    /// restarting, or an incarnation that exited before its supervisor saw
    /// it.
    #[error("recipient restarting")]
    Restarting,
    /// The mailbox is full and its overflow policy refused or dropped the
    /// message.
    #[error("mailbox full")]
    Full,
    /// No room in the mailbox within the attempt's time or, in ack mode, no
    /// acknowledgement.
    #[error("attempt timed out")]
    Timeout,
    /// Ack mode: the recipient exited, with this reason, before
    /// acknowledging (it may have panicked in its handler).
    #[error("recipient exited before acknowledging: {0}")]
    Exited(ExitReason),
    /// Ack mode: the handler dropped the message without admitting it.
    #[error("handler dropped the message without acknowledging it")]
    NoAck,
    /// Ack mode: the recipient's deduplication window has moved past this
    /// message's sequence number, so it cannot tell whether it handled it.
    #[error("recipient's deduplication window has moved past this message")]
    Stale,
    /// The options are invalid; nothing was sent.
    #[error("invalid options: {0}")]
    InvalidOptions(#[from] OptionsError),
}

impl Failure {
    /// The failure's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Gone(_) => ErrorClass::Gone,
            Self::NotRegistered => ErrorClass::NotRegistered,
            Self::Restarting => ErrorClass::Restarting,
            Self::Full => ErrorClass::Full,
            Self::Timeout => ErrorClass::Timeout,
            Self::Exited(_) => ErrorClass::Exited,
            Self::NoAck => ErrorClass::NoAck,
            Self::Stale => ErrorClass::Stale,
            Self::InvalidOptions(_) => ErrorClass::InvalidOptions,
        }
    }
}

/// Why a send stopped trying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GaveUp {
    /// The last failure's class is fatal in the options.
    Fatal,
    /// The options' attempts were all used.
    OutOfAttempts,
    /// The next backoff would end past the deadline, or the deadline came.
    Deadline,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Fatal => "fatal error",
            Self::OutOfAttempts => "out of attempts",
            Self::Deadline => "deadline",
        })
    }
}

/// One failed attempt, in a [`SendFailure`]'s history.
#[derive(Clone, Debug)]
pub struct FailedAttempt {
    /// Which attempt (1 for the first).
    pub attempt: u32,
    /// When it failed.
    pub at: SystemTime,
    /// How long after the send began.
    pub after: Duration,
    /// The pid it went to, if the target resolved to one.
    pub recipient: Option<Pid>,
    /// Why.
    pub failure: Failure,
}

/// A supervised send that failed for good, returned by
/// [`send_supervised`](crate::send_supervised) and
/// [`send_supervised_acked`](crate::send_supervised_acked) whatever the
/// on-error policy; the policy decides where the message went.
#[derive(Error)]
#[error("supervised send failed after {attempts} attempt(s) ({gave_up}): {last}")]
pub struct SendFailure<M> {
    /// The last attempt's failure.
    pub last: Failure,
    /// Why the send stopped trying.
    pub gave_up: GaveUp,
    /// Attempts made (0 when the options were invalid).
    pub attempts: u32,
    /// Every failed attempt, oldest first.
    pub history: Vec<FailedAttempt>,
    /// The message, under [`OnError::Return`](crate::OnError::Return).
    pub message: Option<M>,
    /// The dead letter's id, under
    /// [`OnError::DeadLetter`](crate::OnError::DeadLetter) when the queue
    /// kept it.
    pub dead_letter: Option<EntryId>,
}

impl<M> SendFailure<M> {
    /// The message, if the on-error policy gave it back.
    pub fn into_inner(self) -> Option<M> {
        self.message
    }
}

impl<M> fmt::Debug for SendFailure<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFailure")
            .field("last", &self.last)
            .field("gave_up", &self.gave_up)
            .field("attempts", &self.attempts)
            .field("history", &self.history)
            .field("message", &self.message.as_ref().map(|_| ".."))
            .field("dead_letter", &self.dead_letter)
            .finish()
    }
}

/// Invalid [`SendOptions`](crate::SendOptions), named by
/// [`SendOptions::validate`](crate::SendOptions::validate).
#[derive(Clone, Debug, Error, PartialEq)]
pub enum OptionsError {
    /// `max_attempts` is 0: the send could never try.
    #[error("max_attempts must be at least 1")]
    NoAttempts,
    /// A timeout is zero: nothing could be delivered in it.
    #[error("timeouts must be above zero")]
    ZeroTimeout,
    /// The backoff factor is below 1 or not a number.
    #[error("backoff factor must be a finite number of at least 1, not {0}")]
    Factor(f64),
    /// The jitter is outside `[0, 1]`.
    #[error("backoff jitter must be within 0 and 1, not {0}")]
    Jitter(f64),
    /// The backoff's cap is below its first wait.
    #[error("backoff max {max:?} is below its initial {initial:?}")]
    MaxBelowInitial {
        /// The first wait.
        initial: Duration,
        /// The cap.
        max: Duration,
    },
}
