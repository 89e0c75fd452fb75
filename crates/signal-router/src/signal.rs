//! [`Signal`]: a payload with the topic it is routed by; what subscribers receive.

use std::fmt;

use crate::{Topic, TopicError};

/// A payload and its topic. [`SignalRouter::route`](crate::SignalRouter::route)
/// takes one, and each matching subscriber receives one, so a subscriber on
/// a wildcard pattern knows which topic it got.
///
/// Routing to several subscribers clones it: the topic is shared text, the
/// payload is cloned with its own `Clone` (wrap a large payload in an `Arc`).
///
/// ```
/// use foundation::signal_router::Signal;
///
/// let signal = Signal::parse("sensors.kitchen.temperature", 21.5).unwrap();
/// assert_eq!(signal.topic().as_str(), "sensors.kitchen.temperature");
/// assert_eq!(*signal.payload(), 21.5);
/// assert!(Signal::parse("sensors..temperature", 0.0).is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Signal<M> {
    topic: Topic,
    payload: M,
}

impl<M> Signal<M> {
    /// A signal on an already validated topic.
    pub fn new(topic: Topic, payload: M) -> Self {
        Self { topic, payload }
    }

    /// Validates `topic` and makes the signal.
    pub fn parse(topic: &str, payload: M) -> Result<Self, TopicError> {
        Ok(Self::new(Topic::new(topic)?, payload))
    }

    /// Its topic.
    pub fn topic(&self) -> &Topic {
        &self.topic
    }

    /// Its payload.
    pub fn payload(&self) -> &M {
        &self.payload
    }

    /// The payload, without the topic.
    pub fn into_payload(self) -> M {
        self.payload
    }

    /// The topic and the payload.
    pub fn into_parts(self) -> (Topic, M) {
        (self.topic, self.payload)
    }
}

impl<M: fmt::Debug> fmt::Debug for Signal<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("topic", &self.topic.as_str())
            .field("payload", &self.payload)
            .finish()
    }
}
