//! `async_stream`: one supervised task per item, bounded, ordered or not,
//! with per-item timeouts.

use std::{
    num::NonZeroUsize,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::ExitReason;
use foundation_supervisor::{AsyncStreamOptions, OnTimeout, TaskError};
use futures::StreamExt;
use tokio::sync::oneshot;

use crate::task::support::{Drops, WAIT, never, poll_once, start};

fn concurrency(max: usize) -> AsyncStreamOptions {
    AsyncStreamOptions::new().max_concurrency(NonZeroUsize::new(max).expect("non-zero"))
}

/// Items that each wait for their own release, and the releases.
fn gated(count: usize) -> (Vec<oneshot::Sender<usize>>, Vec<oneshot::Receiver<usize>>) {
    (0..count).map(|_| oneshot::channel()).unzip()
}

async fn gate(released: oneshot::Receiver<usize>) -> usize {
    released.await.expect("released")
}

#[tokio::test(start_paused = true)]
async fn the_defaults_are_elixirs() {
    let options = AsyncStreamOptions::new();
    let cores = std::thread::available_parallelism().expect("known");
    assert_eq!(options.max_concurrency_value(), cores);
    let expected = AsyncStreamOptions::new()
        .max_concurrency(cores)
        .ordered(true)
        .timeout(Duration::from_secs(5))
        .on_timeout(OnTimeout::Exit);
    assert_eq!(options, expected);
}

#[tokio::test(start_paused = true)]
async fn ordered_results_come_in_input_order_whatever_order_items_finish_in() {
    let (tasks, _handle) = start().await;
    let (mut releases, gates) = gated(3);
    let mut results = tasks.async_stream(gates, gate, concurrency(3));
    assert!(
        poll_once(&mut results).await.is_pending(),
        "all three started, none done"
    );
    assert_eq!(tasks.active_tasks(), 3);
    releases.remove(2).send(2).expect("item waits");
    releases.remove(1).send(1).expect("item waits");
    assert!(
        poll_once(&mut results).await.is_pending(),
        "the first item holds the others back"
    );
    releases.remove(0).send(0).expect("item waits");
    let all: Vec<_> = tokio::time::timeout(WAIT, results.collect())
        .await
        .expect("ends");
    assert_eq!(all, vec![Ok(0), Ok(1), Ok(2)]);
}

#[tokio::test(start_paused = true)]
async fn unordered_results_come_as_items_finish() {
    let (tasks, _handle) = start().await;
    let (mut releases, gates) = gated(3);
    let mut results = tasks.async_stream(gates, gate, concurrency(3).ordered(false));
    assert!(poll_once(&mut results).await.is_pending());
    releases.remove(2).send(2).expect("item waits");
    assert_eq!(
        tokio::time::timeout(WAIT, results.next()).await,
        Ok(Some(Ok(2)))
    );
    releases.remove(0).send(0).expect("item waits");
    assert_eq!(
        tokio::time::timeout(WAIT, results.next()).await,
        Ok(Some(Ok(0)))
    );
    releases.remove(0).send(1).expect("item waits");
    assert_eq!(
        tokio::time::timeout(WAIT, results.next()).await,
        Ok(Some(Ok(1)))
    );
    assert_eq!(tokio::time::timeout(WAIT, results.next()).await, Ok(None));
}

#[tokio::test(start_paused = true)]
async fn items_are_pulled_lazily_and_never_more_than_max_concurrency_at_once() {
    let (tasks, _handle) = start().await;
    let (releases, gates) = gated(5);
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let items = gates.into_iter().inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut results = tasks.async_stream(items, gate, concurrency(2));
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        0,
        "nothing starts before the stream is polled"
    );
    assert!(poll_once(&mut results).await.is_pending());
    assert_eq!(pulled.load(Ordering::SeqCst), 2);
    assert_eq!(tasks.active_tasks(), 2);

    let mut releases = releases.into_iter();
    // The second item finishing does not make room: in order, its result
    // waits behind the first and still counts.
    let first = releases.next().expect("five");
    releases.next().expect("five").send(1).expect("item waits");
    assert!(poll_once(&mut results).await.is_pending());
    assert_eq!(pulled.load(Ordering::SeqCst), 2);

    first.send(0).expect("item waits");
    assert_eq!(
        tokio::time::timeout(WAIT, results.next()).await,
        Ok(Some(Ok(0)))
    );
    assert_eq!(
        tokio::time::timeout(WAIT, results.next()).await,
        Ok(Some(Ok(1)))
    );
    assert!(poll_once(&mut results).await.is_pending());
    assert_eq!(pulled.load(Ordering::SeqCst), 4);
    assert_eq!(tasks.active_tasks(), 2);
    for (index, release) in releases.enumerate() {
        release.send(index + 2).expect("item waits");
    }
    let rest: Vec<_> = tokio::time::timeout(WAIT, results.collect())
        .await
        .expect("ends");
    assert_eq!(rest, vec![Ok(2), Ok(3), Ok(4)]);
    assert_eq!(pulled.load(Ordering::SeqCst), 5);
}

#[tokio::test(start_paused = true)]
async fn a_panicking_item_is_an_error_in_its_place_and_the_stream_goes_on() {
    let (tasks, handle) = start().await;
    let results: Vec<Result<u32, TaskError>> = tasks
        .async_stream(
            0..4_u32,
            |n| async move {
                assert_ne!(n, 1, "item one fails");
                n
            },
            concurrency(2),
        )
        .collect()
        .await;
    assert_eq!(results[0], Ok(0));
    assert!(
        matches!(&results[1], Err(TaskError::Panicked(message)) if message.contains("item one fails"))
    );
    assert_eq!(results[2..], [Ok(2), Ok(3)]);
    assert!(!handle.is_finished());
}

#[tokio::test(start_paused = true)]
async fn kill_task_ends_a_late_item_and_reports_it_in_its_place() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let mut keep = Vec::new();
    let timeout = Duration::from_millis(500);
    let options = concurrency(3)
        .timeout(timeout)
        .on_timeout(OnTimeout::KillTask);
    let results: Vec<_> = tasks
        .async_stream(
            0..3_u32,
            |n| {
                let (sender, forever) = never(drops.guard());
                keep.push(sender);
                async move {
                    if n == 1 {
                        forever.await;
                    }
                    n
                }
            },
            options,
        )
        .collect()
        .await;
    assert_eq!(
        results,
        vec![Ok(0), Err(TaskError::Timeout(timeout)), Ok(2)]
    );
    assert_eq!(
        drops.count(),
        3,
        "every item's future was dropped, the late one included"
    );
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn exit_fails_the_stream_and_ends_every_item_in_flight() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let mut keep = Vec::new();
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let timeout = Duration::from_secs(1);
    let options = concurrency(3).timeout(timeout).on_timeout(OnTimeout::Exit);
    let items = (0..10_u32).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let results: Vec<_> = tasks
        .async_stream(
            items,
            |n| {
                let (sender, forever) = never(drops.guard());
                keep.push(sender);
                async move {
                    if n != 0 {
                        forever.await;
                    }
                    n
                }
            },
            options,
        )
        .collect()
        .await;
    assert_eq!(results, vec![Ok(0), Err(TaskError::Timeout(timeout))]);
    // Items 0..4 started (0 finished at once, making room for 3); the
    // timeout of item 1 ended 2 and 3 too, and nothing more was pulled.
    assert_eq!(pulled.load(Ordering::SeqCst), 4);
    assert_eq!(drops.wait_for(4).await, 4);
    assert_eq!(tasks.active_tasks(), 0);
}

#[tokio::test(start_paused = true)]
async fn when_the_supervisor_stops_items_in_flight_yield_shutdown_and_the_stream_ends() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let mut keep = Vec::new();
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let items = (0..6).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut results = tasks.async_stream(
        items,
        |_| {
            let (sender, forever) = never(drops.guard());
            keep.push(sender);
            forever
        },
        concurrency(2),
    );
    assert!(poll_once(&mut results).await.is_pending());
    tasks.stop(WAIT).await.expect("stops");
    assert_eq!(drops.count(), 2);
    let rest: Vec<_> = tokio::time::timeout(WAIT, results.collect())
        .await
        .expect("ends");
    let shutdown = Err(TaskError::Shutdown(ExitReason::shutdown()));
    assert_eq!(rest, vec![shutdown.clone(), shutdown]);
    assert_eq!(
        pulled.load(Ordering::SeqCst),
        2,
        "nothing pulled after the stop"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_ends_its_items() {
    let (tasks, _handle) = start().await;
    let drops = Drops::default();
    let mut keep = Vec::new();
    let mut results = tasks.async_stream(
        0..3,
        |_| {
            let (sender, forever) = never(drops.guard());
            keep.push(sender);
            forever
        },
        concurrency(3),
    );
    assert!(poll_once(&mut results).await.is_pending());
    assert_eq!(tasks.active_tasks(), 3);
    drop(results);
    assert_eq!(drops.wait_for(3).await, 3);
    assert_eq!(tasks.active_tasks(), 0);
}
