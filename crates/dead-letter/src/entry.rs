//! What the queue keeps: [`Entry`] and its parts, the [`Letter`] a producer appends, and the type-erased [`Message`].

use std::{
    any::Any,
    collections::BTreeMap,
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use foundation_mailbox::{DeadLetter, DeadLetterReason, MessageKind, Pid};
use serde::{Deserialize, Serialize};

/// Free-form key-value metadata a producer attaches to an entry: a call-site
/// tag, a trace id, the recipient's registered name (so a resolver can find
/// a restarted incarnation). Kept in key order.
pub type Metadata = BTreeMap<String, String>;

/// An entry's identity in its queue: assigned in append order and never
/// reused while the queue runs; a reopened durable queue continues after
/// the highest id it finds in its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryId(u64);

impl EntryId {
    /// The id with this number, for looking an entry up by a number a log
    /// printed.
    pub const fn new(number: u64) -> Self {
        Self(number)
    }

    /// The id's number.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Why a message became a dead letter.
///
/// The mailbox's [`DeadLetterReason`] holds an exit reason that is not
/// stored durably; this keeps its class and its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The recipient exited before handling it; the exit reason as text.
    Exited(String),
    /// The recipient's mailbox was full and its overflow policy dropped it.
    Overflow,
    /// A producer gave up delivering it (a supervised send out of retries,
    /// say); why, as text.
    Undeliverable(String),
}

impl Reason {
    /// The reason's class, for filters and suppression.
    pub fn class(&self) -> ReasonClass {
        match self {
            Self::Exited(_) => ReasonClass::Exited,
            Self::Overflow => ReasonClass::Overflow,
            Self::Undeliverable(_) => ReasonClass::Undeliverable,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(reason) => write!(f, "receiver exited ({reason})"),
            Self::Overflow => f.write_str("mailbox overflow"),
            Self::Undeliverable(reason) => write!(f, "undeliverable ({reason})"),
        }
    }
}

impl From<DeadLetterReason> for Reason {
    fn from(reason: DeadLetterReason) -> Self {
        match reason {
            DeadLetterReason::Exited(exit) => Self::Exited(exit.to_string()),
            DeadLetterReason::Overflow => Self::Overflow,
        }
    }
}

/// The class of a [`Reason`], without its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReasonClass {
    /// [`Reason::Exited`].
    Exited,
    /// [`Reason::Overflow`].
    Overflow,
    /// [`Reason::Undeliverable`].
    Undeliverable,
}

/// Whether the message was a cast, a call's request or a system message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// A fire-and-forget message.
    Cast,
    /// A call's request.
    Call,
    /// A system message.
    System,
}

impl From<MessageKind> for Kind {
    fn from(kind: MessageKind) -> Self {
        match kind {
            MessageKind::Cast => Self::Cast,
            MessageKind::Call => Self::Call,
            MessageKind::System => Self::System,
        }
    }
}

/// One failed delivery in an entry's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// When it failed.
    #[serde(with = "unix_millis")]
    pub at: SystemTime,
    /// Why, as text.
    pub error: String,
}

/// Where an entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Status {
    /// Waiting for a redrive.
    Pending,
    /// Out of attempts: listable with its history, never redriven again
    /// unless [`reset`](crate::DeadLetterQueue::reset).
    Exhausted,
}

/// Where an entry is kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Storage {
    /// In memory only: its message type has no codec, or the queue has no
    /// store. Lost when the program ends.
    Memory,
    /// In the queue's store too: it survives a restart of the program.
    Durable,
}

/// A dead letter as the queue keeps it, without its message: what
/// [`list`](crate::DeadLetterQueue::list) returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Its id in the queue.
    pub id: EntryId,
    /// The number of the recipient's [`Pid`] ([`Pid::as_u64`]); `None` when
    /// the producer never reached a process (a send by name that found no
    /// one). After a restart, or once the process has exited, it names no
    /// live process: a resolver finds the current incarnation by name or
    /// child reference.
    pub recipient: Option<u64>,
    /// Why it is here.
    pub reason: Reason,
    /// Cast, call or system message.
    pub kind: Kind,
    /// The message's Rust type name.
    pub type_name: String,
    /// What its producer attached.
    pub metadata: Metadata,
    /// Delivery attempts that failed, the producer's included.
    pub attempts: u32,
    /// When it first failed.
    #[serde(with = "unix_millis")]
    pub first_failure: SystemTime,
    /// When delivery was last attempted.
    #[serde(with = "unix_millis")]
    pub last_attempt: SystemTime,
    /// Each failed attempt, oldest first (at most the queue's
    /// [`history_limit`](crate::Config::history_limit), oldest dropped).
    pub history: Vec<Attempt>,
    /// Pending or exhausted.
    pub status: Status,
    /// In memory only or durable.
    pub storage: Storage,
}

/// A type-erased message, as the mailbox hands it over.
pub struct Message {
    value: Box<dyn Any + Send>,
    type_name: &'static str,
}

impl Message {
    /// Wraps a message.
    pub fn new<M: Any + Send>(message: M) -> Self {
        Self {
            value: Box::new(message),
            type_name: std::any::type_name::<M>(),
        }
    }

    /// Wraps an already boxed message whose type name the caller knows.
    pub fn from_boxed(value: Box<dyn Any + Send>, type_name: &'static str) -> Self {
        Self { value, type_name }
    }

    /// The message's Rust type name.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// The message as an `M`, or itself back if it is another type.
    pub fn downcast<M: Any>(self) -> Result<M, Self> {
        let type_name = self.type_name;
        self.value
            .downcast::<M>()
            .map(|message| *message)
            .map_err(|value| Self { value, type_name })
    }

    /// A reference to the message as an `M`, if it is one.
    pub fn downcast_ref<M: Any>(&self) -> Option<&M> {
        self.value.downcast_ref()
    }

    /// Whether the message is an `M`.
    pub fn is<M: Any>(&self) -> bool {
        self.value.is::<M>()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("type_name", &self.type_name)
            .finish_non_exhaustive()
    }
}

/// A dead letter to append: what a producer knows about a message it could
/// not deliver.
///
/// The mailbox's [`DeadLetter`] converts into one; other producers (a
/// supervised send out of retries) build one and add their metadata and
/// attempts.
///
/// ```
/// use foundation::dead_letter::{Letter, Reason};
/// use foundation::mailbox::Pid;
///
/// let letter = Letter::new(Pid::new(), "charge card 42", Reason::Undeliverable("timed out".into()))
///     .metadata("tag", "billing")
///     .attempts(3);
/// assert_eq!(letter.message().type_name(), "&str");
/// ```
#[derive(Debug)]
pub struct Letter {
    pub(crate) recipient: Option<u64>,
    pub(crate) reason: Reason,
    pub(crate) kind: Kind,
    pub(crate) message: Message,
    pub(crate) metadata: Metadata,
    pub(crate) attempts: u32,
    pub(crate) history: Vec<Attempt>,
    pub(crate) first_failure: Option<SystemTime>,
}

impl Letter {
    /// A cast to `recipient` (a [`Pid`], or `None` if no process was found)
    /// that failed for `reason`, after one attempt.
    pub fn new<M: Any + Send>(
        recipient: impl Into<Option<Pid>>,
        message: M,
        reason: Reason,
    ) -> Self {
        Self::from_message(recipient, Message::new(message), reason)
    }

    /// As [`new`](Self::new), for a message already type-erased.
    pub fn from_message(
        recipient: impl Into<Option<Pid>>,
        message: Message,
        reason: Reason,
    ) -> Self {
        Self {
            recipient: recipient.into().map(Pid::as_u64),
            reason,
            kind: Kind::Cast,
            message,
            metadata: Metadata::new(),
            attempts: 1,
            history: Vec::new(),
            first_failure: None,
        }
    }

    /// Sets the kind (a cast by default).
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    /// Adds one metadata pair.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// How many attempts the producer made (1 by default).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The producer's failed attempts, oldest first. Without one, the entry's
    /// history starts with its reason at the time of the append.
    pub fn history(mut self, history: Vec<Attempt>) -> Self {
        self.history = history;
        self
    }

    /// When delivery first failed (the time of the append by default).
    pub fn first_failure(mut self, at: SystemTime) -> Self {
        self.first_failure = Some(at);
        self
    }

    /// The message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The reason.
    pub fn reason(&self) -> &Reason {
        &self.reason
    }
}

impl From<DeadLetter> for Letter {
    fn from(letter: DeadLetter) -> Self {
        Self {
            recipient: Some(letter.recipient.as_u64()),
            reason: letter.reason.into(),
            kind: letter.kind.into(),
            message: Message::from_boxed(letter.message, letter.type_name),
            metadata: Metadata::new(),
            attempts: 1,
            history: Vec::new(),
            first_failure: None,
        }
    }
}

/// Times as milliseconds since the Unix epoch, for the stored form.
mod unix_millis {
    use super::{Duration, SystemTime, UNIX_EPOCH};

    pub(super) fn serialize<S: serde::Serializer>(
        at: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let millis = at.duration_since(UNIX_EPOCH).map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
        serializer.serialize_u64(millis)
    }

    pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let millis = <u64 as serde::Deserialize>::deserialize(deserializer)?;
        Ok(UNIX_EPOCH + Duration::from_millis(millis))
    }
}
