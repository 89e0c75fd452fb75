//! Unit tests of the queue: what an entry holds, the mailbox sink, bounds, pruning, listing, purging, stats and noise.

use std::time::{Duration, UNIX_EPOCH};

use foundation_mailbox::{ActorOptions, Overflow as MailboxOverflow, Pid, start_with};

use crate::{
    AppendError, Config, DeadLetterQueue, Filter, Kind, Letter, ManualClock, Overflow, Reason,
    ReasonClass, Stats, Status, Storage, Suppress,
    test_support::{Counter, CounterMsg},
};

const TIMEOUT: Duration = Duration::from_secs(5);

fn clock() -> ManualClock {
    ManualClock::at(UNIX_EPOCH + Duration::from_secs(1_000_000))
}

fn letter(n: u64) -> Letter {
    Letter::new(Pid::new(), n, Reason::Undeliverable("timed out".into()))
}

#[tokio::test]
async fn an_entry_keeps_everything_its_producer_knew() {
    let clock = clock();
    let queue = DeadLetterQueue::new(Config::default().clock(clock.clone())).unwrap();
    let pid = Pid::new();
    let id = queue
        .append(
            Letter::new(pid, 7_u64, Reason::Undeliverable("timed out".into()))
                .kind(Kind::Call)
                .metadata("tag", "billing")
                .attempts(3),
        )
        .await
        .unwrap();
    let entry = queue.get(id).unwrap();
    assert_eq!(entry.id, id);
    assert_eq!(entry.recipient, Some(pid.as_u64()));
    assert_eq!(entry.reason.class(), ReasonClass::Undeliverable);
    assert_eq!(entry.kind, Kind::Call);
    assert_eq!(entry.type_name, "u64");
    assert_eq!(entry.metadata["tag"], "billing");
    assert_eq!(entry.attempts, 3);
    assert_eq!(entry.first_failure, clock.now_for_test());
    assert_eq!(entry.last_attempt, entry.first_failure);
    assert_eq!(entry.history.len(), 1);
    assert_eq!(entry.history[0].error, "undeliverable (timed out)");
    assert_eq!(entry.status, Status::Pending);
    assert_eq!(entry.storage, Storage::Memory);
    let (_, message) = queue.take(id).unwrap();
    assert_eq!(message.downcast::<u64>().unwrap(), 7);
}

impl ManualClock {
    fn now_for_test(&self) -> std::time::SystemTime {
        crate::Clock::now(self)
    }
}

#[tokio::test]
async fn messages_queued_at_an_exit_land_in_the_queue() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let options = ActorOptions::new().dead_letters(queue.sink());
    let (counter, _handle) = start_with::<Counter>((), options).await.unwrap();
    // No await between the casts: all four are queued before the actor
    // runs, and it crashes on the first.
    for n in 0..=3 {
        counter.try_cast_from(n).unwrap();
    }
    counter.wait_for_exit(TIMEOUT).await.unwrap();
    let entries = queue.list(&Filter::all().reason(ReasonClass::Exited), 10);
    assert_eq!(entries.len(), 3);
    for entry in &entries {
        assert_eq!(entry.recipient, Some(counter.pid().as_u64()));
        assert_eq!(entry.kind, Kind::Cast);
        assert_eq!(entry.type_name, std::any::type_name::<CounterMsg>());
        assert!(
            entry.reason.to_string().contains("counter told to crash"),
            "{}",
            entry.reason
        );
    }
    let (_, message) = queue.take(entries[0].id).unwrap();
    let message = message.downcast::<CounterMsg>().unwrap();
    assert!(matches!(message, CounterMsg::Add(1)), "{message:?}");
}

#[tokio::test]
async fn an_overflow_policy_drop_lands_in_the_queue() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let options = ActorOptions::new()
        .capacity(1)
        .overflow(MailboxOverflow::DropNewest)
        .dead_letters(queue.sink());
    let (counter, _handle) = start_with::<Counter>((), options).await.unwrap();
    // No await between the casts: the actor cannot run, the mailbox fills.
    for n in 1..=3 {
        counter.try_cast_from(n).unwrap();
    }
    let dropped = queue.list(&Filter::all().reason(ReasonClass::Overflow), 10);
    assert_eq!(dropped.len(), 2);
    assert!(
        dropped
            .iter()
            .all(|entry| entry.recipient == Some(counter.pid().as_u64()))
    );
}

#[tokio::test]
async fn a_full_queue_drops_its_oldest_and_counts() {
    let queue = DeadLetterQueue::new(Config::default().capacity(2)).unwrap();
    for n in 0..5 {
        queue.append(letter(n)).await.unwrap();
    }
    let kept: Vec<u64> = queue
        .list(&Filter::all(), 10)
        .iter()
        .map(|entry| entry.id.get())
        .collect();
    assert_eq!(kept, [4, 5]);
    assert_eq!(queue.stats().dropped_overflow, 3);
}

#[tokio::test]
async fn a_full_rejecting_queue_gives_the_letter_back() {
    let queue =
        DeadLetterQueue::new(Config::default().capacity(1).overflow(Overflow::Reject)).unwrap();
    queue.append(letter(1)).await.unwrap();
    let error = queue.append(letter(2)).await.unwrap_err();
    assert_eq!(error.to_string(), "dead-letter queue full");
    let letter = error.into_letter().unwrap();
    assert_eq!(letter.message().downcast_ref::<u64>(), Some(&2));
    assert_eq!(queue.stats().rejected, 1);
    assert_eq!(queue.len(), 1);
}

#[tokio::test]
async fn old_entries_are_pruned_by_the_injected_clock() {
    let clock = clock();
    let config = Config::default()
        .clock(clock.clone())
        .max_age(Some(Duration::from_secs(60)));
    let queue = DeadLetterQueue::new(config).unwrap();
    queue.append(letter(1)).await.unwrap();
    clock.advance(Duration::from_secs(30));
    queue.append(letter(2)).await.unwrap();
    clock.advance(Duration::from_secs(30));
    assert_eq!(queue.list(&Filter::all(), 10).len(), 1);
    // An entry that says it failed long ago is caught by a full prune.
    queue
        .append(letter(3).first_failure(UNIX_EPOCH))
        .await
        .unwrap();
    assert_eq!(queue.prune(), 1);
    assert_eq!(queue.stats().pruned, 2);
}

#[tokio::test(start_paused = true)]
async fn the_default_clock_follows_tokio_paused_time() {
    let queue =
        DeadLetterQueue::new(Config::default().max_age(Some(Duration::from_secs(60)))).unwrap();
    queue.append(letter(1)).await.unwrap();
    tokio::time::advance(Duration::from_secs(59)).await;
    assert_eq!(queue.prune(), 0);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(queue.prune(), 1);
}

#[tokio::test]
async fn list_filters_and_limits_and_purge_removes_what_matches() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    for n in 0..4 {
        let tag = if n % 2 == 0 { "even" } else { "odd" };
        queue.append(letter(n).metadata("tag", tag)).await.unwrap();
    }
    queue
        .append(Letter::new(Pid::new(), "text", Reason::Overflow))
        .await
        .unwrap();
    assert_eq!(queue.list(&Filter::all(), 2).len(), 2);
    assert_eq!(
        queue.list(&Filter::all().metadata("tag", "odd"), 10).len(),
        2
    );
    assert_eq!(queue.list(&Filter::all().type_name("&str"), 10).len(), 1);
    assert_eq!(queue.purge(&Filter::all().metadata("tag", "even")), 2);
    assert_eq!(queue.purge(&Filter::all().reason(ReasonClass::Overflow)), 1);
    assert_eq!(queue.len(), 2);
    let stats = queue.stats();
    assert_eq!(
        (stats.appended, stats.purged, stats.in_memory, stats.durable),
        (5, 3, 2, 0)
    );
}

#[tokio::test]
async fn a_suppressed_class_is_counted_not_kept() {
    let config = Config::default().suppress(Suppress::of::<&str>().reason(ReasonClass::Overflow));
    let queue = DeadLetterQueue::new(config).unwrap();
    let error = queue
        .append(Letter::new(Pid::new(), "tick", Reason::Overflow))
        .await
        .unwrap_err();
    assert!(matches!(error, AppendError::Suppressed(_)));
    // Same type, another reason: kept.
    queue
        .append(Letter::new(
            Pid::new(),
            "tick",
            Reason::Exited("normal".into()),
        ))
        .await
        .unwrap();
    assert_eq!(queue.stats().suppressed, 1);
    assert_eq!(queue.len(), 1);
}

#[tokio::test]
async fn warnings_are_capped_per_interval() {
    let clock = clock();
    let config = Config::default().clock(clock.clone()).warnings(Some(
        foundation_rate_limiter::Config::fixed_window(2, Duration::from_secs(10)),
    ));
    let queue = DeadLetterQueue::new(config).unwrap();
    for n in 0..5 {
        queue.append(letter(n)).await.unwrap();
    }
    assert_eq!(queue.stats().warnings_suppressed, 3);
    clock.advance(Duration::from_secs(10));
    queue.append(letter(5)).await.unwrap();
    assert_eq!(queue.stats().warnings_suppressed, 3);
}

#[test]
fn a_bad_configuration_is_a_typed_error() {
    let error = DeadLetterQueue::new(Config::default().capacity(0)).unwrap_err();
    assert_eq!(error.to_string(), "capacity must be at least 1");
    assert!(DeadLetterQueue::new(Config::default().max_attempts(0)).is_err());
    let stats: Stats = DeadLetterQueue::new(Config::default()).unwrap().stats();
    assert_eq!(stats, Stats::default());
}

#[tokio::test]
async fn a_letter_for_no_process_is_kept_and_filtered_by_recipient() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let pid = Pid::new();
    queue
        .append(Letter::new(
            None,
            1_u64,
            Reason::Undeliverable("no process named `shop`".into()),
        ))
        .await
        .unwrap();
    queue
        .append(Letter::new(pid, 2_u64, Reason::Overflow))
        .await
        .unwrap();
    let for_pid = queue.list(&Filter::all().recipient(pid.as_u64()), 10);
    assert_eq!(for_pid.len(), 1);
    assert_eq!(queue.list(&Filter::all(), 10)[0].recipient, None);
}

/// A call queued behind a crash is a dead call: its caller is told the
/// callee exited, and the queue counts it without keeping an entry (there
/// is no request left to redrive) or warning about it.
#[tokio::test]
async fn a_dead_call_is_counted_not_kept() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let options = ActorOptions::new().dead_letters(queue.sink());
    let (counter, _handle) = start_with::<Counter>((), options).await.unwrap();
    // Queued before the actor runs: the crash comes first, the call after.
    counter.try_cast_from(0_u64).unwrap();
    let called = counter.call(CounterMsg::Total, TIMEOUT).await;
    assert!(
        matches!(called, Err(foundation_mailbox::CallError::Exited(_))),
        "{called:?}"
    );
    counter.wait_for_exit(TIMEOUT).await.unwrap();
    let stats = queue.stats();
    assert_eq!(stats.dead_calls, 1);
    assert_eq!(stats.appended, 0);
    assert!(queue.is_empty());
}
