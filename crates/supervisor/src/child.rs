//! One running child: how it is started and tied to its supervisor, and how
//! it is stopped with its shutdown spec.
//!
//! The tie is two exit hooks, which together are an OTP link with the
//! supervisor trapping exits: the child's exit arrives at the supervisor as
//! a DOWN in its system lane, tagged with a fresh [`Reference`] per
//! incarnation, and the supervisor's exit sends the child an exit signal,
//! so no child outlives a supervisor that was killed.

use std::time::Duration;

use foundation_mailbox::{
    ErrorCause, ExitHookId, ExitReason, ProcessRef, Reference, TimeoutConfig,
};

use crate::{ChildSpec, Shutdown, Started};

/// A child that is running, and the hooks that tie it to its supervisor.
#[derive(Debug)]
pub(crate) struct Running {
    pub(crate) process: ProcessRef,
    /// Identifies this incarnation: a DOWN with any other reference is stale.
    pub(crate) reference: Reference,
    /// On the child: tells the supervisor it exited.
    child_hook: Option<ExitHookId>,
    /// On the supervisor: takes the child down if the supervisor dies.
    supervisor_hook: Option<ExitHookId>,
}

/// Starts a child with its spec's start function and ties it to
/// `supervisor`; `None` if the start function said "not now" (OTP's
/// `ignore`). A child that exits before it is tied is reported to the
/// supervisor the same way as one that exits later. Also returns what the
/// start function said, for the caller of `start_child`.
pub(crate) async fn start(
    spec: &ChildSpec,
    supervisor: &ProcessRef,
) -> Result<(Option<Running>, Started), ErrorCause> {
    let started = spec.run_start().await?;
    let running = started
        .process()
        .map(|process| tie(process.clone(), supervisor));
    Ok((running, started))
}

/// Ties an already running process to `supervisor`.
pub(crate) fn tie(process: ProcessRef, supervisor: &ProcessRef) -> Running {
    let reference = Reference::new();
    // A child that exited already is reported the same way, at once.
    let child_hook = process.notify_on_exit(supervisor, reference);
    let supervisor_pid = supervisor.pid();
    let child = process.clone();
    let supervisor_hook = supervisor
        .on_exit(move |reason| {
            child.exit_signal(supervisor_pid, reason.clone());
        })
        .ok();
    Running {
        process,
        reference,
        child_hook,
        supervisor_hook,
    }
}

impl Running {
    /// Unties a child that exited by itself: the supervisor no longer needs
    /// to take it down.
    pub(crate) fn untie(mut self, supervisor: &ProcessRef) -> ProcessRef {
        if let Some(hook) = self.supervisor_hook.take() {
            supervisor.cancel_exit_hook(hook);
        }
        self.process
    }

    /// Stops the child with its shutdown spec, after untying it so its exit
    /// is not taken for a crash, and returns how it exited; or gives the
    /// process back if it was killed and still has not exited (see [`stop`]).
    pub(crate) async fn shutdown(
        mut self,
        shutdown: Shutdown,
        supervisor: &ProcessRef,
    ) -> Result<ExitReason, ProcessRef> {
        if let Some(hook) = self.child_hook.take() {
            self.process.cancel_exit_hook(hook);
        }
        let process = self.untie(supervisor);
        match stop(&process, shutdown).await {
            Ok(reason) => Ok(reason),
            Err(StillRunning) => Err(process),
        }
    }
}

/// A process that was killed and has not exited within the grace after
/// the kill: it is running code that never awaits, which a kill cannot
/// interrupt. It is still alive.
#[derive(Debug)]
pub(crate) struct StillRunning;

/// Stops `process` with a shutdown spec (OTP's `shutdown/2`) and returns how
/// it exited. The wait after a kill is bounded by the default timeout: a
/// process stuck in code that never awaits is reported and comes back as
/// [`StillRunning`], to die at its next await.
pub(crate) async fn stop(
    process: &ProcessRef,
    shutdown: Shutdown,
) -> Result<ExitReason, StillRunning> {
    let stopped = match shutdown {
        Shutdown::BrutalKill => {
            process.kill();
            None
        }
        Shutdown::Timeout(timeout) => Some(timeout),
        Shutdown::Infinity => Some(Duration::MAX),
    };
    if let Some(timeout) = stopped {
        match process.stop(ExitReason::shutdown(), timeout).await {
            Ok(reason) => return Ok(reason),
            Err(foundation_mailbox::StopError::NoProcess) => {
                return Ok(process.exit_reason().unwrap_or(ExitReason::NoProcess));
            }
            Err(foundation_mailbox::StopError::Timeout(_)) => {
                tracing::warn!(
                    target: "foundation::supervisor",
                    pid = %process.pid(),
                    ?timeout,
                    "child ignored its shutdown and was killed"
                );
            }
        }
    }
    let grace = TimeoutConfig::current().default_timeout();
    match process.wait_for_exit(grace).await {
        Ok(reason) => Ok(reason),
        Err(_) => {
            tracing::error!(
                target: "foundation::supervisor",
                pid = %process.pid(),
                ?grace,
                "killed child has not exited: it is running code that never awaits"
            );
            Err(StillRunning)
        }
    }
}
