//! DOWN exactly once, and never after the guard is gone: the per-monitor state machine.
//!
//! A monitor is `Active` until one of three things happens, and the first to
//! move it out of `Active` decides its fate:
//!
//! - the target exits: `Active → Delivering`, the DOWN is pushed, then
//!   `Delivering → Delivered`;
//! - the guard is dropped: `Active → Cancelled`, and no DOWN is ever pushed.
//!   If delivery won instead, the drop waits out `Delivering` (a push on
//!   another thread) and then flushes the DOWN from the watcher's mailbox,
//!   so after the drop no DOWN arrives (OTP's `demonitor(Ref, [flush])`);
//! - the watcher exits: `Active → Cancelled`; nobody is left to tell.
//!
//! The push can run user code on the delivering thread: a DOWN that wakes a
//! dormant watcher whose runtime has shut down ends that watcher right
//! there, and its state, which may hold this very guard, is dropped inside
//! the push. Waiting for `Delivering` to end would then wait for the thread
//! itself (or, two such pushes on two threads dropping each other's
//! guards, for each other). So a thread counts the pushes it is inside,
//! and a drop inside a push never waits: it moves `Delivering → Released`
//! and the delivery flushes the DOWN as soon as its push returns. Only
//! drops outside every push wait, and they wait for pushes that never wait.
//!
//! Whoever moves the monitor out of `Active` also removes it from the
//! registry, so each monitor is cleaned exactly once.

use std::cell::Cell;

use foundation_mailbox::{Down, ExitReason, Reference};

use crate::{
    exits::Exits,
    registry::{Registry, SlotKey},
    sync::{AtomicU8, Ordering, thread_local, yield_now},
};

const ACTIVE: u8 = 0;
const DELIVERING: u8 = 1;
const DELIVERED: u8 = 2;
const CANCELLED: u8 = 3;
/// The guard was dropped inside the push, on the delivering thread: the
/// delivery flushes the DOWN once the push returns.
const RELEASED: u8 = 4;

#[cfg(not(foundation_loom))]
// audit:allow(FND002) a count of the pushes on this thread's stack, back to zero when they return: no state outlives a delivery
thread_local! {
    /// How many DOWN pushes this thread is inside. Pushes nest: a push that
    /// ends a watcher runs that watcher's exit hooks, which deliver DOWNs
    /// of their own.
    static PUSHES_HERE: Cell<usize> = const { Cell::new(0) };
}
#[cfg(foundation_loom)]
// audit:allow(FND002) the same count, as loom's per-thread value (its macro takes no `const` block)
thread_local! {
    static PUSHES_HERE: Cell<usize> = Cell::new(0);
}

/// One monitor's delivery state.
#[derive(Debug)]
pub(crate) struct Delivery(AtomicU8);

/// What a guard's drop found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Release {
    /// The drop cancelled an active monitor: no DOWN was or will be pushed.
    /// The caller cleans the registry entry.
    Cancelled,
    /// A DOWN was pushed (and the push is finished): the caller flushes it.
    Delivered,
    /// The drop ran inside a push while this DOWN was being pushed: the
    /// delivery flushes it when its push returns. Nothing to do.
    DuringDelivery,
    /// The watcher's exit cancelled the monitor first; nothing to do.
    AlreadyCancelled,
}

impl Delivery {
    pub(crate) fn new() -> Self {
        Self(AtomicU8::new(ACTIVE))
    }

    /// The target exited: claims the right to push the DOWN. `Some` means
    /// the caller pushes it, on this thread, and then
    /// [`finish`](Delivering::finish)es.
    pub(crate) fn begin_delivery(&self) -> Option<Delivering<'_>> {
        self.0
            .compare_exchange(ACTIVE, DELIVERING, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        PUSHES_HERE.with(|pushes| pushes.set(pushes.get() + 1));
        Some(Delivering {
            delivery: self,
            finished: false,
        })
    }

    /// The push is over: `Delivering → Delivered`. Returns whether the guard
    /// was dropped during the push (and the DOWN is still to be flushed).
    fn end_delivery(&self) -> bool {
        PUSHES_HERE.with(|pushes| pushes.set(pushes.get() - 1));
        // Only this thread moves the state out of `Delivering`, or a drop
        // inside some push (this one or another thread's): the swap sees
        // which.
        self.0.swap(DELIVERED, Ordering::AcqRel) == RELEASED
    }

    /// The watcher exited: cancels an active monitor. `true` means the
    /// caller cleans the registry entry.
    pub(crate) fn watcher_exited(&self) -> bool {
        self.0
            .compare_exchange(ACTIVE, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The guard is being dropped.
    pub(crate) fn release(&self) -> Release {
        match self
            .0
            .compare_exchange(ACTIVE, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => Release::Cancelled,
            Err(CANCELLED) => Release::AlreadyCancelled,
            Err(DELIVERING) if PUSHES_HERE.with(Cell::get) > 0 => {
                // Dropped by a push's user code: a push below us on this
                // thread may be this monitor's, which cannot end while we
                // wait. Hand the flush to the delivery instead, unless it
                // ended just now.
                match self.0.compare_exchange(
                    DELIVERING,
                    RELEASED,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => Release::DuringDelivery,
                    Err(_) => Release::Delivered,
                }
            }
            Err(_) => {
                // Outside every push on this thread: the push in progress is
                // on another thread and never waits (see above), so waiting
                // it out is a short spin.
                while self.0.load(Ordering::Acquire) == DELIVERING {
                    yield_now();
                }
                Release::Delivered
            }
        }
    }

    /// Whether the monitor is still waiting for its target.
    pub(crate) fn is_active(&self) -> bool {
        self.0.load(Ordering::Acquire) == ACTIVE
    }
}

/// A DOWN being pushed, on this thread. Ends the delivery however the push
/// ends, a panic included, so no drop ever waits for it in vain.
#[derive(Debug)]
pub(crate) struct Delivering<'a> {
    delivery: &'a Delivery,
    finished: bool,
}

impl Delivering<'_> {
    /// The DOWN is in the watcher's mailbox (or its slot). `true` means the
    /// guard was dropped during the push: the caller flushes the DOWN now.
    pub(crate) fn finish(mut self) -> bool {
        self.finished = true;
        self.delivery.end_delivery()
    }
}

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        if !self.finished {
            // The push unwound: whatever it left, nobody may wait on it.
            self.delivery.end_delivery();
        }
    }
}

/// Where a monitor's DOWN goes: the watcher's mailbox, or the guard's own
/// slot for code that is not an actor.
pub(crate) trait DownSink {
    /// Hands over the DOWN; a sink whose owner is gone drops it.
    fn push(&self, down: Down);
    /// Removes the DOWN for `reference` if it has not been taken yet.
    fn flush(&self, reference: Reference);
}

/// The target exited: pushes the DOWN unless the monitor was cancelled
/// first, then cleans the registry entry. Returns whether it pushed.
pub(crate) fn target_exited<E>(
    delivery: &Delivery,
    sink: &impl DownSink,
    registry: &Registry<E>,
    slot: SlotKey,
    down: Down,
) -> bool {
    let Some(delivering) = delivery.begin_delivery() else {
        return false;
    };
    let reference = down.reference;
    sink.push(down);
    if delivering.finish() {
        // The guard went during the push: the flush its drop left to us.
        sink.flush(reference);
    }
    // Cleaned after the DOWN is delivered, so `active` never says a monitor
    // is gone while its DOWN is still on the way.
    drop(registry.remove(slot));
    true
}

/// The watcher exited: cancels the monitor unless its DOWN went first.
/// Returns whether it cancelled.
pub(crate) fn watcher_exited<E>(
    delivery: &Delivery,
    registry: &Registry<E>,
    slot: SlotKey,
) -> bool {
    let cancelled = delivery.watcher_exited();
    if cancelled {
        drop(registry.remove(slot));
    }
    cancelled
}

/// The guard is dropped: after this returns, no DOWN for `reference` is
/// pending in the sink and none will be pushed.
pub(crate) fn release<E>(
    delivery: &Delivery,
    sink: &impl DownSink,
    registry: &Registry<E>,
    slot: SlotKey,
    reference: Reference,
) -> Release {
    let release = delivery.release();
    match release {
        Release::Cancelled => drop(registry.remove(slot)),
        Release::Delivered => sink.flush(reference),
        Release::DuringDelivery | Release::AlreadyCancelled => {}
    }
    release
}

/// What a monitor's exit hooks do with it: the target's exit delivers, the
/// watcher's exit cancels. A cheap handle (the monitor's shared cell) that
/// each hook keeps a clone of.
pub(crate) trait Claims: Clone + Send + 'static {
    fn target_exited(&self, reason: ExitReason);
    fn watcher_exited(&self);
}

/// Hooks a registered monitor to its watcher's exit, then its target's, and
/// returns the two hooks (watcher's, target's) for the guard to cancel.
///
/// Either end may be exiting meanwhile; whatever the interleaving, the
/// monitor is claimed once. A watcher already gone cancels the monitor at
/// once and the target is never hooked (nobody is left to tell). A target
/// already gone delivers its DOWN at once with [`ExitReason::NoProcess`]
/// (OTP's `noproc`), so a monitor never waits for an exit that happened.
pub(crate) fn hook_exits<P: Exits>(
    monitor: &impl Claims,
    watcher: Option<&P>,
    target: &P,
) -> (Option<P::Hook>, Option<P::Hook>) {
    let mut watcher_hook = None;
    if let Some(watcher) = watcher {
        let claims = monitor.clone();
        match watcher.on_exit(move |_| claims.watcher_exited()) {
            Ok(hook) => watcher_hook = Some(hook),
            Err(_) => {
                monitor.watcher_exited();
                return (None, None);
            }
        }
    }
    let claims = monitor.clone();
    let target_hook = match target.on_exit(move |reason| claims.target_exited(reason.clone())) {
        Ok(hook) => Some(hook),
        Err(_) => {
            monitor.target_exited(ExitReason::NoProcess);
            None
        }
    };
    (watcher_hook, target_hook)
}
