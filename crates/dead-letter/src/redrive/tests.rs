//! Unit tests of redrive: delivery to a restarted incarnation, failures in history, exhaustion, loop protection, the rate, periodic runs and cancelling.

use std::{
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use foundation_mailbox::{ActorOptions, Overflow as MailboxOverflow, Pid, Registry, start_with};

use super::*;
use crate::{
    Config, Reason, ReasonClass, Stats,
    test_support::{Counter, CounterMsg},
};

const TIMEOUT: Duration = Duration::from_secs(5);

fn letter(n: u64) -> Letter {
    Letter::new(Pid::new(), n, Reason::Undeliverable("timed out".into()))
}

/// Moves paused time on by `by` and lets the woken redrive task run: it
/// is at the back of the run queue, and one yield reaches it.
async fn pass(by: Duration) {
    tokio::time::advance(by).await;
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
}

fn failing() -> impl Resolver {
    |_: &Entry, message: Message| Err(Undelivered::new(message, "still down"))
}

#[tokio::test]
async fn a_redrive_reaches_the_restarted_incarnation_by_name() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let names = Registry::<String>::new();
    let options = ActorOptions::new().dead_letters(queue.sink());
    let (first, _handle) = start_with::<Counter>((), options.clone()).await.unwrap();
    names
        .register("counter".to_owned(), first.process_ref())
        .unwrap();
    // Crash it with two messages queued: they become dead letters.
    for n in [0, 5, 6] {
        first.try_cast_from(n).unwrap();
    }
    first.wait_for_exit(TIMEOUT).await.unwrap();
    assert_eq!(queue.len(), 2);

    // The next incarnation takes the name; the resolver finds it by name.
    let (second, _handle) = start_with::<Counter>((), options).await.unwrap();
    names
        .register("counter".to_owned(), second.process_ref())
        .unwrap();
    let by_name = names.clone();
    let resolver = typed(move |_entry: &Entry, message: CounterMsg| {
        by_name
            .try_cast::<Counter>("counter", message)
            .map_err(Undelivered::from)
    });
    let report = queue.redrive(&resolver, &RedriveOptions::default());
    assert_eq!(report.delivered, 2);
    assert_eq!(second.call(CounterMsg::Total, TIMEOUT).await.unwrap(), 11);
    assert!(queue.is_empty());
    assert_eq!(queue.stats().redriven_ok, 2);
}

#[tokio::test]
async fn a_failure_is_recorded_in_history_and_exhausted_entries_stay_listable() {
    let queue = DeadLetterQueue::new(Config::default().max_attempts(3)).unwrap();
    let id = queue.append(letter(1)).await.unwrap();
    let failing = failing();
    for expected in [1, 1, 0] {
        let report = queue.redrive(&failing, &RedriveOptions::default());
        assert_eq!(report.failed, expected);
    }
    // Never a new entry: the one entry carries the whole story.
    assert_eq!(queue.len(), 1);
    let entry = queue.get(id).unwrap();
    assert_eq!(entry.status, Status::Exhausted);
    assert_eq!(entry.attempts, 3);
    let errors: Vec<&str> = entry
        .history
        .iter()
        .map(|attempt| attempt.error.as_str())
        .collect();
    assert_eq!(
        errors,
        ["undeliverable (timed out)", "still down", "still down"]
    );
    assert_eq!(
        queue
            .list(&Filter::all().status(Status::Exhausted), 10)
            .len(),
        1
    );
    let stats = queue.stats();
    assert_eq!(
        (stats.redrive_failed, stats.exhausted, stats.appended),
        (2, 1, 1)
    );

    // A reset makes it pending again, history kept.
    assert_eq!(queue.reset(&Filter::all()), 1);
    let delivered = |_: &Entry, _: Message| Ok(());
    assert_eq!(
        queue
            .redrive(&delivered, &RedriveOptions::default())
            .delivered,
        1
    );
}

#[tokio::test]
async fn a_message_that_bounces_straight_back_is_a_failure_not_a_new_entry() {
    let queue = DeadLetterQueue::new(Config::default().max_attempts(2)).unwrap();
    // A full mailbox that drops new messages into this same queue.
    let options = ActorOptions::new()
        .capacity(1)
        .overflow(MailboxOverflow::DropNewest)
        .dead_letters(queue.sink());
    let (counter, _handle) = start_with::<Counter>((), options).await.unwrap();
    counter.try_cast_from(1).unwrap();
    let id = queue.append(letter(2)).await.unwrap();
    let target = counter.clone();
    let resolver =
        typed(move |_: &Entry, add: u64| target.try_cast_from(add).map_err(Undelivered::from));
    let report = queue.redrive(&resolver, &RedriveOptions::default());
    assert_eq!(
        (report.delivered, report.failed, report.exhausted),
        (0, 1, 1)
    );
    assert_eq!(queue.len(), 1);
    let entry = queue.get(id).unwrap();
    assert_eq!(
        entry.history[1].error,
        "came straight back: mailbox overflow"
    );
    // Exhausted: the next run leaves it alone.
    assert_eq!(
        queue.redrive(&resolver, &RedriveOptions::default()),
        RedriveReport::default()
    );
    assert_eq!(queue.stats().appended, 1);
}

#[tokio::test]
async fn a_panicking_resolver_is_a_failed_attempt() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let id = queue.append(letter(1)).await.unwrap();
    let panicking = |_: &Entry, _: Message| -> Result<(), Undelivered> { panic!("resolver bug") };
    let report = queue.redrive(&panicking, &RedriveOptions::default());
    assert_eq!(report.failed, 1);
    let entry = queue.get(id).unwrap();
    // The message went with the panic: the entry is kept, exhausted.
    assert_eq!(entry.status, Status::Exhausted);
    assert_eq!(entry.history[1].error, "the resolver panicked");
}

#[tokio::test]
async fn a_typed_resolver_skips_other_types_and_the_filter_narrows() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    queue.append(letter(1).metadata("tag", "a")).await.unwrap();
    queue.append(letter(2).metadata("tag", "b")).await.unwrap();
    queue
        .append(Letter::new(Pid::new(), "text", Reason::Overflow))
        .await
        .unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&seen);
    let resolver = typed(move |_: &Entry, _: u64| {
        counted.fetch_add(1, Ordering::Relaxed);
        Ok(())
    });
    let options = RedriveOptions::default().filter(Filter::all().metadata("tag", "b"));
    assert_eq!(queue.redrive(&resolver, &options).delivered, 1);
    assert_eq!(
        queue
            .redrive(&resolver, &RedriveOptions::default())
            .delivered,
        1
    );
    assert_eq!(seen.load(Ordering::Relaxed), 2);
    let left = queue.list(&Filter::all(), 10);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].reason.class(), ReasonClass::Overflow);
}

#[tokio::test(start_paused = true)]
async fn the_redrive_rate_is_shared_and_exact() {
    let rate = foundation_rate_limiter::Config::fixed_window(2, Duration::from_secs(60));
    let queue = DeadLetterQueue::new(Config::default().redrive_rate(rate)).unwrap();
    for n in 0..5 {
        queue.append(letter(n)).await.unwrap();
    }
    let delivered = |_: &Entry, _: Message| Ok(());
    let report = queue.redrive(&delivered, &RedriveOptions::default());
    assert_eq!((report.delivered, report.rate_limited), (2, true));
    let report = queue.redrive(&delivered, &RedriveOptions::default().batch(1));
    assert_eq!((report.delivered, report.rate_limited), (0, true));
    tokio::time::advance(Duration::from_secs(60)).await;
    assert_eq!(
        queue
            .redrive(&delivered, &RedriveOptions::default())
            .delivered,
        2
    );
}

#[tokio::test(start_paused = true)]
async fn a_periodic_redrive_runs_each_interval_and_can_be_listed_and_cancelled() {
    let queue = DeadLetterQueue::new(Config::default().max_attempts(100)).unwrap();
    queue.append(letter(1)).await.unwrap();
    let handle = queue.spawn_redrive(
        failing(),
        RedriveOptions::default().interval(Duration::from_secs(10)),
    );
    assert_eq!(queue.redrive_tasks().len(), 1);
    assert_eq!(queue.redrive_tasks()[0].id, handle.id());

    // Nothing before the first interval; one run per interval after it.
    pass(Duration::from_secs(9)).await;
    assert_eq!(handle.info().runs, 0);
    pass(Duration::from_secs(1)).await;
    assert_eq!(handle.info().runs, 1);
    pass(Duration::from_secs(10)).await;
    pass(Duration::from_secs(10)).await;
    let info = handle.info();
    assert_eq!((info.runs, info.failed), (3, 3));
    assert_eq!(queue.stats().redrive_failed, 3);

    assert!(handle.cancel());
    assert!(queue.redrive_tasks().is_empty());
    for _ in 0..6 {
        pass(Duration::from_secs(10)).await;
    }
    assert_eq!(handle.info().runs, 3);
    assert!(!queue.cancel_redrive(handle.id()));
}

#[tokio::test(start_paused = true)]
async fn a_periodic_redrive_delivers_and_prunes() {
    let config = Config::default().max_age(Some(Duration::from_secs(15)));
    let queue = DeadLetterQueue::new(config).unwrap();
    let early = queue.append(letter(1)).await.unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&seen);
    let resolver = move |entry: &Entry, message: Message| {
        if entry.id == early {
            Err(Undelivered::new(message, "not yet"))
        } else {
            counted.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
    };
    let handle = queue.spawn_redrive(
        resolver,
        RedriveOptions::default().interval(Duration::from_secs(10)),
    );
    queue.append(letter(2)).await.unwrap();
    pass(Duration::from_secs(10)).await;
    assert_eq!(seen.load(Ordering::Relaxed), 1);
    assert_eq!(queue.len(), 1);
    // At 20 s the first entry is older than 15 s: pruned, not retried.
    pass(Duration::from_secs(10)).await;
    assert!(queue.is_empty());
    let stats: Stats = queue.stats();
    assert_eq!((stats.pruned, stats.redriven_ok), (1, 1));
    handle.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_periodic_redrive_ends_with_its_queue() {
    let queue = DeadLetterQueue::new(Config::default()).unwrap();
    let handle = queue.spawn_redrive(
        failing(),
        RedriveOptions::default().interval(Duration::from_secs(1)),
    );
    drop(queue);
    for _ in 0..5 {
        pass(Duration::from_secs(1)).await;
    }
    assert_eq!(handle.info().runs, 0);
    assert!(!handle.cancel());
}
