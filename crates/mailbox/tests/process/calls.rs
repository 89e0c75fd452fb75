//! Calls: replies, timeouts, dead callees, late replies.

use std::time::Duration;

use foundation_mailbox::{ActorOptions, CallError, ExitReason, start, start_with};

use super::support::{Call, Cast, Event, Harness, Init, Msg, PATIENCE, Probe, ask};

#[tokio::test]
async fn a_call_gets_its_reply() {
    let (args, _harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(
        probe.call(ask(Call::Echo(42)), PATIENCE).await.unwrap(),
        vec![42]
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_to_an_exited_process_fails_at_once_with_no_process() {
    let (args, _harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    probe.stop(ExitReason::Normal, PATIENCE).await.unwrap();

    let before = tokio::time::Instant::now();
    let outcome = probe
        .call(ask(Call::Echo(1)), Duration::from_secs(3_600))
        .await;
    // The clock is paused and advances only when every task waits on a
    // timer, so any wait for the timeout would show up here.
    assert_eq!(tokio::time::Instant::now(), before, "the call waited");
    match outcome {
        Err(error @ CallError::NoProcess(_)) => {
            assert_eq!(error.to_string(), "no process");
            assert!(matches!(
                error.into_message(),
                Some(Msg::Call(Call::Echo(1), _))
            ));
        }
        other => panic!("expected NoProcess, got {other:?}"),
    }
    assert!(
        probe
            .try_cast_from(Cast::Record(1))
            .unwrap_err()
            .is_no_process()
    );
}

#[tokio::test(start_paused = true)]
async fn a_callee_that_panics_mid_call_gives_the_caller_the_panic_reason() {
    let (args, _harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    let before = tokio::time::Instant::now();
    let outcome = probe
        .call(ask(Call::Panic), Duration::from_secs(3_600))
        .await;
    assert_eq!(
        tokio::time::Instant::now(),
        before,
        "the caller waited for the timeout"
    );
    match outcome {
        Err(CallError::Exited(ExitReason::Panic(message))) => {
            assert_eq!(&*message, "call panicked")
        }
        other => panic!("expected the panic reason, got {other:?}"),
    }
    assert_eq!(
        handle.wait(PATIENCE).await.unwrap(),
        ExitReason::panic("call panicked")
    );
}

#[tokio::test]
async fn a_handler_error_ends_the_actor_after_terminate_and_the_caller_sees_it() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    let outcome = probe.call(ask(Call::Fail), PATIENCE).await;
    let reason = match outcome {
        Err(CallError::Exited(reason @ ExitReason::Error(_))) => reason,
        other => panic!("expected an error exit, got {other:?}"),
    };
    assert_eq!(reason.to_string(), "error: probe failed on purpose");
    assert_eq!(harness.next().await, Event::Terminated(reason));
}

#[tokio::test(start_paused = true)]
async fn a_timed_out_call_fails_with_timeout_and_its_late_reply_is_dropped_safely() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    let outcome = probe
        .call(ask(Call::Block(1)), Duration::from_millis(100))
        .await;
    assert!(
        matches!(outcome, Err(CallError::Timeout)),
        "got {outcome:?}"
    );
    harness.entered(1).await;
    // The handler now replies to a caller that has gone.
    harness.open_gate(1);
    // The actor is unharmed and answers the next call.
    assert_eq!(
        probe.call(ask(Call::Echo(2)), PATIENCE).await.unwrap(),
        vec![2]
    );
    assert!(probe.is_alive());
}

#[tokio::test]
async fn queued_calls_fail_with_the_exit_reason_when_the_callee_stops() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start_with::<Probe>(args, ActorOptions::new())
        .await
        .unwrap();
    harness.hold(&probe, 1).await;
    let mut queued = std::pin::pin!(probe.call(ask(Call::Echo(9)), PATIENCE));
    assert!(futures::poll!(queued.as_mut()).is_pending());
    // The stop travels in the system lane, ahead of the queued call.
    let reason = ExitReason::shutdown_because("maintenance");
    let mut stop = std::pin::pin!(probe.stop(reason.clone(), PATIENCE));
    assert!(futures::poll!(stop.as_mut()).is_pending());
    harness.open_gate(1);
    assert_eq!(stop.await.unwrap(), reason);
    match queued.await {
        Err(CallError::Exited(exited)) => assert_eq!(exited, reason),
        other => panic!("expected the exit reason, got {other:?}"),
    }
}
