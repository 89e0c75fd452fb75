//! Nothing accepted is lost silently: dead letters on exit.

use std::sync::Arc;

use foundation_mailbox::{
    ActorOptions, DeadLetterReason, DefaultDeadLetterSink, ExitReason, MessageKind, start_with,
};

use super::support::{Call, Cast, Collect, Harness, Init, PATIENCE, Probe, ask};

#[tokio::test]
async fn an_exit_hands_every_queued_message_to_the_sink_with_the_reason() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let sink = Arc::new(Collect::default());
    let options = ActorOptions::new().capacity(64).dead_letters(sink.clone());
    let (probe, handle) = start_with::<Probe>(args, options).await.unwrap();
    harness.hold(&probe, 1).await;
    for n in 0..10 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    let mut call = std::pin::pin!(probe.call(ask(Call::Echo(99)), PATIENCE));
    assert!(futures::poll!(call.as_mut()).is_pending());
    // A crash while eleven messages wait.
    probe.cast_from(Cast::Panic).await.unwrap();
    assert!(probe.kill());
    let reason = handle.wait(PATIENCE).await.unwrap();
    assert_eq!(reason, ExitReason::Killed);

    let letters = sink.letters();
    assert_eq!(letters.len(), 12, "ten records, one call, one panic order");
    for (recipient, why, _, _) in &letters {
        assert_eq!(*recipient, probe.pid());
        assert_eq!(*why, DeadLetterReason::Exited(ExitReason::Killed));
    }
    let values: Vec<_> = letters.iter().map(|letter| (letter.2, letter.3)).collect();
    let mut expected: Vec<_> = (0..10).map(|n| (MessageKind::Cast, Some(n))).collect();
    // A call's letter names it but holds no request: the request was
    // dropped so its reply port told the caller at once.
    expected.push((MessageKind::Call, None));
    expected.push((MessageKind::Cast, None));
    assert_eq!(values, expected, "dead letters keep queue order");
    assert!(matches!(
        call.await,
        Err(foundation_mailbox::CallError::Exited(ExitReason::Killed))
    ));
}

#[tokio::test]
async fn the_default_sink_counts_dead_letters() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, handle) = start_with::<Probe>(args, ActorOptions::new())
        .await
        .unwrap();
    harness.hold(&probe, 1).await;
    for n in 0..3 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    let before = DefaultDeadLetterSink::count();
    probe.kill();
    handle.wait(PATIENCE).await.unwrap();
    // Other tests may add to the process-wide count; ours adds exactly three.
    assert!(DefaultDeadLetterSink::count() >= before + 3);
}

/// Calls and casts interleaved, all taken into the receiver's batch when
/// its first message stops the actor: the rest of the batch goes back to
/// the lane and out as dead letters, each keeping its kind and its place,
/// and every caller left in it hears of the exit at once. A call handled
/// before the stop is answered and is no dead letter.
#[tokio::test]
async fn calls_and_casts_left_in_the_receivers_batch_keep_their_kinds_and_order() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let sink = Arc::new(Collect::default());
    let options = ActorOptions::new().capacity(64).dead_letters(sink.clone());
    let (probe, handle) = start_with::<Probe>(args, options).await.unwrap();
    harness.hold(&probe, 1).await;
    // Queued while the actor is held, so one refill takes them all.
    let mut answered = Box::pin(probe.call(ask(Call::Echo(100)), PATIENCE));
    assert!(futures::poll!(answered.as_mut()).is_pending());
    let reason = ExitReason::shutdown_because("enough");
    probe
        .cast_from(Cast::StopWith(reason.clone()))
        .await
        .unwrap();
    let mut callers = Vec::new();
    for n in 0..3 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
        let mut call = Box::pin(probe.call(ask(Call::Echo(n)), PATIENCE));
        assert!(futures::poll!(call.as_mut()).is_pending());
        callers.push(call);
    }
    harness.open_gate(1);
    assert_eq!(handle.wait(PATIENCE).await.unwrap(), reason);

    assert!(answered.await.is_ok(), "the call handled before the stop");
    let kinds: Vec<_> = sink
        .letters()
        .into_iter()
        .map(|(_, why, kind, value)| {
            assert_eq!(why, DeadLetterReason::Exited(reason.clone()));
            (kind, value)
        })
        .collect();
    let cast = |value| (MessageKind::Cast, Some(value));
    let call = (MessageKind::Call, None);
    assert_eq!(
        kinds,
        vec![cast(0), call, cast(1), call, cast(2), call],
        "each letter keeps its kind and its place"
    );
    for caller in callers {
        assert!(
            matches!(caller.await, Err(foundation_mailbox::CallError::Exited(why)) if why == reason),
            "a caller whose request was left over hears of the exit"
        );
    }
}
