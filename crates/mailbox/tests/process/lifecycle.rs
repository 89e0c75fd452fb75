//! Starting, stopping, killing, links, and leaving nothing behind.

use std::{sync::atomic::Ordering, time::Duration};

use foundation_mailbox::{
    ActorOptions, ExitReason, Pid, StartError, StopError, SystemMessage, spawn, start, start_with,
};

use super::support::{Call, Cast, Event, Harness, Init, PATIENCE, Probe, ask};

#[tokio::test]
async fn init_errors_and_panics_fail_the_start_with_a_reason() {
    let (args, _harness) = Harness::args(Init::Fail);
    match start::<Probe>(args).await {
        Err(StartError::Init(ExitReason::Error(cause))) => {
            assert_eq!(cause.to_string(), "probe failed on purpose");
        }
        other => panic!("expected an init error, got {other:?}"),
    }
    let (args, _harness) = Harness::args(Init::Panic);
    match start::<Probe>(args).await {
        Err(StartError::Init(reason)) => assert_eq!(reason, ExitReason::panic("init panicked")),
        other => panic!("expected an init panic, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn an_init_that_outlives_the_start_timeout_is_killed() {
    let (args, harness) = Harness::args(Init::Block);
    let options = ActorOptions::new().start_timeout(Duration::from_millis(200));
    match start_with::<Probe>(args, options).await {
        Err(StartError::Timeout(timeout)) => assert_eq!(timeout, Duration::from_millis(200)),
        other => panic!("expected a start timeout, got {other:?}"),
    }
    drop(harness);
}

#[tokio::test]
async fn starting_outside_a_runtime_is_a_typed_error() {
    let runtime_free = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let (args, _harness) = Harness::args(Init::Ok);
                spawn::<Probe>(args).map(|_| ())
            })
            .join()
    });
    assert_eq!(runtime_free.unwrap(), Err(StartError::NoRuntime));
}

#[tokio::test]
async fn stop_runs_terminate_and_reports_the_reason() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    let reason = probe.stop(ExitReason::shutdown(), PATIENCE).await.unwrap();
    assert_eq!(reason, ExitReason::shutdown());
    assert_eq!(
        harness.next().await,
        Event::Terminated(ExitReason::shutdown())
    );
    assert_eq!(handle.wait(PATIENCE).await.unwrap(), ExitReason::shutdown());
    assert!(!probe.is_alive());
    assert_eq!(
        probe.stop(ExitReason::Normal, PATIENCE).await,
        Err(StopError::NoProcess)
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_without_a_time_limit_waits_for_terminate() {
    // `Duration::MAX` is "no limit" (a supervisor's `Shutdown::Infinity`):
    // it must not overflow the deadline, and must wait as long as it takes.
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    harness.hold(&probe, 1).await;
    let stopper = tokio::spawn({
        let probe = probe.clone();
        async move { probe.stop(ExitReason::shutdown(), Duration::MAX).await }
    });
    tokio::time::advance(Duration::from_secs(3600 * 24 * 365)).await;
    assert!(probe.is_alive(), "a year later the stop is still waiting");
    harness.open_gate(1);
    assert_eq!(stopper.await.unwrap(), Ok(ExitReason::shutdown()));
}

#[tokio::test]
async fn a_panicking_cast_ends_only_that_actor() {
    let (args, _harness) = Harness::args(Init::Ok);
    let (victim, handle) = start::<Probe>(args).await.unwrap();
    let (args, _other_harness) = Harness::args(Init::Ok);
    let (bystander, _other) = start::<Probe>(args).await.unwrap();
    victim.cast_from(Cast::Panic).await.unwrap();
    assert_eq!(
        handle.wait(PATIENCE).await.unwrap(),
        ExitReason::panic("cast panicked")
    );
    assert_eq!(
        bystander.call(ask(Call::Echo(1)), PATIENCE).await.unwrap(),
        vec![1]
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_that_is_not_honoured_in_time_ends_in_a_kill() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    harness.hold(&probe, 1).await;
    let outcome = probe
        .stop(ExitReason::shutdown(), Duration::from_millis(500))
        .await;
    assert_eq!(outcome, Err(StopError::Timeout(Duration::from_millis(500))));
    // OTP's shutdown: ask, wait, then kill. No terminate after a kill, but
    // the state was dropped before the exit was published.
    assert_eq!(handle.wait(PATIENCE).await.unwrap(), ExitReason::Killed);
    assert_eq!(harness.drops.load(Ordering::SeqCst), 1);
    assert!(!handle.kill(), "nothing left to kill");
}

#[tokio::test(start_paused = true)]
async fn a_dormant_actor_whose_terminate_hangs_is_killed_at_the_stop_timeout() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    probe.cast_from(Cast::HangInTerminate).await.unwrap();
    assert_eq!(
        probe.call(ask(Call::Echo(1)), PATIENCE).await.unwrap(),
        vec![1]
    );
    tokio::time::timeout(PATIENCE, async {
        while !probe.is_dormant() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    // The dormant actor's terminate runs on this task and never finishes.
    let outcome = probe
        .stop(ExitReason::shutdown(), Duration::from_millis(500))
        .await;
    assert_eq!(outcome, Err(StopError::Timeout(Duration::from_millis(500))));
    assert_eq!(harness.next().await, Event::Entered(u64::MAX));
    assert_eq!(handle.wait(PATIENCE).await.unwrap(), ExitReason::Killed);
    assert_eq!(harness.drops.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn exit_signals_follow_otp_link_semantics() {
    let from = Pid::new();

    // Not trapping: a normal exit signal is ignored, an abnormal one ends the actor.
    let (args, _harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    assert!(probe.process_ref().exit_signal(from, ExitReason::Normal));
    assert_eq!(
        probe.call(ask(Call::Echo(1)), PATIENCE).await.unwrap(),
        vec![1]
    );
    assert!(
        probe
            .process_ref()
            .exit_signal(from, ExitReason::panic("linked crash"))
    );
    assert_eq!(
        handle.wait(PATIENCE).await.unwrap(),
        ExitReason::panic("linked crash")
    );

    // Trapping: both arrive as messages and the actor lives on.
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    probe.cast_from(Cast::TrapExits).await.unwrap();
    assert_eq!(
        probe.call(ask(Call::Echo(0)), PATIENCE).await.unwrap(),
        vec![0]
    );
    for reason in [ExitReason::Normal, ExitReason::Killed] {
        assert!(probe.process_ref().exit_signal(from, reason.clone()));
        assert_eq!(
            harness.next().await,
            Event::System(SystemMessage::Exit { from, reason })
        );
    }
    assert!(probe.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_actors_start_and_stop_leaving_no_task_or_state_behind() {
    let runtime = tokio::runtime::Handle::current();
    let baseline = runtime.metrics().num_alive_tasks();
    let (args, harness) = Harness::args(Init::Ok);
    drop(harness.events);
    let drops = args.drops.clone();
    let mut actors = Vec::with_capacity(10_000);
    let template = args;
    for _ in 0..10_000 {
        let args = super::support::ProbeArgs {
            init: Init::Ok,
            gate: template.gate.clone(),
            events: template.events.clone(),
            drops: template.drops.clone(),
        };
        actors.push(start::<Probe>(args).await.unwrap());
    }
    // Idle actors are dormant: they hold no task at all. The one task more
    // is the runtime's reaper, one per runtime, which ends its processes
    // when it shuts down.
    let baseline = baseline + 1;
    assert_eq!(runtime.metrics().num_alive_tasks(), baseline);
    assert!(actors.iter().all(|(probe, _)| probe.is_dormant()));
    for (probe, handle) in actors {
        probe.stop(ExitReason::shutdown(), PATIENCE).await.unwrap();
        assert_eq!(handle.wait(PATIENCE).await.unwrap(), ExitReason::shutdown());
    }
    // Each stop ran in an activation; tokio releases a task just after it
    // completes: wait for the count to settle, bounded.
    let settled = tokio::time::timeout(PATIENCE, async {
        while runtime.metrics().num_alive_tasks() != baseline {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(
        settled.is_ok(),
        "tasks left behind: {} alive, baseline {baseline}",
        runtime.metrics().num_alive_tasks()
    );
    assert_eq!(
        drops.load(Ordering::SeqCst),
        10_000,
        "actor states left behind"
    );
}

#[tokio::test]
async fn an_actor_can_stop_itself_after_the_current_message() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    probe
        .cast_from(Cast::StopWith(ExitReason::Normal))
        .await
        .unwrap();
    assert_eq!(harness.next().await, Event::Terminated(ExitReason::Normal));
    assert_eq!(handle.wait(PATIENCE).await.unwrap(), ExitReason::Normal);
    assert!(
        probe
            .try_cast_from(Cast::Record(1))
            .unwrap_err()
            .is_no_process()
    );
}

#[tokio::test]
async fn casts_queued_behind_a_crashing_cast_become_dead_letters_on_one_thread() {
    let (args, _harness) = Harness::args(Init::Ok);
    let sink = std::sync::Arc::new(super::support::Collect::default());
    let options = ActorOptions::new().dead_letters(sink.clone());
    let (probe, handle) = start_with::<Probe>(args, options).await.unwrap();
    probe.cast_from(Cast::Panic).await.unwrap();
    for n in 0..3 {
        probe.cast_from(Cast::Record(n)).await.unwrap();
    }
    assert_eq!(
        handle.wait(PATIENCE).await.unwrap(),
        ExitReason::panic("cast panicked")
    );
    assert_eq!(sink.letters().len(), 3);
}

#[tokio::test]
async fn an_idle_actor_is_dormant_wakes_for_work_and_can_be_killed_while_dormant() {
    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    assert!(
        probe.is_dormant(),
        "a started actor with nothing to do has no task"
    );

    probe.cast_from(Cast::Record(7)).await.unwrap();
    assert_eq!(probe.call(ask(Call::Log), PATIENCE).await.unwrap(), vec![7]);
    // Once it has nothing left to do it goes dormant again, state intact.
    let dormant = tokio::time::timeout(PATIENCE, async {
        while !probe.is_dormant() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(dormant.is_ok(), "the actor never went dormant");
    assert_eq!(probe.call(ask(Call::Log), PATIENCE).await.unwrap(), vec![7]);

    // A system message wakes it too. (The reply proves TrapExits was handled:
    // the signal would otherwise overtake it in the system lane.)
    let from = Pid::new();
    probe.cast_from(Cast::TrapExits).await.unwrap();
    assert_eq!(
        probe.call(ask(Call::Echo(1)), PATIENCE).await.unwrap(),
        vec![1]
    );
    assert!(probe.process_ref().exit_signal(from, ExitReason::Normal));
    assert_eq!(
        harness.next().await,
        Event::System(SystemMessage::Exit {
            from,
            reason: ExitReason::Normal
        })
    );

    // Killing a dormant actor needs no task: its state is dropped, its exit published.
    tokio::time::timeout(PATIENCE, async {
        while !probe.is_dormant() {
            tokio::task::yield_now().await;
        }
    })
    .await
    .unwrap();
    assert!(probe.kill());
    assert_eq!(handle.wait(PATIENCE).await.unwrap(), ExitReason::Killed);
    assert_eq!(harness.drops.load(Ordering::SeqCst), 1);
    assert!(!probe.kill(), "a second kill finds it already gone");
}
