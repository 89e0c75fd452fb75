//! A stand-in process for the loom models: exit hooks and exit signals with the mailbox's contract, on loom's types.

use foundation_mailbox::{ExitReason, Pid};
use loom::sync::Arc;

use crate::{
    exits::Exits,
    sync::{Mutex, lock},
};

type Hook = Box<dyn FnOnce(&ExitReason) + Send>;

#[derive(Default)]
struct State {
    /// Closed: the exit has begun, signals are refused.
    exiting: bool,
    /// Published: hooks are refused and the reason comes back.
    exited: Option<ExitReason>,
    hooks: Vec<(u64, Hook)>,
    next_hook: u64,
    /// Every exit signal sent to it, and whether it was taken.
    signals: Vec<(Pid, ExitReason, bool)>,
}

/// A process as monitors and links see it, as the mailbox runs it: hooks
/// run outside the lock, oldest first, round after round until none is
/// left, and only then is the exit published.
#[derive(Clone)]
pub(super) struct StandIn(Arc<(Pid, Mutex<State>)>);

impl StandIn {
    pub(super) fn new() -> Self {
        Self(Arc::new((Pid::new(), Mutex::new(State::default()))))
    }

    /// Exits with `reason`, as `Process::finish` and `Mailbox::publish` do.
    pub(super) fn exit(&self, reason: ExitReason) {
        let mut state = lock(&self.0.1);
        if state.exiting {
            return;
        }
        state.exiting = true;
        loop {
            let hooks = std::mem::take(&mut state.hooks);
            if hooks.is_empty() {
                state.exited = Some(reason);
                return;
            }
            drop(state);
            for (_, hook) in hooks {
                hook(&reason);
            }
            state = lock(&self.0.1);
        }
    }

    /// Hooks registered and not yet run or cancelled: on a live process,
    /// each is a leak.
    pub(super) fn hooks_left(&self) -> usize {
        lock(&self.0.1).hooks.len()
    }

    /// Every exit signal sent to it: (from, reason, taken).
    pub(super) fn signals(&self) -> Vec<(Pid, ExitReason, bool)> {
        lock(&self.0.1).signals.clone()
    }
}

impl Exits for StandIn {
    type Hook = u64;

    fn pid(&self) -> Pid {
        self.0.0
    }

    fn on_exit(&self, hook: impl FnOnce(&ExitReason) + Send + 'static) -> Result<u64, ExitReason> {
        let mut state = lock(&self.0.1);
        if let Some(reason) = &state.exited {
            return Err(reason.clone());
        }
        let id = state.next_hook;
        state.next_hook += 1;
        state.hooks.push((id, Box::new(hook)));
        Ok(id)
    }

    fn cancel_exit_hook(&self, hook: u64) -> bool {
        let mut state = lock(&self.0.1);
        let before = state.hooks.len();
        state.hooks.retain(|(id, _)| *id != hook);
        state.hooks.len() != before
    }

    fn exit_signal(&self, from: Pid, reason: ExitReason) -> bool {
        let mut state = lock(&self.0.1);
        let taken = !state.exiting;
        state.signals.push((from, reason, taken));
        taken
    }
}
