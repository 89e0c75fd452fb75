//! DOWN exactly once, and never after the guard is gone: the per-monitor state machine.
//!
//! A monitor is `Active` until one of three things happens, and the first to
//! move it out of `Active` decides its fate:
//!
//! - the target exits: `Active → Delivering`, the DOWN is pushed, then
//!   `Delivering → Delivered`;
//! - the guard is dropped: `Active → Cancelled`, and no DOWN is ever pushed.
//!   If delivery won instead, the drop waits out `Delivering` (a push and a
//!   store, no user code) and then flushes the DOWN from the watcher's
//!   mailbox, so after the drop no DOWN arrives (OTP's
//!   `demonitor(Ref, [flush])`);
//! - the watcher exits: `Active → Cancelled`; nobody is left to tell.
//!
//! Whoever moves the monitor out of `Active` also removes it from the
//! registry, so each monitor is cleaned exactly once.

use foundation_mailbox::{Down, Reference};

use crate::{
    registry::{Registry, SlotKey},
    sync::{AtomicU8, Ordering, yield_now},
};

const ACTIVE: u8 = 0;
const DELIVERING: u8 = 1;
const DELIVERED: u8 = 2;
const CANCELLED: u8 = 3;

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
    /// The watcher's exit cancelled the monitor first; nothing to do.
    AlreadyCancelled,
}

impl Delivery {
    pub(crate) fn new() -> Self {
        Self(AtomicU8::new(ACTIVE))
    }

    /// The target exited: claims the right to push the DOWN. `true` means the
    /// caller pushes it and then calls [`delivered`](Self::delivered).
    pub(crate) fn begin_delivery(&self) -> bool {
        self.0
            .compare_exchange(ACTIVE, DELIVERING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The DOWN is in the watcher's mailbox (or its slot).
    pub(crate) fn delivered(&self) {
        self.0.store(DELIVERED, Ordering::Release);
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
            Err(_) => {
                // A push in progress is a few instructions on another thread
                // (never user code), so waiting it out is a short spin.
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
    if !delivery.begin_delivery() {
        return false;
    }
    sink.push(down);
    delivery.delivered();
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
        Release::AlreadyCancelled => {}
    }
    release
}
