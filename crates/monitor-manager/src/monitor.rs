//! The [`Monitor`] guard: what one monitor holds, how its DOWN is delivered, and what dropping it undoes.

use std::{
    fmt,
    future::poll_fn,
    panic::Location,
    sync::Arc,
    task::{Poll, Waker},
    time::Duration,
};

use foundation_mailbox::{Down, ExitHookId, ExitReason, Pid, ProcessRef, Reference};

use crate::{
    DownError,
    delivery::{self, Claims, Delivery, DownSink},
    registry::{Registry, SlotKey},
    sync::{Mutex, lock},
};

/// A live monitor in the registry: what `list` and `find_leaks` report.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) cell: Arc<Cell>,
    pub(crate) tag: &'static str,
    pub(crate) created: quanta::Instant,
    pub(crate) location: &'static Location<'static>,
}

/// Where a monitor's DOWN goes.
#[derive(Debug)]
pub(crate) enum Notify {
    /// Into the watcher's system lane.
    Mailbox(ProcessRef),
    /// Into the guard, for [`Monitor::down`].
    Slot(Mutex<Slot>),
}

/// The guard's own DOWN, for monitors without a watcher process.
#[derive(Debug, Default)]
pub(crate) struct Slot {
    down: Option<Down>,
    taken: bool,
    waker: Option<Waker>,
}

impl Slot {
    /// The DOWN, if it has arrived, taken once: after that, `Taken`.
    fn take(&mut self) -> Result<Option<Down>, DownError> {
        if self.taken {
            return Err(DownError::Taken);
        }
        let down = self.down.take();
        self.taken = down.is_some();
        Ok(down)
    }
}

impl DownSink for Notify {
    fn push(&self, down: Down) {
        match self {
            Self::Mailbox(watcher) => {
                let reference = down.reference;
                // Not bounded by the watcher's capacity: a monitor sends one
                // DOWN, and a burst of exits must not drop any.
                if !watcher.send_down(down) {
                    // The watcher exited: its own exit hook cleans the monitor,
                    // and nobody is left to tell.
                    tracing::trace!(target: "foundation::monitor_manager", %reference, "DOWN for a watcher that already exited");
                }
            }
            Self::Slot(slot) => {
                let waker = {
                    let mut slot = lock(slot);
                    slot.down = Some(down);
                    slot.waker.take()
                };
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
        }
    }

    fn flush(&self, reference: Reference) {
        match self {
            Self::Mailbox(watcher) => {
                let flushed = watcher.flush_down(reference);
                tracing::trace!(target: "foundation::monitor_manager", %reference, flushed, "demonitored with flush");
            }
            Self::Slot(slot) => lock(slot).down = None,
        }
    }
}

/// What the guard and the exit hooks share.
#[derive(Debug)]
pub(crate) struct Cell {
    pub(crate) delivery: Delivery,
    pub(crate) reference: Reference,
    pub(crate) target: Pid,
    /// The target itself, for its hook's removal and for leak checks.
    pub(crate) target_process: ProcessRef,
    pub(crate) notify: Notify,
    pub(crate) registry: Arc<Registry<Entry>>,
    /// Where its registry entry lives.
    pub(crate) slot: SlotKey,
}

impl Cell {
    /// The watcher process, for monitors that have one.
    pub(crate) fn watcher(&self) -> Option<&ProcessRef> {
        match &self.notify {
            Notify::Mailbox(watcher) => Some(watcher),
            Notify::Slot(_) => None,
        }
    }
}

impl Claims for Arc<Cell> {
    /// The target exited (or was gone already: `NoProcess`).
    fn target_exited(&self, reason: ExitReason) {
        let down = Down {
            pid: self.target,
            reference: self.reference,
            reason,
        };
        if delivery::target_exited(
            &self.delivery,
            &self.notify,
            &self.registry,
            self.slot,
            down,
        ) {
            tracing::debug!(target: "foundation::monitor_manager", reference = %self.reference, target_pid = %self.target, "DOWN delivered");
        }
    }

    /// The watcher exited: nobody is left to tell.
    fn watcher_exited(&self) {
        if delivery::watcher_exited(&self.delivery, &self.registry, self.slot) {
            tracing::trace!(target: "foundation::monitor_manager", reference = %self.reference, "watcher exited; monitor cleaned");
        }
    }
}

/// A monitor: while this guard lives, the target's exit is reported once
/// with a DOWN; dropping it demonitors and flushes a DOWN not yet handled.
///
/// Made by [`MonitorManager::monitor`](crate::MonitorManager::monitor) (the
/// DOWN goes to a watcher actor's mailbox as
/// [`SystemMessage::Down`](foundation_mailbox::SystemMessage::Down)) or [`MonitorManager::watch`](crate::MonitorManager::watch)
/// (the DOWN waits in the guard for [`down`](Self::down)).
#[must_use = "dropping a monitor demonitors at once"]
pub struct Monitor {
    pub(crate) cell: Arc<Cell>,
    pub(crate) target_hook: Option<ExitHookId>,
    pub(crate) watcher_hook: Option<ExitHookId>,
    pub(crate) tag: &'static str,
    pub(crate) location: &'static Location<'static>,
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("reference", &self.cell.reference)
            .field("target", &self.cell.target)
            .field("tag", &self.tag)
            .field("location", &format_args!("{}", self.location))
            .finish_non_exhaustive()
    }
}

impl Monitor {
    /// The reference its DOWN carries.
    pub fn reference(&self) -> Reference {
        self.cell.reference
    }

    /// The process it watches.
    pub fn target(&self) -> Pid {
        self.cell.target
    }

    /// The tag it was made with.
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// Where in the source it was made.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether it still waits for its target (no DOWN yet, watcher alive).
    pub fn is_active(&self) -> bool {
        self.cell.delivery.is_active()
    }

    /// The DOWN, if it has arrived, for a monitor made with
    /// [`watch`](crate::MonitorManager::watch). Takes it: a second call gives
    /// [`DownError::Taken`].
    pub fn try_down(&mut self) -> Result<Option<Down>, DownError> {
        lock(self.slot()?).take()
    }

    /// Waits up to `timeout` for the DOWN of a monitor made with
    /// [`watch`](crate::MonitorManager::watch).
    pub async fn down(&mut self, timeout: Duration) -> Result<Down, DownError> {
        let slot = self.slot()?;
        let wait = poll_fn(|cx| {
            let mut slot = lock(slot);
            match slot.take().transpose() {
                Some(taken) => Poll::Ready(taken),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        });
        match tokio::time::timeout(timeout, wait).await {
            Ok(result) => result,
            Err(_elapsed) => Err(DownError::Timeout(timeout)),
        }
    }

    /// Where a [`watch`](crate::MonitorManager::watch) monitor keeps its DOWN.
    fn slot(&self) -> Result<&Mutex<Slot>, DownError> {
        match &self.cell.notify {
            Notify::Slot(slot) => Ok(slot),
            Notify::Mailbox(_) => Err(DownError::InMailbox),
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let cell = &*self.cell;
        delivery::release(
            &cell.delivery,
            &cell.notify,
            &cell.registry,
            cell.slot,
            cell.reference,
        );
        // Hooks that already ran (or are running) are simply not found.
        if let Some(hook) = self.target_hook.take() {
            cell.target_process.cancel_exit_hook(hook);
        }
        if let (Some(hook), Some(watcher)) = (self.watcher_hook.take(), cell.watcher()) {
            watcher.cancel_exit_hook(hook);
        }
    }
}
