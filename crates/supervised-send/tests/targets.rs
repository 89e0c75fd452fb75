//! Targets: a dead recipient nobody restarts is not retried; names and
//! child references are resolved again before each attempt; a full mailbox
//! that refuses is retried until it has room.

#[path = "support/actors.rs"]
mod actors;

use std::{
    future::{Future, poll_fn},
    pin::Pin,
    task::Poll,
    time::Duration,
};

use actors::{Behaviour, Rec, Recorder};
use foundation_mailbox::{ActorOptions, CallError, ExitReason, Overflow, Registry, start_with};
use foundation_supervised_send::{
    ErrorClass, GaveUp, SendOptions, SendStats, Target, send_supervised,
};
use foundation_supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
use tokio::sync::oneshot;

async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

fn options(stats: &SendStats) -> SendOptions {
    SendOptions::new()
        .timeout(Duration::from_secs(5))
        .max_attempts(1_000)
        .jitter_seed(9)
        .tagged(stats.tag("targets"))
}

#[tokio::test(start_paused = true)]
async fn a_dead_reference_is_tried_once() {
    let (recorder, _handle) = start_with::<Recorder>(Behaviour::default(), ActorOptions::new())
        .await
        .unwrap();
    recorder
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let stats = SendStats::new();
    let failure = send_supervised(&Target::actor(&recorder), 1, &options(&stats))
        .await
        .unwrap_err();
    assert_eq!((failure.attempts, failure.gave_up), (1, GaveUp::Fatal));
    assert_eq!(failure.last.class(), ErrorClass::Gone);
    assert_eq!(stats.snapshot().total.retried, 0);
}

#[tokio::test(start_paused = true)]
async fn a_child_its_supervisor_stopped_or_removed_is_tried_once() {
    let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(
        ChildSpec::actor::<Recorder>("recorder", Behaviour::default()),
    ))
    .await
    .unwrap();
    let child = tree.child_ref::<Recorder>("recorder").unwrap();
    let target = Target::child(child);
    let stats = SendStats::new();
    send_supervised(&target, 1, &options(&stats)).await.unwrap();

    tree.terminate_child("recorder").await.unwrap();
    let failure = send_supervised(&target, 2, &options(&stats))
        .await
        .unwrap_err();
    assert_eq!(
        (failure.attempts, failure.last.class()),
        (1, ErrorClass::Gone)
    );

    tree.delete_child("recorder").await.unwrap();
    let failure = send_supervised(&target, 3, &options(&stats))
        .await
        .unwrap_err();
    assert_eq!(
        (failure.attempts, failure.last.class()),
        (1, ErrorClass::Gone)
    );
}

#[tokio::test(start_paused = true)]
async fn a_name_registered_during_a_backoff_is_reached_by_the_retry() {
    let names: Registry<&'static str> = Registry::new();
    let stats = SendStats::new();
    let options = options(&stats);
    let target = Target::<u64>::named::<Recorder, _>(&names, "late");
    let mut send = Box::pin(send_supervised(&target, 8, &options));
    assert!(poll_once(&mut send).await.is_pending());

    let behaviour = Behaviour::default();
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    names.register("late", recorder.process_ref()).unwrap();
    let delivered = send.await.unwrap();
    assert_eq!(delivered.attempts, 2);
    let handled: Vec<u64> = recorder
        .call(Rec::Handled, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(handled, vec![8]);
}

#[tokio::test(start_paused = true)]
async fn a_mailbox_that_refuses_is_retried_until_it_has_room() {
    let behaviour = Behaviour::default();
    let mailbox = ActorOptions::new().capacity(1).overflow(Overflow::Reject);
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), mailbox)
        .await
        .unwrap();
    let (open, gate) = oneshot::channel();
    recorder.cast(Rec::Gate(gate)).await.unwrap();
    tokio::task::yield_now().await;
    recorder.cast(Rec::Item(1)).await.unwrap();

    let stats = SendStats::new();
    let options = options(&stats);
    let target = Target::actor(&recorder);
    let mut send = Box::pin(send_supervised(&target, 2, &options));
    assert!(
        poll_once(&mut send).await.is_pending(),
        "refused, backing off"
    );
    open.send(()).unwrap();
    let delivered = send.await.unwrap();
    assert!(delivered.attempts >= 2);
    // The mailbox refuses while full: ask until the handler has made room.
    let handled: Vec<u64> = loop {
        match recorder.call(Rec::Handled, Duration::from_secs(1)).await {
            Ok(handled) => break handled,
            Err(CallError::Full(_)) => tokio::task::yield_now().await,
            Err(other) => panic!("{other:?}"),
        }
    };
    assert_eq!(handled, vec![1, 2]);
}

#[tokio::test(start_paused = true)]
async fn a_class_given_up_on_ends_the_send_at_once() {
    let names: Registry<&'static str> = Registry::new();
    let stats = SendStats::new();
    let options = options(&stats).give_up_on(ErrorClass::NotRegistered);
    let target = Target::<u64>::named::<Recorder, _>(&names, "nobody");
    let failure = send_supervised(&target, 1, &options).await.unwrap_err();
    assert_eq!((failure.attempts, failure.gave_up), (1, GaveUp::Fatal));
}

#[tokio::test(start_paused = true)]
async fn a_type_erased_recipient_is_a_fixed_target_too() {
    let behaviour = Behaviour::default();
    let (recorder, _handle) = start_with::<Recorder>(behaviour.clone(), ActorOptions::new())
        .await
        .unwrap();
    let target: Target<u64> = recorder.recipient::<u64>().into();
    let stats = SendStats::new();
    assert_eq!(
        send_supervised(&target, 4, &options(&stats))
            .await
            .unwrap()
            .attempts,
        1
    );
    let handled: Vec<u64> = recorder
        .call(Rec::Handled, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(handled, vec![4]);
    recorder
        .stop(ExitReason::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let failure = send_supervised(&target, 5, &options(&stats))
        .await
        .unwrap_err();
    assert_eq!(
        (failure.attempts, failure.last.class()),
        (1, ErrorClass::Gone)
    );
}
