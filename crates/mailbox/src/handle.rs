//! [`ActorHandle`]: what the owner of an actor (later, its supervisor) keeps.

use std::time::Duration;

use crate::{ExitReason, Exited, Pid, ProcessRef, WaitTimeout};

/// The owner's side of a started actor: await its exit and kill it.
///
/// Dropping the handle does not stop the actor. An idle actor has no task
/// (its state waits in its process cell until a message arrives), so the
/// handle follows the process, not a task.
#[derive(Debug)]
pub struct ActorHandle {
    pub(crate) process: ProcessRef,
}

impl ActorHandle {
    /// The actor's pid.
    pub fn pid(&self) -> Pid {
        self.process.pid()
    }

    /// The actor as a type-erased process reference.
    pub fn process(&self) -> &ProcessRef {
        &self.process
    }

    /// Waits up to `timeout` for the actor to exit and returns why.
    pub async fn wait(&self, timeout: Duration) -> Result<ExitReason, WaitTimeout> {
        self.process.wait_for_exit(timeout).await
    }

    /// A future that resolves with the exit reason; for `select!` loops.
    pub fn exited(&self) -> Exited {
        self.process.exited()
    }

    /// Kills the actor at its next await point. Returns `false` if it was
    /// already exiting.
    pub fn kill(&self) -> bool {
        self.process.kill()
    }

    /// Whether the actor has exited: its state dropped, its queued messages
    /// handed to dead letters, its reason published.
    pub fn is_finished(&self) -> bool {
        self.process.exit_reason().is_some()
    }
}
