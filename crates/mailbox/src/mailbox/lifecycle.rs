//! The mailbox's side of a process's life: starting, who runs the actor,
//! kills, closing and publishing the exit.
//!
//! Whoever runs the actor's code holds its state: an activation task (whose
//! abort handle is registered here), or a future on another task that
//! borrowed it (`start`'s `init`, a stopper's `terminate`), or nobody while
//! the actor is dormant. A kill marks the mailbox `Killing` under the lock,
//! which closes it to new messages, and then reaches whichever runner there
//! is: it aborts the task, wakes the borrowing future, or takes the dormant
//! state. Every runner checks for `Killing` where it would otherwise park
//! the state or register its task, so a kill can land at no moment where
//! nobody sees it.

use std::task::{Context, Poll};

use super::{Activation, Batch, Hook, HookId, Leftovers, Mailbox, Received, State, Status};
use crate::{
    ExitReason,
    sync::{AbortHandle, MutexGuard, Ordering, get_mut, lock},
    waiters::{WaiterKey, wake_all},
};

/// The answer to [`Mailbox::kill`].
#[derive(Debug)]
pub(crate) enum Kill<S> {
    /// The running task was aborted; it finishes the exit as it unwinds.
    Aborted,
    /// The actor was dormant: here is its state, the caller finishes the exit.
    Dormant(S, ExitReason),
    /// Someone else holds the state (a task not registered yet, a borrowed
    /// `init` or `terminate`): it sees the kill and finishes the exit.
    Pending,
    /// The actor was already exiting.
    AlreadyExiting,
}

/// The answer to [`Mailbox::close`].
pub(crate) struct Closed<T> {
    /// The reason the exit carries.
    pub(crate) reason: ExitReason,
    /// What was queued, when the exit is not published yet (the caller
    /// hands it to dead letters, then calls
    /// [`finish_exit`](Mailbox::finish_exit)).
    pub(crate) leftovers: Option<Leftovers<T>>,
    /// `false` when another exit had closed the mailbox already (and
    /// publishes it).
    pub(crate) closed_here: bool,
    /// The abort handle of the task that ran the actor, if one was
    /// registered: no kill reaches it any more, so that task may run
    /// another actor.
    pub(crate) task: Option<AbortHandle>,
}

impl<T, S> Mailbox<T, S> {
    /// Marks the process running after `init` and makes it dormant, unless
    /// messages arrived meanwhile (then it must be activated at once) or it
    /// was killed (then the state comes back as `Err`).
    pub(crate) fn start_dormant(&self, dormant: S) -> Result<Option<Activation<S>>, S> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Err(dormant);
        }
        state.status = Status::Running;
        state.dormant = Some(dormant);
        if state.is_idle() {
            return Ok(None);
        }
        Ok(state.activate())
    }

    /// Marks the process running, for an actor whose `init` ran on its own task.
    pub(crate) fn set_running(&self) {
        let mut state = lock(&self.state);
        if matches!(state.status, Status::Starting) {
            state.status = Status::Running;
        }
    }

    /// Records how to abort the task of activation `generation`. A handle
    /// from an activation that already went dormant again is ignored; a
    /// kill that came while the task was being started aborts it now.
    pub(crate) fn set_abort(&self, generation: u32, abort: AbortHandle) {
        let mut state = lock(&self.state);
        if state.generation != generation || state.dormant.is_some() {
            return;
        }
        match state.status {
            Status::Killing(_) => {
                drop(state);
                abort.abort();
            }
            Status::Exiting(_) | Status::Exited(_) => {}
            Status::Starting | Status::Running => state.abort = Some(abort),
        }
    }

    /// Registers `abort`, the handle of a task that already runs, as the
    /// runner of activation `generation`: a task that finished one actor's
    /// activation takes over the next one (see `runtime::handoff`). Unlike
    /// [`set_abort`](Self::set_abort), a kill that came first is not carried
    /// out on the adopting task, which is innocent of it: the handle comes
    /// back, and the caller starts the activation on a task of its own,
    /// where `set_abort` meets the kill.
    ///
    /// With `batch` (the adopting loop's, empty), the same lock also hands
    /// over the actor's next message, as [`try_recv`](Self::try_recv)
    /// would: the push that woke the actor just queued it.
    pub(crate) fn adopt(
        &self,
        generation: u32,
        abort: AbortHandle,
        batch: Option<&mut Batch<T>>,
    ) -> Result<Option<Received<T>>, AbortHandle> {
        let mut state = lock(&self.state);
        if state.generation != generation || state.dormant.is_some() {
            return Err(abort);
        }
        match state.status {
            Status::Starting | Status::Running => state.abort = Some(abort),
            Status::Killing(_) | Status::Exiting(_) | Status::Exited(_) => return Err(abort),
        }
        let Some(batch) = batch else {
            return Ok(None);
        };
        let (received, senders) = self.next_locked(&mut state, batch);
        drop(state);
        wake_all(senders);
        Ok(received)
    }

    /// For a stop: hands back the dormant state, so the stopper can run
    /// `terminate` itself; `Ok(None)` when the actor is running (or between
    /// tasks) and must be sent a stop signal instead.
    pub(crate) fn claim_for_stop(&self) -> Result<Option<S>, ()> {
        let mut state = lock(&self.state);
        if state.status.is_closed() {
            return Err(());
        }
        Ok(state.dormant.take())
    }

    /// Kills the process with `reason`: closes the mailbox and reaches
    /// whoever runs the actor. Exactly one kill (or exit) wins.
    pub(crate) fn kill(&self, reason: ExitReason) -> Kill<S> {
        let state = lock(&self.state);
        self.kill_locked(state, reason)
    }

    pub(super) fn kill_locked(
        &self,
        mut state: MutexGuard<'_, State<T, S>>,
        reason: ExitReason,
    ) -> Kill<S> {
        if state.status.is_closed() {
            return Kill::AlreadyExiting;
        }
        state.status = Status::Killing(reason.clone());
        self.stop_pending.store(false, Ordering::Release);
        // Blocked senders wake to find the mailbox closed; a borrowing
        // runner, registered with the exit watchers, wakes to see the kill.
        let senders = state.senders.take_all();
        let watchers = state.status_waiters.take_all();
        let outcome = if let Some(dormant) = state.dormant.take() {
            Kill::Dormant(dormant, reason)
        } else if let Some(abort) = state.abort.take() {
            drop(state);
            abort.abort();
            Kill::Aborted
        } else {
            Kill::Pending
        };
        senders.wake();
        watchers.wake();
        outcome
    }

    /// Ready with the kill's reason once the process is killed; for a
    /// future that borrowed the actor's state.
    pub(crate) fn poll_killed(
        &self,
        cx: &mut Context<'_>,
        key: &mut WaiterKey,
    ) -> Poll<ExitReason> {
        let mut state = lock(&self.state);
        if let Status::Killing(reason) = &state.status {
            let reason = reason.clone();
            state.status_waiters.remove(key);
            return Poll::Ready(reason);
        }
        state.status_waiters.register(key, cx.waker());
        Poll::Pending
    }

    /// Closes the mailbox to new messages and hands back what was queued,
    /// with the reason the exit will carry: a kill's reason, unless
    /// `overrides_kill` (a panic while letting go of the state). The exit is
    /// not observable until [`finish_exit`](Self::finish_exit), unless
    /// `publish_if_empty` is set and nothing was queued: then it is
    /// published at once, and no leftovers come back.
    pub(crate) fn close(
        &self,
        reason: ExitReason,
        overrides_kill: bool,
        publish_if_empty: bool,
    ) -> Closed<T> {
        let mut state = lock(&self.state);
        let reason = match &state.status {
            Status::Killing(killed) if !overrides_kill => killed.clone(),
            // Closed already by an exit in progress: that one publishes.
            Status::Exiting(reason) | Status::Exited(reason) => {
                return Closed {
                    reason: reason.clone(),
                    leftovers: None,
                    closed_here: false,
                    task: None,
                };
            }
            _ => reason,
        };
        state.taken = 0;
        // Taken in the lock that closes: a kill from now on finds the
        // process exiting and leaves the task alone.
        let task = state.abort.take();
        self.stop_pending.store(false, Ordering::Release);
        if publish_if_empty && state.is_idle() && state.senders.is_empty() {
            self.publish(state, reason.clone());
            return Closed {
                reason,
                leftovers: None,
                closed_here: true,
                task,
            };
        }
        state.status = Status::Exiting(reason.clone());
        let leftovers = Leftovers::new(
            std::mem::take(&mut state.user),
            std::mem::take(&mut state.marks),
            state.lane_head,
        );
        // System notifications (DOWNs, exit signals, timer ticks) for a dead
        // process have no one to act on them: they go with the mailbox.
        let system = std::mem::take(&mut state.system);
        let senders = state.senders.take_all();
        drop(state);
        drop(system);
        // Blocked senders wake to find the mailbox closed and get their
        // messages back.
        senders.wake();
        Closed {
            reason,
            leftovers: Some(leftovers),
            closed_here: true,
            task,
        }
    }

    /// Publishes the exit: waiters see the reason from now on.
    pub(crate) fn finish_exit(&self) {
        let mut state = lock(&self.state);
        let status = std::mem::replace(&mut state.status, Status::Starting);
        let reason = match status {
            Status::Killing(reason) | Status::Exiting(reason) | Status::Exited(reason) => reason,
            Status::Starting | Status::Running => ExitReason::Killed,
        };
        self.publish(state, reason);
    }

    /// Registers `hook` to run once after the exit is published. Gives the
    /// hook back, with the reason, if the exit already was.
    pub(crate) fn add_exit_hook(&self, hook: Hook) -> Result<HookId, (Hook, ExitReason)> {
        let mut state = lock(&self.state);
        if let Status::Exited(reason) = &state.status {
            let reason = reason.clone();
            return Err((hook, reason));
        }
        Ok(state.exit_hooks.add(hook))
    }

    /// Removes a hook that has not run. Returns `false` if it ran (or is
    /// running) already.
    pub(crate) fn remove_exit_hook(&self, id: HookId) -> bool {
        lock(&self.state).exit_hooks.remove(id)
    }

    /// Ready with the exit reason once the exit is published.
    pub(crate) fn poll_exit(&self, cx: &mut Context<'_>, key: &mut WaiterKey) -> Poll<ExitReason> {
        let mut state = lock(&self.state);
        if let Status::Exited(reason) = &state.status {
            let reason = reason.clone();
            state.status_waiters.remove(key);
            return Poll::Ready(reason);
        }
        state.status_waiters.register(key, cx.waker());
        Poll::Pending
    }

    /// Forgets an exit watcher that stopped waiting.
    pub(crate) fn cancel_wait(&self, key: &mut WaiterKey) {
        if key.is_registered() {
            lock(&self.state).status_waiters.remove(key);
        }
    }

    /// The exit reason, once the exit is published.
    pub(crate) fn exit_reason(&self) -> Option<ExitReason> {
        match &lock(&self.state).status {
            Status::Exited(reason) => Some(reason.clone()),
            _ => None,
        }
    }

    /// For a process cell being freed: its dormant state, if it has one, and
    /// whether its exit still has to be published.
    pub(crate) fn abandon(&mut self) -> (Option<S>, bool) {
        let state = get_mut(&mut self.state);
        let dormant = state.dormant.take();
        let unpublished = !matches!(state.status, Status::Exited(_) | Status::Exiting(_));
        (dormant, unpublished)
    }
}

impl<T, S> Mailbox<T, S> {
    /// Publishes the exit: runs the exit hooks with the lock released, then
    /// marks the process exited and wakes the exit watchers. Whoever sees
    /// the exit therefore also sees every DOWN it caused already delivered.
    /// A hook added while the hooks run (the process is closed, not yet
    /// exited) runs in the next round.
    fn publish<'a>(&'a self, mut state: MutexGuard<'a, State<T, S>>, reason: ExitReason) {
        loop {
            let hooks = std::mem::take(&mut state.exit_hooks);
            if hooks.is_empty() {
                state.status = Status::Exited(reason);
                let waiters = state.status_waiters.take_all();
                drop(state);
                waiters.wake();
                return;
            }
            state.status = Status::Exiting(reason.clone());
            drop(state);
            hooks.run(&reason);
            state = lock(&self.state);
        }
    }
}
