//! The probe: expectations that hold, and hostile cases that must fail within their bound with a clear message.

use std::time::Duration;

use foundation_mailbox::{Actor, Context, ExitReason, SendError, start};
use foundation_monitor_manager::MonitorManager;
use foundation_testkit::{Observed, Probe, ProbeError, expect_match};
use tokio::time::Instant;

const WITHIN: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Started(u32),
    Done,
}

/// An actor that does nothing; something to watch, link and stop.
#[derive(Debug)]
struct Idle;

impl Actor for Idle {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Idle)
    }

    async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn expectations_take_the_first_match_and_leave_the_rest_in_order() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let events = probe.recipient::<Event>();
    for event in [Event::Started(1), Event::Done, Event::Started(2)] {
        events.send(event).await.unwrap();
    }

    assert_eq!(
        probe.expect(|e| *e == Event::Done, WITHIN).await.unwrap(),
        Event::Done
    );
    assert_eq!(probe.receive(WITHIN).await.unwrap(), Event::Started(1));
    let id = probe
        .expect_map(
            |e| match e {
                Event::Started(id) => Some(*id),
                Event::Done => None,
            },
            WITHIN,
        )
        .await
        .unwrap();
    assert_eq!(id, 2);
    probe
        .expect_no_message(Duration::from_millis(50))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_message_that_never_comes_fails_at_the_bound_saying_what_came_instead() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    probe
        .recipient::<Event>()
        .send(Event::Started(3))
        .await
        .unwrap();

    let began = Instant::now();
    let error = probe
        .expect(|e| *e == Event::Done, Duration::from_millis(250))
        .await
        .unwrap_err();
    // Paused time: the bound passed exactly, and no wall time was spent.
    assert_eq!(began.elapsed(), Duration::from_millis(250));
    assert!(
        matches!(&error, ProbeError::Timeout { unread, .. } if unread == &["Started(3)".to_owned()])
    );
    let message = error.to_string();
    assert!(message.contains("within 250ms"), "{message}");
    assert!(message.contains("Started(3)"), "{message}");
    // What was skipped is still there.
    assert_eq!(probe.receive(WITHIN).await.unwrap(), Event::Started(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_multi_thread_runtime_a_missing_message_fails_within_real_time() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let began = std::time::Instant::now();
    let error = probe.receive(Duration::from_millis(30)).await.unwrap_err();
    assert!(matches!(error, ProbeError::Timeout { .. }));
    assert!(began.elapsed() >= Duration::from_millis(30));
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "a bounded wait overran: {:?}",
        began.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_message_during_a_quiet_period_is_reported_and_kept() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    probe.recipient::<Event>().send(Event::Done).await.unwrap();

    let error = probe
        .expect_no_message(Duration::from_millis(10))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "probe {}: expected no message for 10ms, got Done",
            probe.pid()
        )
    );
    assert_eq!(probe.receive(WITHIN).await.unwrap(), Event::Done);
}

#[tokio::test(start_paused = true)]
async fn a_down_is_expected_from_a_watched_process_only() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let (idle, _handle) = start::<Idle>(()).await.unwrap();

    let unwatched = probe.expect_down(idle.pid(), WITHIN).await.unwrap_err();
    assert!(matches!(unwatched, ProbeError::NotWatched { target, .. } if target == idle.pid()));
    assert!(unwatched.to_string().contains("call `watch` first"));

    probe.watch(&idle.process_ref());
    idle.stop(ExitReason::shutdown(), WITHIN).await.unwrap();
    assert_eq!(
        probe.expect_down(idle.pid(), WITHIN).await.unwrap(),
        ExitReason::shutdown()
    );
}

#[tokio::test(start_paused = true)]
async fn watching_a_process_already_gone_gives_a_down_at_once() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let (idle, _handle) = start::<Idle>(()).await.unwrap();
    idle.stop(ExitReason::Normal, WITHIN).await.unwrap();

    probe.watch(&idle.process_ref());
    assert_eq!(
        probe.expect_down(idle.pid(), WITHIN).await.unwrap(),
        ExitReason::NoProcess
    );
}

#[tokio::test(start_paused = true)]
async fn a_linked_process_exit_arrives_as_a_signal_and_the_probe_survives_it() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let (idle, _handle) = start::<Idle>(()).await.unwrap();

    let unlinked = probe.expect_exit(idle.pid(), WITHIN).await.unwrap_err();
    assert!(matches!(unlinked, ProbeError::NotLinked { .. }));

    probe.link(&idle.process_ref()).unwrap();
    assert!(idle.kill());
    assert_eq!(
        probe.expect_exit(idle.pid(), WITHIN).await.unwrap(),
        ExitReason::Killed
    );
    assert!(probe.process_ref().is_alive());
    // DOWNs and exits do not count as messages, but do as unread items.
    probe
        .expect_no_message(Duration::from_millis(10))
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_probe_dropped_while_watched_gives_its_watcher_a_down() {
    let probe = Probe::<Event>::start().await.unwrap();
    let process = probe.process_ref();
    let monitors = MonitorManager::new();
    let mut monitor = monitors.watch(&process, "test");
    let events = probe.recipient::<Event>();

    drop(probe);
    let down = monitor.down(WITHIN).await.unwrap();
    assert_eq!(down.pid, process.pid());
    assert!(
        matches!(down.reason, ExitReason::Shutdown(Some(ref why)) if &**why == "probe dropped")
    );
    // The code under test now gets a clear error, not a silent drop.
    assert!(matches!(
        events.send(Event::Done).await,
        Err(SendError::NoProcess(Event::Done))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_probe_dropped_with_a_message_in_flight_still_exits() {
    let probe = Probe::<Event>::with_capacity(1).await.unwrap();
    let events = probe.recipient::<Event>();
    // Fill the test's side so the probe's process waits in its handler.
    for _ in 0..3 {
        events.send(Event::Done).await.unwrap();
    }
    let process = probe.process_ref();
    drop(probe);
    let reason = process.wait_for_exit(WITHIN).await.unwrap();
    assert!(matches!(reason, ExitReason::Shutdown(_)), "{reason:?}");
}

#[tokio::test(start_paused = true)]
async fn a_probe_killed_by_the_code_under_test_says_so() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    assert!(probe.process_ref().kill());
    let error = probe.receive(WITHIN).await.unwrap_err();
    assert!(matches!(error, ProbeError::ProbeExited { .. }), "{error:?}");
    assert!(error.to_string().contains("has exited"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn a_flood_of_unmatched_messages_ends_the_search_instead_of_growing_without_bound() {
    let mut probe = Probe::<Event>::with_capacity(4).await.unwrap();
    let events = probe.recipient::<Event>();
    let flood = async {
        for n in 0..16 {
            if events.send(Event::Started(n)).await.is_err() {
                break;
            }
        }
    };
    let search = probe.expect(|e| *e == Event::Done, WITHIN);
    let ((), result) = tokio::join!(flood, search);
    assert!(
        matches!(result, Err(ProbeError::TooManyUnread { unread: 4, .. })),
        "{result:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn unread_lists_what_an_expectation_skipped_in_arrival_order() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let (idle, _handle) = start::<Idle>(()).await.unwrap();
    probe.watch(&idle.process_ref());
    probe
        .recipient::<Event>()
        .send(Event::Started(1))
        .await
        .unwrap();
    idle.stop(ExitReason::Normal, WITHIN).await.unwrap();
    probe.recipient::<Event>().send(Event::Done).await.unwrap();

    // Reaching the last message reads everything before it.
    probe.expect(|e| *e == Event::Done, WITHIN).await.unwrap();
    let unread = probe.unread();
    assert_eq!(unread.len(), 2);
    assert_eq!(unread[0], &Observed::Message(Event::Started(1)));
    assert!(matches!(unread[1], Observed::Down(down) if down.pid == idle.pid()));
}

#[tokio::test(start_paused = true)]
async fn a_probe_dropped_while_linked_takes_its_linked_process_down() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    let (idle, _handle) = start::<Idle>(()).await.unwrap();
    probe.link(&idle.process_ref()).unwrap();

    drop(probe);
    let reason = idle.wait_for_exit(WITHIN).await.unwrap();
    assert!(
        matches!(reason, ExitReason::Shutdown(Some(ref why)) if &**why == "probe dropped"),
        "{reason:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_pattern_expectation_names_its_pattern_when_it_fails() {
    let mut probe = Probe::<Event>::start().await.unwrap();
    probe
        .recipient::<Event>()
        .send(Event::Started(1))
        .await
        .unwrap();

    let error = expect_match!(probe, Event::Started(n) if *n > 5, Duration::from_millis(20))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("no message matching `Event::Started(n) if *n > 5` within 20ms"),
        "{message}"
    );
    assert_eq!(
        expect_match!(probe, Event::Started(_), WITHIN)
            .await
            .unwrap(),
        Event::Started(1)
    );
}
