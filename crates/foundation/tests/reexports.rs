//! Every crate the facade promises resolves under its module name.

#[cfg(feature = "mailbox")]
#[test]
fn the_mailbox_crate_is_reexported() {
    let pid = foundation::mailbox::Pid::new();
    assert!(pid.as_u64() > 0);
    assert_eq!(foundation::mailbox::DEFAULT_CAPACITY, 1024);
}

#[cfg(feature = "rate-limiter")]
#[test]
fn the_rate_limiter_crate_is_reexported() {
    // Naming the module is the check: this fails to compile if it is missing.
    let crate_name = std::any::type_name::<foundation::rate_limiter::Decision>();
    assert!(crate_name.starts_with("foundation_rate_limiter"));
}

#[cfg(feature = "monitor-manager")]
#[test]
fn the_monitor_manager_crate_is_reexported() {
    let monitors = foundation::monitor_manager::MonitorManager::new();
    assert_eq!(monitors.stats().active, 0);
    assert!(monitors.find_leaks(std::time::Duration::ZERO).is_empty());
}

#[cfg(feature = "supervisor")]
#[test]
fn the_supervisor_crate_is_reexported() {
    let intensity = foundation::supervisor::Intensity::default();
    assert_eq!(intensity.max_restarts, 3);
    assert_eq!(intensity.period, std::time::Duration::from_secs(5));
}

#[cfg(feature = "persistence")]
#[test]
fn the_persistence_crate_is_reexported() {
    let store = foundation::persistence::MemoryStore::new();
    assert!(store.is_empty());
    assert_eq!(foundation::persistence::MAX_KEY_LEN, 1024);
}

#[cfg(feature = "dead-letter")]
#[test]
fn the_dead_letter_crate_is_reexported() {
    let queue =
        foundation::dead_letter::DeadLetterQueue::new(foundation::dead_letter::Config::default())
            .unwrap();
    assert!(queue.is_empty());
    assert_eq!(queue.stats().appended, 0);
}

#[cfg(feature = "signal-router")]
#[test]
fn the_signal_router_crate_is_reexported() {
    let pattern = foundation::signal_router::Pattern::new("orders.*.created").unwrap();
    let topic = foundation::signal_router::Topic::new("orders.eu.created").unwrap();
    assert!(pattern.matches(&topic));
    assert_eq!(foundation::signal_router::DEFAULT_ROUTER_CAPACITY, 1024);
}

#[cfg(feature = "circuit-breaker")]
#[test]
fn the_circuit_breaker_crate_is_reexported() {
    use foundation::circuit_breaker::{CircuitBreaker, Config, State};
    let breaker = CircuitBreaker::<()>::new(Config::default()).unwrap();
    assert_eq!(breaker.state(), State::Closed);
}

#[cfg(feature = "testkit")]
#[test]
fn the_testkit_crate_is_reexported() {
    let clock = foundation::testkit::ManualClock::new();
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(clock.elapsed(), std::time::Duration::from_secs(1));
}

#[cfg(feature = "supervised-send")]
#[test]
fn the_supervised_send_crate_is_reexported() {
    use foundation::supervised_send::{ErrorClass, SendOptions, SendStats};
    assert!(
        SendOptions::new()
            .give_up_on(ErrorClass::Full)
            .validate()
            .is_ok()
    );
    assert_eq!(SendStats::new().snapshot().total.sent, 0);
}

#[cfg(feature = "coordinator")]
#[test]
fn the_coordinator_crate_is_reexported() {
    use foundation::coordinator::{Retry, Step, Workflow};
    let workflow = Workflow::new("order").step(Step::new("only", |_| async { Ok(Vec::new()) }));
    assert_eq!(workflow.steps().len(), 1);
    assert_eq!(Retry::none().attempts(), 1);
}

#[cfg(feature = "scheduler")]
#[test]
fn the_scheduler_crate_is_reexported() {
    let job = foundation::scheduler::Job::after("key", std::time::Duration::from_secs(1), ());
    assert_eq!(job.key(), "key");
    assert_eq!(foundation::scheduler::TARGET, "foundation::scheduler");
}
