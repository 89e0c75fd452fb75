//! Links: two processes that share their fate (OTP's `link/1`), built on exit hooks both ways.

use std::{fmt, sync::Arc};

use foundation_mailbox::{ExitReason, Pid, ProcessRef};

use crate::{
    LinkError,
    exits::Exits,
    sync::{Mutex, lock},
};

/// Which side of a link a hook watches.
const A: usize = 0;
const B: usize = 1;

/// What both sides' hooks share: whether the link is still up, and the hook
/// each side registered, so the first to fire removes the other's.
#[derive(Debug)]
pub(crate) struct Shared<H> {
    /// Set once by the first exit or by `unlink`; nothing happens after.
    done: bool,
    hooks: [Option<H>; 2],
}

/// The link between two processes' hooks.
pub(crate) type Linked<P> = Arc<Mutex<Shared<<P as Exits>::Hook>>>;

/// A link between two processes, made by [`link`].
///
/// When either exits, the other gets an exit signal carrying the reason,
/// with OTP's semantics (see [`ProcessRef::exit_signal`]): a process that
/// traps exits receives [`SystemMessage::Exit`](foundation_mailbox::SystemMessage::Exit);
/// otherwise a `Normal` exit is ignored and any other reason ends it too.
/// The link then removes itself from both processes. Dropping this handle
/// does not unlink (a link lives as long as the processes, as in OTP); call
/// [`unlink`](Self::unlink) for that.
pub struct Link {
    sides: [ProcessRef; 2],
    shared: Linked<ProcessRef>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("a", &self.sides[A].pid())
            .field("b", &self.sides[B].pid())
            .field("active", &self.is_active())
            .finish()
    }
}

/// Links `a` and `b`. Fails with [`LinkError::NoProcess`] if either has
/// already exited (the other is left unlinked), and with
/// [`LinkError::SelfLink`] if they are the same process.
pub fn link(a: &ProcessRef, b: &ProcessRef) -> Result<Link, LinkError> {
    if a == b {
        return Err(LinkError::SelfLink);
    }
    let sides = [a.clone(), b.clone()];
    let shared = link_sides(&sides)?;
    tracing::debug!(target: "foundation::monitor_manager", a = %a.pid(), b = %b.pid(), "linked");
    Ok(Link { sides, shared })
}

/// The link protocol: hooks each side's exit to signal the other. Either
/// side may be exiting meanwhile: a side already gone fails the link and
/// leaves nothing on the other; a side that exits while the link is being
/// made signals the other once, and no hook is left behind.
pub(crate) fn link_sides<P: Exits>(sides: &[P; 2]) -> Result<Linked<P>, LinkError> {
    let shared = Arc::new(Mutex::new(Shared {
        done: false,
        hooks: [None, None],
    }));
    for side in [A, B] {
        match on_exit_of(&sides[side], &sides[1 - side], &shared, side) {
            Ok(id) => {
                let mut state = lock(&shared);
                if state.done {
                    // The other side exited while this hook was being added:
                    // its hook has fired already and found nothing to remove.
                    drop(state);
                    sides[side].cancel_exit_hook(id);
                } else {
                    state.hooks[side] = Some(id);
                }
            }
            Err(_) => {
                unlink_sides(sides, &shared);
                return Err(LinkError::NoProcess(sides[side].pid()));
            }
        }
    }
    Ok(shared)
}

/// Adds the hook that tells `other` when `exiting` exits.
fn on_exit_of<P: Exits>(
    exiting: &P,
    other: &P,
    shared: &Linked<P>,
    side: usize,
) -> Result<P::Hook, ExitReason> {
    let from = exiting.pid();
    let other = other.clone();
    let shared = shared.clone();
    exiting.on_exit(move |reason| {
        let other_hook = {
            let mut shared = lock(&shared);
            if shared.done {
                return;
            }
            shared.done = true;
            shared.hooks[1 - side].take()
        };
        if let Some(hook) = other_hook {
            other.cancel_exit_hook(hook);
        }
        let delivered = other.exit_signal(from, reason.clone());
        tracing::debug!(target: "foundation::monitor_manager", %from, to = %other.pid(), %reason, delivered, "link fired");
    })
}

/// Removes the link from both sides; `false` if it was already gone.
pub(crate) fn unlink_sides<P: Exits>(sides: &[P; 2], shared: &Linked<P>) -> bool {
    let hooks = {
        let mut state = lock(shared);
        if state.done {
            return false;
        }
        state.done = true;
        [state.hooks[A].take(), state.hooks[B].take()]
    };
    for (side, hook) in hooks.into_iter().enumerate() {
        if let Some(hook) = hook {
            sides[side].cancel_exit_hook(hook);
        }
    }
    true
}

/// Whether the link is still up.
pub(crate) fn is_linked<H>(shared: &Mutex<Shared<H>>) -> bool {
    !lock(shared).done
}

impl Link {
    /// The two linked processes' pids.
    pub fn pids(&self) -> (Pid, Pid) {
        (self.sides[A].pid(), self.sides[B].pid())
    }

    /// Whether the link is still up: neither side has exited, nobody unlinked.
    pub fn is_active(&self) -> bool {
        is_linked(&self.shared)
    }

    /// Removes the link from both processes. Returns `false` if it was
    /// already gone (a side exited and the link fired, or it was unlinked).
    pub fn unlink(&self) -> bool {
        unlink_sides(&self.sides, &self.shared)
    }
}
