//! Denials are counted and reported to tracing under `foundation::rate_limiter`;
//! admitted checks emit nothing.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_rate_limiter::{Config, ManualClock, Registry};
use tracing::{Event, Metadata, span, subscriber::Subscriber};

/// Counts the events of the rate limiter's target.
struct CountEvents(Arc<AtomicUsize>);

impl Subscriber for CountEvents {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() == "foundation::rate_limiter" {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

#[test]
fn only_denials_are_counted_and_traced() {
    let events = Arc::new(AtomicUsize::new(0));
    let limiters = Registry::<u64, _>::with_clock(ManualClock::new());
    let login = limiters
        .register("login", Config::fixed_window(2, Duration::from_secs(1)))
        .unwrap();
    tracing::subscriber::with_default(CountEvents(Arc::clone(&events)), || {
        assert!(login.check(&1).is_allowed());
        assert!(login.check(&1).is_allowed());
        assert_eq!(events.load(Ordering::Relaxed), 0);
        assert!(!login.check(&1).is_allowed());
        assert!(!login.check_n(&2, 3).is_allowed());
    });
    assert_eq!(events.load(Ordering::Relaxed), 2);
    assert_eq!(login.denied(), 2);
}
