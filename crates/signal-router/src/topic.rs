//! [`Topic`] and [`Pattern`]: the validated names signals are routed by, and the rule that matches them.

use std::{fmt, str::FromStr, sync::Arc};

use crate::{PatternError, TopicError};

/// What a segment may not hold, in topics and patterns alike.
fn invalid_character(segment: &str) -> Option<char> {
    segment
        .chars()
        .find(|character| character.is_whitespace() || character.is_control())
}

/// A signal's name: dot-separated, non-empty segments, such as
/// `sensors.kitchen.temperature`. Topics are concrete: no `*` or `>`.
///
/// A topic whose first segment starts with `$` (`$sys.router.dropped`) is
/// in the system namespace: a pattern reaches it only by naming that first
/// segment literally, never through a leading `*` or `>` (MQTT's `$SYS`
/// rule), so a catch-all subscriber does not see internal traffic.
///
/// Cloning is cheap (the text is shared); validate a topic once and route
/// it many times.
///
/// ```
/// use foundation::signal_router::{Topic, TopicError};
///
/// let topic = Topic::new("sensors.kitchen.temperature").unwrap();
/// assert_eq!(topic.segments().collect::<Vec<_>>(), ["sensors", "kitchen", "temperature"]);
/// assert!(!topic.is_system());
/// assert!(Topic::new("$sys.drops").unwrap().is_system());
/// assert_eq!(Topic::new("sensors..temp"), Err(TopicError::EmptySegment { index: 1 }));
/// assert!(matches!(Topic::new("sensors.*"), Err(TopicError::Wildcard { index: 1, .. })));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Topic {
    text: Arc<str>,
}

impl Topic {
    /// Validates `text` as a topic.
    pub fn new(text: &str) -> Result<Self, TopicError> {
        if text.is_empty() {
            return Err(TopicError::Empty);
        }
        for (index, segment) in text.split('.').enumerate() {
            if segment.is_empty() {
                return Err(TopicError::EmptySegment { index });
            }
            if segment.contains(['*', '>']) {
                return Err(TopicError::Wildcard {
                    index,
                    segment: segment.to_owned(),
                });
            }
            if let Some(character) = invalid_character(segment) {
                return Err(TopicError::InvalidCharacter { index, character });
            }
        }
        Ok(Self { text: text.into() })
    }

    /// The topic as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split('.')
    }

    /// Whether it is in the system namespace: its first segment starts with `$`.
    pub fn is_system(&self) -> bool {
        self.text.starts_with('$')
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Topic({:?})", &*self.text)
    }
}

impl AsRef<str> for Topic {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl FromStr for Topic {
    type Err = TopicError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl TryFrom<&str> for Topic {
    type Error = TopicError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::new(text)
    }
}

/// What a subscription listens to: a topic where a segment may be `*`
/// (exactly one segment) and the last may be `>` (one or more segments):
/// NATS's syntax, so a later bridge between nodes can map it one to one.
///
/// | pattern | matches | does not match |
/// | --- | --- | --- |
/// | `orders.created` | `orders.created` | `orders.created.eu` |
/// | `orders.*` | `orders.created` | `orders`, `orders.created.eu` |
/// | `orders.>` | `orders.created`, `orders.created.eu` | `orders` |
/// | `>` | every topic outside the `$` namespace | `$sys.drops` |
/// | `$sys.>` | `$sys.drops` | `sys.drops` |
///
/// ```
/// use foundation::signal_router::{Pattern, PatternError, Topic};
///
/// let pattern = Pattern::new("sensors.*.temperature").unwrap();
/// assert!(pattern.matches(&Topic::new("sensors.kitchen.temperature").unwrap()));
/// assert!(!pattern.matches(&Topic::new("sensors.kitchen.humidity").unwrap()));
/// assert!(matches!(Pattern::new("sensors.>.temperature"), Err(PatternError::FullWildcardNotLast { index: 1, count: 3 })));
/// assert!(matches!(Pattern::new("sensors.temp*"), Err(PatternError::PartialWildcard { index: 1, .. })));
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pattern {
    text: Arc<str>,
}

impl Pattern {
    /// Validates `text` as a pattern.
    pub fn new(text: &str) -> Result<Self, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        let count = text.split('.').count();
        for (index, segment) in text.split('.').enumerate() {
            if segment.is_empty() {
                return Err(PatternError::EmptySegment { index });
            }
            match segment {
                "*" => {}
                ">" if index + 1 == count => {}
                ">" => return Err(PatternError::FullWildcardNotLast { index, count }),
                _ if segment.contains(['*', '>']) => {
                    return Err(PatternError::PartialWildcard {
                        index,
                        segment: segment.to_owned(),
                    });
                }
                _ => {}
            }
            if let Some(character) = invalid_character(segment) {
                return Err(PatternError::InvalidCharacter { index, character });
            }
        }
        Ok(Self { text: text.into() })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Its segments, in order (`*` and `>` included).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.text.split('.')
    }

    /// Whether it has no wildcard: it matches exactly one topic.
    pub fn is_literal(&self) -> bool {
        self.segments()
            .all(|segment| segment != "*" && segment != ">")
    }

    /// Whether `topic` matches, by the rules above. The router does not
    /// test patterns one by one (its trie walks the topic's segments once);
    /// this is the rule stated plainly, for tests and for users.
    pub fn matches(&self, topic: &Topic) -> bool {
        let mut topic_segments = topic.segments();
        for (index, segment) in self.segments().enumerate() {
            let wildcard = segment == "*" || segment == ">";
            if index == 0 && wildcard && topic.is_system() {
                return false;
            }
            match (segment, topic_segments.next()) {
                (">", Some(_)) => return true,
                (_, None) => return false,
                ("*", Some(_)) => {}
                (literal, Some(actual)) if literal == actual => {}
                _ => return false,
            }
        }
        topic_segments.next().is_none()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", &*self.text)
    }
}

impl AsRef<str> for Pattern {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl TryFrom<&str> for Pattern {
    type Error = PatternError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::new(text)
    }
}

#[cfg(test)]
mod tests;
