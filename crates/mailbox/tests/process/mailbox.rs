//! The mailbox: order, bound, backpressure, overflow policies, system lane, storage.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{
    ActorOptions, CallError, DeadLetterReason, ExitReason, MessageKind, Overflow, SendError,
    SystemMessage, start_with,
};

use super::support::{Call, Cast, Collect, Event, Harness, Init, Msg, PATIENCE, Probe, ask};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_each_sender_arrive_in_the_order_sent() {
    let (args, _harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new().capacity(16))
        .await
        .unwrap();
    let senders: Vec<_> = (0..4_u64)
        .map(|sender| {
            let probe = probe.clone();
            async move {
                for n in 0..500_u64 {
                    probe
                        .cast_from(Cast::Record(sender * 1_000 + n))
                        .await
                        .unwrap();
                }
            }
        })
        .collect();
    futures::future::join_all(senders).await;
    let log = probe.call(ask(Call::Log), PATIENCE).await.unwrap();
    assert_eq!(log.len(), 2_000);
    for sender in 0..4_u64 {
        let from_sender: Vec<u64> = log
            .iter()
            .copied()
            .filter(|v| v / 1_000 == sender)
            .collect();
        let expected: Vec<u64> = (0..500).map(|n| sender * 1_000 + n).collect();
        assert_eq!(from_sender, expected, "sender {sender} out of order");
    }
}

#[tokio::test]
async fn a_full_mailbox_makes_senders_wait_until_room_frees_up() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new().capacity(2))
        .await
        .unwrap();
    // The actor is held inside a handler; two more messages fill the mailbox.
    harness.hold(&probe, 1).await;
    probe.cast_from(Cast::Record(10)).await.unwrap();
    probe.cast_from(Cast::Record(11)).await.unwrap();
    assert_eq!(probe.mailbox_stats().queued, 2);

    let mut third = std::pin::pin!(probe.cast_from(Cast::Record(12)));
    assert!(
        futures::poll!(third.as_mut()).is_pending(),
        "sender must wait while the mailbox is full"
    );
    assert!(matches!(
        probe.try_cast_from(Cast::Record(99)),
        Err(SendError::Full(Cast::Record(99)))
    ));

    harness.open_gate(1);
    third.await.unwrap();
    let log = probe.call(ask(Call::Log), PATIENCE).await.unwrap();
    assert_eq!(log, vec![10, 11, 12]);
}

#[tokio::test]
async fn try_cast_on_a_full_mailbox_gives_the_message_back() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new().capacity(1))
        .await
        .unwrap();
    harness.hold(&probe, 1).await;
    probe.try_cast_from(Cast::Record(1)).unwrap();
    match probe.try_cast_from(Cast::Record(2)) {
        Err(error @ SendError::Full(_)) => {
            assert_eq!(error.to_string(), "mailbox full");
            assert!(matches!(error.into_inner(), Cast::Record(2)));
        }
        other => panic!("expected Full, got {other:?}"),
    }
    harness.open_gate(1);
}

#[tokio::test]
async fn the_system_lane_overtakes_a_full_user_lane() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new().capacity(3))
        .await
        .unwrap();
    harness.hold(&probe, 1).await;
    for n in 0..3 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    assert!(
        probe.try_cast_from(Cast::Record(3)).is_err(),
        "user lane is full"
    );

    let down = SystemMessage::Down(foundation_mailbox::Down {
        pid: probe.pid(),
        reference: foundation_mailbox::Reference::new(),
        reason: ExitReason::Normal,
    });
    probe.process_ref().send_system(down.clone()).unwrap();
    harness.open_gate(1);
    // The DOWN is handled before the three queued user messages.
    assert_eq!(harness.next().await, Event::System(down));
    assert_eq!(
        probe.call(ask(Call::Log), PATIENCE).await.unwrap(),
        vec![0, 1, 2]
    );
}

#[tokio::test]
async fn reject_policy_refuses_without_waiting() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let options = ActorOptions::new().capacity(1).overflow(Overflow::Reject);
    let (probe, _handle) = start_with::<Probe>(args, options).await.unwrap();
    harness.hold(&probe, 1).await;
    probe.cast_from(Cast::Record(1)).await.unwrap();
    assert!(matches!(
        probe.cast_from(Cast::Record(2)).await,
        Err(SendError::Full(Cast::Record(2)))
    ));
    assert!(matches!(
        probe.call(ask(Call::Echo(3)), PATIENCE).await,
        Err(CallError::Full(Msg::Call(Call::Echo(3), _)))
    ));
    harness.open_gate(1);
}

#[tokio::test]
async fn drop_oldest_evicts_to_dead_letters_and_counts() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let sink = Arc::new(Collect::default());
    let options = ActorOptions::new()
        .capacity(2)
        .overflow(Overflow::DropOldest)
        .dead_letters(sink.clone());
    let (probe, _handle) = start_with::<Probe>(args, options).await.unwrap();
    harness.hold(&probe, 1).await;
    for n in 10..15 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    // An evicted call fails with Dropped instead of waiting for its timeout.
    let mut call = std::pin::pin!(probe.call(ask(Call::Echo(7)), PATIENCE));
    assert!(
        futures::poll!(call.as_mut()).is_pending(),
        "the request is queued"
    );
    probe.cast_from(Cast::Record(15)).await.unwrap();
    probe.cast_from(Cast::Block(16)).await.unwrap();
    assert!(matches!(call.await, Err(CallError::Dropped)));
    harness.open_gate(1);
    harness.entered(16).await;
    let log = probe.call(ask(Call::Log), PATIENCE);
    harness.open_gate(1);
    assert_eq!(log.await.unwrap(), vec![15]);
    assert_eq!(probe.mailbox_stats().dropped, 6);
    let dropped: Vec<_> = sink
        .letters()
        .into_iter()
        .map(|(_, reason, kind, value)| (reason, kind, value))
        .collect();
    let cast = |value| (DeadLetterReason::Overflow, MessageKind::Cast, Some(value));
    assert_eq!(
        dropped,
        vec![
            cast(10),
            cast(11),
            cast(12),
            cast(13),
            cast(14),
            // The request went with its port, which told the caller.
            (DeadLetterReason::Overflow, MessageKind::Call, None),
        ]
    );
}

#[tokio::test]
async fn drop_newest_discards_the_incoming_message() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let sink = Arc::new(Collect::default());
    let options = ActorOptions::new()
        .capacity(2)
        .overflow(Overflow::DropNewest)
        .dead_letters(sink.clone());
    let (probe, _handle) = start_with::<Probe>(args, options).await.unwrap();
    harness.hold(&probe, 1).await;
    probe.cast_from(Cast::Record(0)).await.unwrap();
    probe.cast_from(Cast::Block(2)).await.unwrap();
    for n in 3..6 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    harness.open_gate(1);
    harness.entered(2).await;
    let log = probe.call(ask(Call::Log), PATIENCE);
    harness.open_gate(1);
    assert_eq!(log.await.unwrap(), vec![0]);
    assert_eq!(probe.mailbox_stats().dropped, 3);
    let values: Vec<_> = sink.letters().iter().map(|letter| letter.3).collect();
    assert_eq!(values, vec![Some(3), Some(4), Some(5)]);
}

#[tokio::test]
async fn an_idle_mailbox_reserves_no_storage_and_gives_a_burst_back() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new().capacity(10_000))
        .await
        .unwrap();
    assert_eq!(
        probe.mailbox_stats().reserved_slots,
        0,
        "idle mailbox holds no slots"
    );

    harness.hold(&probe, 1).await;
    for n in 0..9_999 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    let burst = probe.mailbox_stats();
    // The message in the handler is no longer waiting; the others are.
    assert_eq!(burst.queued, 9_999);
    assert!(burst.reserved_slots >= 9_999);

    harness.open_gate(1);
    assert_eq!(
        probe.call(ask(Call::Log), PATIENCE).await.unwrap().len(),
        9_999
    );
    // The call's reply proves the burst was handled; the next receive found
    // the mailbox empty and gave the bulk storage back.
    let drained = probe.mailbox_stats();
    assert_eq!(drained.queued, 0);
    assert!(
        drained.reserved_slots <= 16,
        "kept {} slots after the burst",
        drained.reserved_slots
    );
}

#[tokio::test]
async fn capacity_zero_is_a_typed_error() {
    let (args, _harness) = Harness::args(Init::Ok);
    let refused = start_with::<Probe>(args, ActorOptions::new().capacity(0)).await;
    match refused {
        Err(error) => assert_eq!(
            error.to_string(),
            "invalid actor options: mailbox capacity must be at least 1"
        ),
        Ok(_) => panic!("capacity 0 must be refused"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_waiting_for_room_times_out_and_gets_its_request_back() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new().capacity(1))
        .await
        .unwrap();
    harness.hold(&probe, 1).await;
    probe.cast_from(Cast::Record(1)).await.unwrap();
    let outcome = probe
        .call(ask(Call::Echo(5)), Duration::from_millis(50))
        .await;
    match outcome {
        Err(CallError::SendTimeout(Msg::Call(Call::Echo(5), _))) => {}
        other => panic!("expected SendTimeout with the request, got {other:?}"),
    }
    harness.open_gate(1);
    assert_eq!(probe.call(ask(Call::Log), PATIENCE).await.unwrap(), vec![1]);
}
