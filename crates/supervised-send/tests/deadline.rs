//! One deadline across every attempt: however the retries and backoffs
//! fall, a send never takes longer than its timeout.

#[path = "support/actors.rs"]
mod actors;

use std::time::Duration;

use actors::{Behaviour, Recorder};
use foundation_mailbox::{ActorOptions, Registry, start_with};
use foundation_supervised_send::{
    Backoff, ErrorClass, GaveUp, SendOptions, SendStats, Target, send_supervised,
    send_supervised_acked,
};
use tokio::time::Instant;

fn backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(100),
        factor: 2.0,
        max: Duration::from_millis(400),
        jitter: 0.5,
    }
}

#[tokio::test(start_paused = true)]
async fn retries_never_run_past_the_deadline() {
    // A name nobody registers: every attempt fails at once and is retried.
    let names: Registry<&'static str> = Registry::new();
    let target = Target::<u64>::named::<Recorder, _>(&names, "nobody");
    for timeout_ms in [1, 99, 100, 250, 777, 1_000, 5_000] {
        let timeout = Duration::from_millis(timeout_ms);
        let options = SendOptions::new()
            .timeout(timeout)
            .max_attempts(u32::MAX)
            .backoff(backoff())
            .jitter_seed(timeout_ms);
        let start = Instant::now();
        let failure = send_supervised(&target, 7, &options).await.unwrap_err();
        assert!(
            start.elapsed() <= timeout,
            "{timeout:?}: took {:?}",
            start.elapsed()
        );
        assert_eq!(failure.gave_up, GaveUp::Deadline);
        assert_eq!(failure.last.class(), ErrorClass::NotRegistered);
        assert_eq!(failure.history.len() as u32, failure.attempts);
        assert_eq!(failure.into_inner(), Some(7), "the message comes back");
    }
}

#[tokio::test(start_paused = true)]
async fn a_seeded_backoff_is_the_same_every_run_and_within_its_bounds() {
    let names: Registry<&'static str> = Registry::new();
    let target = Target::<u64>::named::<Recorder, _>(&names, "nobody");
    let options = SendOptions::new()
        .timeout(Duration::from_secs(60))
        .max_attempts(6)
        .backoff(backoff())
        .jitter_seed(42);
    let run = || async {
        let failure = send_supervised(&target, 1, &options).await.unwrap_err();
        assert_eq!(failure.gave_up, GaveUp::OutOfAttempts);
        failure
            .history
            .iter()
            .map(|attempt| attempt.after)
            .collect::<Vec<_>>()
    };
    let first = run().await;
    assert_eq!(first, run().await, "same seed, same delays");
    assert_eq!(first.len(), 6);
    for (retry, pair) in first.windows(2).enumerate() {
        let waited = pair[1] - pair[0];
        let full = Duration::from_millis((100u64 << retry).min(400));
        assert!(
            waited <= full && waited >= full / 2,
            "retry {retry}: waited {waited:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn attempts_that_time_out_share_the_one_deadline() {
    // Ack mode, and the handler never acknowledges: every attempt waits for
    // its own bound, and all of them together for the send's. Without
    // deduplication, each resend is handled again (at least once).
    let behaviour = Behaviour::default();
    behaviour
        .lose_acks
        .store(u32::MAX, std::sync::atomic::Ordering::SeqCst);
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let stats = SendStats::new();
    let options = SendOptions::new()
        .timeout(Duration::from_millis(1_000))
        .attempt_timeout(Duration::from_millis(300))
        .max_attempts(10)
        .backoff(backoff())
        .jitter_seed(3)
        .tagged(stats.tag("never-acked"));
    let start = Instant::now();
    let failure = send_supervised_acked(&Target::actor(&recorder), 9, &options)
        .await
        .unwrap_err();
    assert!(
        start.elapsed() <= Duration::from_millis(1_000),
        "took {:?}",
        start.elapsed()
    );
    assert_eq!(failure.last.class(), ErrorClass::Timeout);
    assert!(failure.attempts >= 2, "it was resent: {failure:?}");
    assert_eq!(behaviour.handled(), vec![9; failure.attempts as usize]);
    let counts = stats.snapshot().tag("never-acked").unwrap();
    assert_eq!((counts.sent, counts.failed, counts.delivered), (1, 1, 0));
    assert_eq!(counts.retried, u64::from(failure.attempts - 1));
}

#[tokio::test(start_paused = true)]
async fn a_mailbox_that_never_has_room_ends_at_the_deadline_with_the_message_back() {
    let behaviour = Behaviour::default();
    let (recorder, _handle) =
        start_with::<Recorder>(behaviour.clone(), ActorOptions::new().capacity(1))
            .await
            .unwrap();
    let (_open, gate) = tokio::sync::oneshot::channel();
    recorder.cast(actors::Rec::Gate(gate)).await.unwrap();
    tokio::task::yield_now().await;
    recorder.cast(actors::Rec::Item(1)).await.unwrap(); // the mailbox is full now
    let options = SendOptions::new()
        .timeout(Duration::from_millis(500))
        .max_attempts(5);
    let start = Instant::now();
    let failure = send_supervised(&Target::actor(&recorder), 2, &options)
        .await
        .unwrap_err();
    assert_eq!(start.elapsed(), Duration::from_millis(500));
    assert_eq!(failure.last.class(), ErrorClass::Timeout);
    assert_eq!(failure.into_inner(), Some(2));
    assert_eq!(
        recorder.mailbox_stats().queued,
        1,
        "the withdrawn message is not queued"
    );
}
