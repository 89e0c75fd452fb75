//! The on-error policies, invalid options and the stats.

#[path = "support/actors.rs"]
mod actors;

use std::time::Duration;

use actors::{Behaviour, Recorder};
use foundation_dead_letter::{Config, DeadLetterQueue, Reason};
use foundation_mailbox::{ActorOptions, ExitReason, Registry, start_with};
use foundation_supervised_send::{
    Backoff, ErrorClass, Failure, OnError, OptionsError, SendOptions, SendStats, Target,
    send_supervised,
};

fn nobody() -> Target<u64> {
    let names: Registry<&'static str> = Registry::new();
    Target::named::<Recorder, _>(&names, "nobody")
}

fn options(stats: &SendStats, tag: &str) -> SendOptions {
    SendOptions::new()
        .timeout(Duration::from_secs(5))
        .max_attempts(3)
        .jitter_seed(5)
        .tagged(stats.tag(tag))
}

#[tokio::test(start_paused = true)]
async fn a_dead_letter_carries_metadata_attempts_and_history() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let stats = SendStats::new();
    let options = options(&stats, "billing")
        .on_error(OnError::DeadLetter(queue.clone()))
        .metadata("order", "42");
    let failure = send_supervised(&nobody(), 17, &options).await.unwrap_err();
    assert!(failure.message.is_none(), "the queue has it");
    let entry = queue.get(failure.dead_letter.unwrap()).unwrap();
    assert_eq!(entry.metadata["order"], "42");
    assert_eq!(entry.metadata["tag"], "billing");
    assert_eq!(entry.metadata["target"], "name \"nobody\"");
    assert_eq!(entry.attempts, 3);
    assert_eq!(entry.history.len(), 3);
    assert!(matches!(&entry.reason, Reason::Undeliverable(why) if why.contains("out of attempts")));
    let (_, message) = queue.take(entry.id).unwrap();
    assert_eq!(message.downcast::<u64>().ok(), Some(17));
    let counts = stats.snapshot().tag("billing").unwrap();
    assert_eq!(
        (counts.failed, counts.dead_lettered, counts.retried),
        (1, 1, 2)
    );
}

#[tokio::test(start_paused = true)]
async fn log_and_ignore_drop_the_message_and_still_say_why() {
    let stats = SendStats::new();
    for policy in [OnError::Log, OnError::Ignore] {
        let options = options(&stats, "quiet").on_error(policy);
        let failure = send_supervised(&nobody(), 1, &options).await.unwrap_err();
        assert!(failure.message.is_none());
        assert_eq!(failure.last.class(), ErrorClass::NotRegistered);
    }
    assert_eq!(stats.snapshot().tag("quiet").unwrap().failed, 2);
}

#[tokio::test(start_paused = true)]
async fn invalid_options_are_refused_with_the_message_back() {
    let stats = SendStats::new();
    let bad = [
        (
            options(&stats, "bad").max_attempts(0),
            OptionsError::NoAttempts,
        ),
        (
            options(&stats, "bad").timeout(Duration::ZERO),
            OptionsError::ZeroTimeout,
        ),
        (
            options(&stats, "bad").backoff(Backoff {
                jitter: 2.0,
                ..Backoff::default()
            }),
            OptionsError::Jitter(2.0),
        ),
        (
            options(&stats, "bad").backoff(Backoff {
                factor: 0.5,
                ..Backoff::default()
            }),
            OptionsError::Factor(0.5),
        ),
    ];
    for (options, expected) in bad {
        let failure = send_supervised(&nobody(), 3, &options).await.unwrap_err();
        assert!(matches!(&failure.last, Failure::InvalidOptions(error) if *error == expected));
        assert_eq!((failure.attempts, failure.message), (0, Some(3)));
    }
}

#[tokio::test(start_paused = true)]
async fn stats_count_per_tag_and_in_total() {
    let (recorder, _handle) = start_with::<Recorder>(Behaviour::default(), ActorOptions::new())
        .await
        .unwrap();
    let stats = SendStats::new();
    let target = Target::actor(&recorder);
    let fast = options(&stats, "fast");
    for n in 0..5 {
        send_supervised(&target, n, &fast).await.unwrap();
    }
    let slow = options(&stats, "slow");
    send_supervised(&nobody(), 9, &slow).await.unwrap_err();
    recorder
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    send_supervised(&target, 10, &fast).await.unwrap_err();

    let snapshot = stats.snapshot();
    let fast = snapshot.tag("fast").unwrap();
    assert_eq!(
        (fast.sent, fast.delivered, fast.failed, fast.retried),
        (6, 5, 1, 0)
    );
    let slow = snapshot.tag("slow").unwrap();
    assert_eq!(
        (slow.sent, slow.delivered, slow.failed, slow.retried),
        (1, 0, 1, 2)
    );
    assert_eq!(snapshot.total.sent, 7);
    assert_eq!(snapshot.total.failed, 2);
    assert_eq!(snapshot.total.in_flight(), 0);
}
