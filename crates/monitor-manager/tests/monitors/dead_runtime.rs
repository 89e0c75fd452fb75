//! A DOWN for a watcher whose runtime has shut down: the delivery ends the watcher, drops its guard, and returns.

use std::{sync::mpsc, thread, time::Duration};

use foundation_mailbox::{Actor, Context, ExitReason, ProcessRef, start};
use foundation_monitor_manager::{Monitor, MonitorManager};
use tokio::runtime::{Builder, Runtime};

use super::support::{PATIENCE, Watched};

/// How long the scenario may take before the test calls it a hang. It
/// takes microseconds when it works; this only bounds a failure.
const HANG: Duration = Duration::from_secs(5);

/// Holds a monitor of its target in its state, made in `init`, so the
/// guard goes wherever the state goes.
#[derive(Debug)]
struct Holder {
    _monitor: Monitor,
}

impl Actor for Holder {
    type Args = (MonitorManager, ProcessRef);
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(
        (monitors, target): Self::Args,
        ctx: &mut Context<Self>,
    ) -> Result<Self, Self::Error> {
        let myself = ctx.myself().process_ref();
        Ok(Holder {
            _monitor: monitors.monitor(&myself, &target, "held-by-watcher"),
        })
    }

    async fn handle(&mut self, (): (), _ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn current_thread() -> Runtime {
    Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime builds")
}

/// How the target ends.
#[derive(Debug, Clone, Copy)]
enum End {
    Kill,
    Stop,
}

/// The watcher is started, dormant, on a runtime that is then shut down;
/// its target lives on another runtime. Ending the target delivers the
/// DOWN, which wakes the watcher: its activation cannot be spawned, so the
/// watcher exits on the delivering thread and its state (the guard) is
/// dropped in the middle of the push. Returns the watcher's exit reason
/// and the live monitors left.
fn dead_runtime_scenario(end: End) -> (ExitReason, usize) {
    let monitors = MonitorManager::new();
    let targets = current_thread();
    let target = targets.block_on(Watched::start());
    let watchers = current_thread();
    let (_watcher, watcher_handle) = watchers
        .block_on(start::<Holder>((monitors.clone(), target.process.clone())))
        .expect("the watcher starts");
    // No message came while `init` ran: the watcher is dormant, no task.
    assert_eq!(monitors.len(), 1);
    drop(watchers);
    match end {
        End::Kill => assert!(target.process.kill()),
        End::Stop => {
            let stopped = targets.block_on(target.process.stop(ExitReason::shutdown(), PATIENCE));
            assert_eq!(stopped, Ok(ExitReason::shutdown()));
        }
    }
    // The exit is published after its hooks ran, and the watcher's exit
    // ran inside the hook, so both are over by now.
    let reason = watcher_handle
        .process()
        .exit_reason()
        .expect("the watcher exited inside the delivery");
    (reason, monitors.len())
}

/// Runs the scenario on a thread of its own, so a delivery that spins
/// forever fails the test instead of hanging it.
fn finishes(end: End) -> (ExitReason, usize) {
    let (done, finished) = mpsc::channel();
    thread::spawn(move || done.send(dead_runtime_scenario(end)));
    match finished.recv_timeout(HANG) {
        Ok(outcome) => outcome,
        Err(error) => {
            panic!("{end:?}: the DOWN's delivery did not return within {HANG:?} ({error})")
        }
    }
}

#[test]
fn a_down_that_ends_a_watcher_whose_runtime_is_gone_returns_and_cleans_the_monitor() {
    for end in [End::Kill, End::Stop] {
        let (reason, live) = finishes(end);
        assert_eq!(reason, ExitReason::Killed, "{end:?}");
        assert_eq!(live, 0, "{end:?}: the monitor left the registry");
    }
}
