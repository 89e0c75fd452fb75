//! The router's errors, one type per operation: a bad topic, a bad pattern, a refused subscription.

use foundation_mailbox::Pid;
use thiserror::Error;

/// A topic that cannot be routed.
///
/// Returned by [`Topic::new`](crate::Topic::new) and
/// [`Signal::parse`](crate::Signal::parse). Segments are counted from 0.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TopicError {
    /// The topic is the empty string.
    #[error("a topic needs at least one segment")]
    Empty,
    /// A segment is empty: the topic starts or ends with a dot, or has two in a row.
    #[error("segment {index} is empty (a leading, trailing or doubled dot)")]
    EmptySegment {
        /// Which segment.
        index: usize,
    },
    /// A segment holds `*` or `>`: topics are concrete, wildcards belong in patterns.
    #[error(
        "segment {index} ({segment:?}) holds a wildcard; topics are concrete, wildcards belong in patterns"
    )]
    Wildcard {
        /// Which segment.
        index: usize,
        /// The segment as written.
        segment: String,
    },
    /// A segment holds whitespace or a control character.
    #[error(
        "segment {index} holds {character:?}; segments cannot hold whitespace or control characters"
    )]
    InvalidCharacter {
        /// Which segment.
        index: usize,
        /// The character.
        character: char,
    },
}

/// A subscription pattern that cannot be used.
///
/// Returned by [`Pattern::new`](crate::Pattern::new), and inside
/// [`SubscribeError::Pattern`] by
/// [`SignalRouter::subscribe`](crate::SignalRouter::subscribe).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PatternError {
    /// The pattern is the empty string.
    #[error("a pattern needs at least one segment")]
    Empty,
    /// A segment is empty: the pattern starts or ends with a dot, or has two in a row.
    #[error("segment {index} is empty (a leading, trailing or doubled dot)")]
    EmptySegment {
        /// Which segment.
        index: usize,
    },
    /// A segment mixes a wildcard with other characters, like `temp*`.
    #[error(
        "segment {index} ({segment:?}) mixes a wildcard with text; `*` and `>` must be whole segments"
    )]
    PartialWildcard {
        /// Which segment.
        index: usize,
        /// The segment as written.
        segment: String,
    },
    /// `>` (the rest of the topic) is not the last segment.
    #[error(
        "`>` matches the rest of a topic, so it must be the last segment (it is segment {index} of {count})"
    )]
    FullWildcardNotLast {
        /// Where the `>` is.
        index: usize,
        /// How many segments the pattern has.
        count: usize,
    },
    /// A segment holds whitespace or a control character.
    #[error(
        "segment {index} holds {character:?}; segments cannot hold whitespace or control characters"
    )]
    InvalidCharacter {
        /// Which segment.
        index: usize,
        /// The character.
        character: char,
    },
}

/// A subscription that was not made.
///
/// Returned by [`SignalRouter::subscribe`](crate::SignalRouter::subscribe)
/// and [`SignalRouter::subscribe_with`](crate::SignalRouter::subscribe_with).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SubscribeError {
    /// The pattern is not valid.
    #[error("invalid pattern: {0}")]
    Pattern(#[from] PatternError),
    /// The queue group's name is empty or holds whitespace or a control character.
    #[error(
        "invalid queue group name {name:?}: it must be non-empty, without whitespace or control characters"
    )]
    QueueName {
        /// The name as given.
        name: String,
    },
    /// The subscriber had already exited; nothing would ever handle its signals.
    #[error("the subscriber {0} has exited")]
    NoProcess(Pid),
}
