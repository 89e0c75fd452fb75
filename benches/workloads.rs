//! The cast and call workloads of the `process` bench, for Foundation and
//! its tokio floor, shared with the `instructions` example so an
//! instruction count or a timing outside criterion runs exactly the code
//! the bench times.

use std::time::Duration;

use foundation_mailbox::{ActorOptions, ExitReason, start, start_with};
use tokio::sync::{mpsc, oneshot};

use crate::foundation_counter::{Counter, Msg};

/// Mailbox and channel capacity for every contender.
pub const CAPACITY: usize = 1_024;
const PATIENCE: Duration = Duration::from_secs(60);

/// What a consumer of `0..count` totals: checked so no message is lost.
pub const fn cast_total(count: u64) -> u64 {
    count * count.saturating_sub(1) / 2
}

/// The cast floor: `count` `u64`s through a bounded tokio mpsc channel to
/// a task that totals them.
pub async fn tokio_casts(count: u64) {
    let (tx, done_rx) = tokio_totaller();
    for n in 0..count {
        tx.send(n).await.expect("consumer alive");
    }
    drop(tx);
    assert_eq!(done_rx.await.expect("consumer reports"), cast_total(count));
}

/// The cast floor's consumer: a tokio task that totals what comes through
/// a bounded channel (capacity [`CAPACITY`]) and reports the total once
/// every sender is gone.
pub fn tokio_totaller() -> (mpsc::Sender<u64>, oneshot::Receiver<u64>) {
    let (tx, mut rx) = mpsc::channel::<u64>(CAPACITY);
    let (done_tx, done_rx) = oneshot::channel();
    // audit:allow(FND001) benchmark floor: a raw task is what is being measured
    tokio::spawn(async move {
        let mut total = 0;
        while let Some(n) = rx.recv().await {
            total += n;
        }
        done_tx.send(total).expect("bench waits for the total");
    });
    (tx, done_rx)
}

/// `count` casts to a Foundation counter, then one call for the total.
pub async fn foundation_casts(count: u64) {
    let options = ActorOptions::new().capacity(CAPACITY);
    let (counter, _handle) = start_with::<Counter>((), options)
        .await
        .expect("counter starts");
    for n in 0..count {
        counter.cast(Msg::Add(n)).await.expect("counter alive");
    }
    let total = counter.call(Msg::Get, PATIENCE).await.expect("answers");
    assert_eq!(total, cast_total(count));
    counter
        .stop(ExitReason::Normal, PATIENCE)
        .await
        .expect("counter stops");
}

/// The call floor: a raw task answering over an mpsc channel with a
/// oneshot reply, `count` times in a row.
pub async fn tokio_round_trips(count: u64) {
    let (tx, mut rx) = mpsc::channel::<(u64, oneshot::Sender<u64>)>(CAPACITY);
    // audit:allow(FND001) benchmark floor: a raw task is what is being measured
    tokio::spawn(async move {
        let mut total = 0;
        while let Some((n, reply)) = rx.recv().await {
            total += n;
            reply.send(total).expect("caller waits");
        }
    });
    for n in 0..count {
        let (reply_tx, reply_rx) = oneshot::channel();
        tx.send((n, reply_tx)).await.expect("server alive");
        reply_rx.await.expect("server replies");
    }
}

/// `count` calls in a row to a Foundation counter.
pub async fn foundation_round_trips(count: u64) {
    let (counter, _handle) = start::<Counter>(()).await.expect("starts");
    for _ in 0..count {
        counter
            .call(Msg::Get, PATIENCE)
            .await
            .expect("counter answers");
    }
    counter
        .stop(ExitReason::Normal, PATIENCE)
        .await
        .expect("counter stops");
}
