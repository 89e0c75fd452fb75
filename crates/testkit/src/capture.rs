//! [`EventCapture`]: records tracing events so a test can assert that one was emitted (observation only).

use std::fmt;

use tracing::{
    Event, Level, Metadata, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
    subscriber::DefaultGuard,
};

use crate::{
    GlobalCaptureError, NotEmitted,
    sync::{Arc, AtomicU64, Mutex, Ordering, lock},
};

/// How many events a capture keeps; later ones are counted, not kept.
pub const CAPTURE_LIMIT: usize = 10_000;

/// One tracing event, as captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedEvent {
    /// The event's target (`foundation::supervisor`, …).
    pub target: String,
    /// Its level.
    pub level: Level,
    /// Its message, when it has one.
    pub message: Option<String>,
    /// Its other fields, in `Debug` form (a `%display` field in its
    /// `Display` form), in the order they were written.
    pub fields: Vec<(String, String)>,
}

impl CapturedEvent {
    /// The value of the field `name`, if the event has it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

impl fmt::Display for CapturedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.level, self.target)?;
        if let Some(message) = &self.message {
            write!(f, " \"{message}\"")?;
        }
        for (name, value) in &self.fields {
            write!(f, " {name}={value}")?;
        }
        Ok(())
    }
}

/// What an event must look like to match; every part set must hold.
///
/// ```
/// use foundation::testkit::EventMatcher;
/// use tracing::Level;
///
/// let restarted = EventMatcher::new()
///     .target("foundation::supervisor")
///     .level(Level::INFO)
///     .message_contains("restart")
///     .field("child", "worker");
/// # let _ = restarted;
/// ```
#[derive(Debug, Clone, Default)]
pub struct EventMatcher {
    target: Option<String>,
    level: Option<Level>,
    message: Option<String>,
    fields: Vec<(String, String)>,
}

impl EventMatcher {
    /// A matcher every event matches.
    pub fn new() -> Self {
        Self::default()
    }

    /// The event's target is `target`, or starts with `target::`.
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = Some(target.into());
        self
    }

    /// The event's level is `level`.
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// The event's message contains `text`.
    pub fn message_contains(mut self, text: impl Into<String>) -> Self {
        self.message = Some(text.into());
        self
    }

    /// The event has a field `name` whose value, written as captured
    /// (`Debug`, or `Display` for `%` fields), is `value`; a string field's
    /// quotes are ignored.
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.push((name.into(), value.into()));
        self
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &CapturedEvent) -> bool {
        let target_ok = self.target.as_ref().is_none_or(|target| {
            event.target == *target
                || event
                    .target
                    .strip_prefix(target.as_str())
                    .is_some_and(|rest| rest.starts_with("::"))
        });
        let level_ok = self.level.is_none_or(|level| event.level == level);
        let message_ok = self.message.as_ref().is_none_or(|text| {
            event
                .message
                .as_ref()
                .is_some_and(|message| message.contains(text.as_str()))
        });
        let fields_ok = self.fields.iter().all(|(name, value)| {
            event
                .field(name)
                .is_some_and(|actual| actual == value || actual.trim_matches('"') == value)
        });
        target_ok && level_ok && message_ok && fields_ok
    }
}

impl fmt::Display for EventMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(target) = &self.target {
            parts.push(format!("target={target}"));
        }
        if let Some(level) = &self.level {
            parts.push(format!("level={level}"));
        }
        if let Some(message) = &self.message {
            parts.push(format!("message~\"{message}\""));
        }
        for (name, value) in &self.fields {
            parts.push(format!("{name}={value}"));
        }
        if parts.is_empty() {
            f.write_str("{any event}")
        } else {
            write!(f, "{{{}}}", parts.join(" "))
        }
    }
}

/// Captures the tracing events emitted on the current thread while it
/// lives, so a test can check that one was emitted.
///
/// Observation only: a test asserts on what was emitted once the behaviour
/// it waits for is done (a reply, a DOWN, a [`Probe`](crate::Probe)
/// expectation); it never waits for an event to happen.
///
/// The capture is the thread's default subscriber, so it sees the events
/// of a current-thread runtime (`#[tokio::test]`'s default), where every
/// actor runs on the test's thread. A multi-thread runtime's workers do
/// not see it: give them [`dispatch`](Self::dispatch) (see
/// `docs/testkit.md`).
///
/// ```
/// use foundation::testkit::{EventCapture, EventMatcher};
///
/// let capture = EventCapture::start();
/// tracing::warn!(target: "my_service::billing", invoice = 42, "invoice overdue");
/// capture.assert_emitted(&EventMatcher::new().target("my_service").message_contains("overdue").field("invoice", "42"));
/// assert!(capture.check_emitted(&EventMatcher::new().message_contains("paid")).is_err());
/// ```
#[must_use = "the capture stops when dropped"]
pub struct EventCapture {
    recorder: Arc<Recorder>,
    dispatch: tracing::Dispatch,
    /// The thread's default while the capture lives; `None` for a global one.
    _guard: Option<DefaultGuard>,
}

impl fmt::Debug for EventCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventCapture")
            .field("captured", &lock(&self.recorder.events).len())
            .finish()
    }
}

impl EventCapture {
    /// Starts capturing this thread's events, until the capture is dropped.
    pub fn start() -> Self {
        let recorder = Arc::new(Recorder::default());
        let dispatch = tracing::Dispatch::new(Shared(Arc::clone(&recorder)));
        let guard = tracing::dispatcher::set_default(&dispatch);
        Self {
            recorder,
            dispatch,
            _guard: Some(guard),
        }
    }

    /// Captures every thread's events for the rest of the process: for a
    /// multi-thread runtime, whose workers emit events the test's thread
    /// never sees. A process has one global subscriber, so this suits a
    /// test binary of its own (one `tests/*.rs` file); it fails if a global
    /// subscriber is already set.
    pub fn global() -> Result<Self, GlobalCaptureError> {
        let recorder = Arc::new(Recorder::default());
        let dispatch = tracing::Dispatch::new(Shared(Arc::clone(&recorder)));
        tracing::dispatcher::set_global_default(dispatch.clone())
            .map_err(|_already_set| GlobalCaptureError)?;
        Ok(Self {
            recorder,
            dispatch,
            _guard: None,
        })
    }

    /// The capture as a dispatcher, for other threads: a multi-thread
    /// runtime built with `on_thread_start` can install it on its workers.
    pub fn dispatch(&self) -> tracing::Dispatch {
        self.dispatch.clone()
    }

    /// Every event captured so far (at most [`CAPTURE_LIMIT`]), oldest first.
    pub fn events(&self) -> Vec<CapturedEvent> {
        lock(&self.recorder.events).clone()
    }

    /// The first captured event that matches, if any.
    pub fn find(&self, matcher: &EventMatcher) -> Option<CapturedEvent> {
        lock(&self.recorder.events)
            .iter()
            .find(|event| matcher.matches(event))
            .cloned()
    }

    /// How many captured events match.
    pub fn count(&self, matcher: &EventMatcher) -> usize {
        lock(&self.recorder.events)
            .iter()
            .filter(|event| matcher.matches(event))
            .count()
    }

    /// The first captured event that matches, or an error that describes
    /// the matcher and the last events captured.
    pub fn check_emitted(&self, matcher: &EventMatcher) -> Result<CapturedEvent, NotEmitted> {
        let events = lock(&self.recorder.events);
        if let Some(event) = events.iter().find(|event| matcher.matches(event)) {
            return Ok(event.clone());
        }
        let skip = events.len().saturating_sub(5);
        Err(NotEmitted {
            matcher: matcher.to_string(),
            captured: events.len() + self.recorder.dropped(),
            recent: events.iter().skip(skip).map(ToString::to_string).collect(),
        })
    }

    /// Asserts that a matching event was emitted, and returns it.
    ///
    /// # Panics
    ///
    /// When none was, with the matcher and the last events captured in the
    /// message: this is an assertion.
    #[track_caller]
    pub fn assert_emitted(&self, matcher: &EventMatcher) -> CapturedEvent {
        match self.check_emitted(matcher) {
            Ok(event) => event,
            Err(not_emitted) => panic!("{not_emitted}"),
        }
    }
}

#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<CapturedEvent>>,
    dropped: AtomicU64,
    next_span: AtomicU64,
}

impl Recorder {
    fn dropped(&self) -> usize {
        usize::try_from(self.dropped.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }
}

/// The subscriber itself: events only (spans are disabled, so actors build
/// none for the capture), recorded under one short lock.
struct Shared(Arc<Recorder>);

impl Subscriber for Shared {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.is_event()
    }

    fn new_span(&self, _attributes: &Attributes<'_>) -> Id {
        // Never called for a disabled span; an id is still owed if it is.
        Id::from_u64(self.0.next_span.fetch_add(1, Ordering::Relaxed) + 1)
    }

    fn record(&self, _span: &Id, _values: &Record<'_>) {}

    fn record_follows_from(&self, _span: &Id, _follows: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let mut visitor = FieldsVisitor::default();
        event.record(&mut visitor);
        let captured = CapturedEvent {
            target: metadata.target().to_owned(),
            level: *metadata.level(),
            message: visitor.message,
            fields: visitor.fields,
        };
        let mut events = lock(&self.0.events);
        if events.len() < CAPTURE_LIMIT {
            events.push(captured);
        } else {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn enter(&self, _span: &Id) {}

    fn exit(&self, _span: &Id) {}
}

#[derive(Default)]
struct FieldsVisitor {
    message: Option<String>,
    fields: Vec<(String, String)>,
}

impl Visit for FieldsVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.fields
                .push((field.name().to_owned(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let value = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(value);
        } else {
            self.fields.push((field.name().to_owned(), value));
        }
    }
}
