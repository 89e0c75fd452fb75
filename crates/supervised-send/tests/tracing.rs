//! What a send tells tracing: a span per send carrying the tag, the target
//! and the metadata, and a `warn` event under `OnError::Log`. Tests observe
//! events; they never wait on them.

#[path = "support/actors.rs"]
mod actors;

use std::{
    fmt::Debug,
    sync::{Arc, Mutex},
    time::Duration,
};

use actors::{Behaviour, Recorder};
use foundation_mailbox::{ActorOptions, Registry, start_with};
use foundation_supervised_send::{OnError, SEND_TARGET, SendOptions, Target, send_supervised};
use tracing::{
    Event, Level, Metadata, Subscriber,
    field::{Field, Visit},
    span::{Attributes, Id, Record},
};

/// What the capturing subscriber saw: spans and events with their fields.
#[derive(Debug, Default)]
struct Seen {
    spans: Vec<(String, Vec<(String, String)>)>,
    events: Vec<(Level, Vec<(String, String)>)>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Seen>>);

struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0
            .push((field.name().to_string(), format!("{value:?}")));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == SEND_TARGET
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let mut fields = Fields(Vec::new());
        span.record(&mut fields);
        let mut seen = self.0.lock().unwrap();
        seen.spans
            .push((span.metadata().name().to_string(), fields.0));
        Id::from_u64(seen.spans.len() as u64)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields(Vec::new());
        event.record(&mut fields);
        self.0
            .lock()
            .unwrap()
            .events
            .push((*event.metadata().level(), fields.0));
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

#[tokio::test(start_paused = true)]
async fn each_send_has_a_span_with_its_tag_target_and_metadata() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let (recorder, _handle) = start_with::<Recorder>(Behaviour::default(), ActorOptions::new())
        .await
        .unwrap();
    let options = SendOptions::new()
        .timeout(Duration::from_secs(1))
        .tag("traced")
        .metadata("order", "42");
    send_supervised(&Target::actor(&recorder), 1, &options)
        .await
        .unwrap();
    send_supervised(&Target::actor(&recorder), 2, &options)
        .await
        .unwrap();

    let seen = capture.0.lock().unwrap();
    let sends: Vec<_> = seen
        .spans
        .iter()
        .filter(|(name, _)| name == "supervised_send")
        .collect();
    assert_eq!(sends.len(), 2, "one span per send");
    let fields = &sends[0].1;
    assert_eq!(field(fields, "tag"), Some("\"traced\""));
    assert_eq!(field(fields, "mode"), Some("\"delivered\""));
    assert!(field(fields, "metadata").unwrap().contains("order"));
    assert!(field(fields, "to").is_some());
}

#[tokio::test(start_paused = true)]
async fn the_log_policy_emits_a_warning_with_the_metadata() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let names: Registry<&'static str> = Registry::new();
    let options = SendOptions::new()
        .timeout(Duration::from_secs(1))
        .max_attempts(2)
        .on_error(OnError::Log)
        .metadata("order", "43");
    let target = Target::<u64>::named::<Recorder, _>(&names, "nobody");
    send_supervised(&target, 1, &options).await.unwrap_err();

    let seen = capture.0.lock().unwrap();
    let warnings: Vec<_> = seen
        .events
        .iter()
        .filter(|(level, _)| *level == Level::WARN)
        .collect();
    assert_eq!(warnings.len(), 1);
    let fields = &warnings[0].1;
    assert!(field(fields, "metadata").unwrap().contains("43"));
    assert_eq!(field(fields, "attempts"), Some("2"));
}
