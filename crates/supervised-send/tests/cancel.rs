//! A send future dropped at each of its awaits loses nothing unseen and
//! holds nothing: it is counted cancelled, a message not yet queued is
//! withdrawn (never handled later), one already queued is handled, and the
//! mailbox has no sender left waiting for room.

#[path = "support/actors.rs"]
mod actors;

use std::{
    future::{Future, poll_fn},
    pin::Pin,
    task::Poll,
    time::Duration,
};

use actors::{Behaviour, Rec, Recorder};
use foundation_mailbox::{ActorOptions, ActorRef, Registry, start_with};
use foundation_supervised_send::{
    SendOptions, SendStats, Target, send_supervised, send_supervised_acked,
};
use tokio::sync::oneshot;

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// A recorder with room for one message, its handler held until the
/// returned sender fires or drops, and its mailbox full.
async fn held_full_recorder() -> (ActorRef<Recorder>, Behaviour, oneshot::Sender<()>) {
    let behaviour = Behaviour::default();
    let (recorder, _handle) =
        start_with::<Recorder>(behaviour.clone(), ActorOptions::new().capacity(1))
            .await
            .unwrap();
    let (open, gate) = oneshot::channel();
    recorder.cast(Rec::Gate(gate)).await.unwrap();
    tokio::task::yield_now().await; // the handler takes the gate and waits
    recorder.cast(Rec::Item(1)).await.unwrap();
    assert_eq!(recorder.mailbox_stats().queued, 1);
    (recorder, behaviour, open)
}

fn options(stats: &SendStats) -> SendOptions {
    SendOptions::new()
        .timeout(Duration::from_secs(5))
        .attempt_timeout(Duration::from_secs(1))
        .tagged(stats.tag("cancelled"))
}

async fn handled(recorder: &ActorRef<Recorder>) -> Vec<u64> {
    recorder
        .call(Rec::Handled, Duration::from_secs(10))
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn dropped_while_waiting_for_room_the_message_is_withdrawn() {
    let (recorder, _behaviour, open) = held_full_recorder().await;
    let stats = SendStats::new();
    let options = options(&stats);
    let target = Target::actor(&recorder);
    let mut send = Box::pin(send_supervised(&target, 2, &options));
    assert!(poll_once(&mut send).await.is_pending());
    drop(send);
    let counts = stats.snapshot().total;
    assert_eq!(
        (counts.sent, counts.cancelled, counts.in_flight()),
        (1, 1, 0)
    );

    // Nothing of the dropped send is left waiting: the room the handler
    // makes goes to the next sender, and 2 is never handled.
    open.send(()).unwrap();
    recorder.cast(Rec::Item(3)).await.unwrap();
    assert_eq!(handled(&recorder).await, vec![1, 3]);
}

#[tokio::test(start_paused = true)]
async fn dropped_during_a_backoff_nothing_is_sent_later() {
    let names: Registry<&'static str> = Registry::new();
    let stats = SendStats::new();
    let options = options(&stats);
    let target = Target::<u64>::named::<Recorder, _>(&names, "late");
    let mut send = Box::pin(send_supervised(&target, 4, &options));
    assert!(
        poll_once(&mut send).await.is_pending(),
        "backing off after a failed attempt"
    );
    drop(send);
    let counts = stats.snapshot().total;
    assert_eq!(
        (counts.cancelled, counts.in_flight(), counts.retried),
        (1, 0, 1)
    );

    // The name appears and time passes: the dropped send does not wake up.
    let behaviour = Behaviour::default();
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    names.register("late", recorder.process_ref()).unwrap();
    tokio::time::advance(Duration::from_secs(10)).await;
    assert!(handled(&recorder).await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn dropped_while_waiting_for_room_in_ack_mode_the_copy_is_withdrawn() {
    let (recorder, _behaviour, open) = held_full_recorder().await;
    let stats = SendStats::new();
    let options = options(&stats);
    let target = Target::actor(&recorder);
    let mut send = Box::pin(send_supervised_acked(&target, 5, &options));
    assert!(poll_once(&mut send).await.is_pending());
    drop(send);
    assert_eq!(stats.snapshot().total.cancelled, 1);
    open.send(()).unwrap();
    recorder.cast(Rec::Item(6)).await.unwrap();
    assert_eq!(handled(&recorder).await, vec![1, 6]);
}

#[tokio::test(start_paused = true)]
async fn dropped_while_waiting_for_the_ack_the_queued_copy_is_still_handled() {
    let behaviour = Behaviour::default();
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let (open, gate) = oneshot::channel();
    recorder.cast(Rec::Gate(gate)).await.unwrap();
    tokio::task::yield_now().await; // the handler takes the gate and waits
    let stats = SendStats::new();
    let options = options(&stats);
    let target = Target::actor(&recorder);
    let mut send = Box::pin(send_supervised_acked(&target, 7, &options));
    assert!(poll_once(&mut send).await.is_pending());
    assert_eq!(recorder.mailbox_stats().queued, 1, "the copy is queued");
    drop(send);
    assert_eq!(stats.snapshot().total.cancelled, 1);
    open.send(()).unwrap();
    assert_eq!(handled(&recorder).await, vec![7], "accepted means handled");
}
