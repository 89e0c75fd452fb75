//! Exit hooks: what monitors and links are built on.

use std::sync::{Arc, Mutex};

use foundation_mailbox::{ExitReason, start};

use super::support::{Call, Cast, Event, Harness, Init, PATIENCE, Probe, ask};

/// Records every reason its hooks are called with.
#[derive(Debug, Default, Clone)]
struct Seen(Arc<Mutex<Vec<ExitReason>>>);

impl Seen {
    fn hook(&self) -> impl FnOnce(&ExitReason) + Send + 'static {
        let seen = self.clone();
        move |reason| {
            seen.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(reason.clone());
        }
    }

    fn reasons(&self) -> Vec<ExitReason> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

#[tokio::test]
async fn a_hook_runs_once_with_the_reason_on_every_kind_of_exit() {
    let kinds: [(&str, ExitReason); 4] = [
        ("stop", ExitReason::shutdown()),
        ("panic", ExitReason::panic("cast panicked")),
        ("kill while dormant", ExitReason::Killed),
        ("kill while running", ExitReason::Killed),
    ];
    for (kind, expected) in kinds {
        let (args, mut harness) = Harness::args(Init::Ok);
        let (probe, handle) = start::<Probe>(args).await.unwrap();
        assert_eq!(harness.next().await, Event::Started);
        let seen = Seen::default();
        probe.process_ref().on_exit(seen.hook()).unwrap();
        match kind {
            "stop" => drop(probe.stop(ExitReason::shutdown(), PATIENCE).await.unwrap()),
            "panic" => probe.cast_from(Cast::Panic).await.unwrap(),
            "kill while dormant" => assert!(probe.kill()),
            _ => {
                harness.hold(&probe, 1).await;
                assert!(probe.kill());
            }
        }
        assert_eq!(handle.wait(PATIENCE).await.unwrap(), expected, "{kind}");
        assert_eq!(
            seen.reasons(),
            vec![expected],
            "{kind}: the hook ran once, after the exit"
        );
    }
}

#[tokio::test]
async fn a_cancelled_hook_never_runs_and_a_late_one_gets_the_reason_back() {
    let (args, _harness) = Harness::args(Init::Ok);
    let (probe, handle) = start::<Probe>(args).await.unwrap();
    let process = probe.process_ref();
    let seen = Seen::default();
    let cancelled = process.on_exit(seen.hook()).unwrap();
    let kept = process.on_exit(seen.hook()).unwrap();
    assert_ne!(cancelled, kept);
    assert!(process.cancel_exit_hook(cancelled));
    assert!(!process.cancel_exit_hook(cancelled), "already gone");
    assert_eq!(
        probe.call(ask(Call::Echo(1)), PATIENCE).await.unwrap(),
        vec![1]
    );
    probe.stop(ExitReason::Normal, PATIENCE).await.unwrap();
    handle.wait(PATIENCE).await.unwrap();
    assert_eq!(seen.reasons(), vec![ExitReason::Normal]);
    assert!(!process.cancel_exit_hook(kept), "it ran");
    assert_eq!(process.on_exit(seen.hook()), Err(ExitReason::Normal));
    assert_eq!(seen.reasons().len(), 1, "a late hook is not run");
}

#[tokio::test]
async fn flushing_removes_a_pending_down_before_the_actor_sees_it() {
    use foundation_mailbox::{Down, Reference, SystemMessage};

    let (args, mut harness) = Harness::args(Init::Ok);
    let (probe, _handle) = start::<Probe>(args).await.unwrap();
    assert_eq!(harness.next().await, Event::Started);
    harness.hold(&probe, 1).await;
    let down = |reference| {
        SystemMessage::Down(Down {
            pid: probe.pid(),
            reference,
            reason: ExitReason::Normal,
        })
    };
    let (flushed, kept) = (Reference::new(), Reference::new());
    let process = probe.process_ref();
    process.send_system(down(flushed)).unwrap();
    process.send_system(down(kept)).unwrap();
    let removed = process.flush_down(flushed);
    assert_eq!(removed, 1);
    harness.open_gate(1);
    assert_eq!(harness.next().await, Event::System(down(kept)));
    assert_eq!(
        probe.call(ask(Call::Echo(2)), PATIENCE).await.unwrap(),
        vec![2]
    );
}
