//! What monitors and links need of a process (exit hooks, exit signals), as a trait the loom models can stand in for.
//!
//! The mailbox is not modelled through this crate: its types are std's. The
//! protocols built on a process's exit (hooking a new monitor to both ends,
//! linking and unlinking) are written against [`Exits`], so the models in
//! `loom_models` run the same code on a small stand-in process whose
//! hooks run the way the mailbox runs them.

use foundation_mailbox::{ExitHookId, ExitReason, Pid, ProcessRef};

/// A process as monitors and links see it. The contract is the mailbox's
/// (see [`ProcessRef::on_exit`]): hooks run once, outside every lock, right
/// before the exit is published; a hook added while they run still runs;
/// once the exit is published, adding a hook gives the reason back instead.
pub(crate) trait Exits: Clone + Send + Sync + 'static {
    /// Names a hook, to cancel it.
    type Hook: Copy + Send + 'static;

    fn pid(&self) -> Pid;

    /// Runs `hook` with the exit reason when the process exits; gives the
    /// reason back (and drops `hook`) if the exit is already published.
    fn on_exit(
        &self,
        hook: impl FnOnce(&ExitReason) + Send + 'static,
    ) -> Result<Self::Hook, ExitReason>;

    /// Removes a hook that has not run; `false` if it ran or is running.
    fn cancel_exit_hook(&self, hook: Self::Hook) -> bool;

    /// Sends an exit signal from `from`; `false` if the process is gone.
    fn exit_signal(&self, from: Pid, reason: ExitReason) -> bool;
}

impl Exits for ProcessRef {
    type Hook = ExitHookId;

    fn pid(&self) -> Pid {
        ProcessRef::pid(self)
    }

    fn on_exit(
        &self,
        hook: impl FnOnce(&ExitReason) + Send + 'static,
    ) -> Result<ExitHookId, ExitReason> {
        ProcessRef::on_exit(self, hook)
    }

    fn cancel_exit_hook(&self, hook: ExitHookId) -> bool {
        ProcessRef::cancel_exit_hook(self, hook)
    }

    fn exit_signal(&self, from: Pid, reason: ExitReason) -> bool {
        ProcessRef::exit_signal(self, from, reason)
    }
}
