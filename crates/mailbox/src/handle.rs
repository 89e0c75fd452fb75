//! [`ActorHandle`]: what the owner of an actor (later, its supervisor) keeps.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::{ExitReason, Exited, Pid, ProcessRef, WaitTimeout};

/// The owner's side of a started actor: await its exit, kill it, and know
/// when its task has fully finished.
///
/// Dropping the handle does not stop the actor.
#[derive(Debug)]
pub struct ActorHandle {
    pub(crate) process: ProcessRef,
    pub(crate) task: JoinHandle<()>,
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

    /// Whether the actor's task has completed: it exited and finished
    /// handing its queued messages to dead letters.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Waits up to `timeout` for the task itself to complete, after the exit.
    pub async fn join(self, timeout: Duration) -> Result<ExitReason, WaitTimeout> {
        let process = self.process;
        match tokio::time::timeout(timeout, self.task).await {
            Ok(_) => Ok(process.exit_reason().unwrap_or(ExitReason::Killed)),
            Err(_) => Err(WaitTimeout(timeout)),
        }
    }
}
