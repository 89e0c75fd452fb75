//! Links: two processes that share their fate (OTP's `link/1`), built on exit hooks both ways.

use std::{fmt, sync::Arc};

use foundation_mailbox::{ExitHookId, ExitReason, Pid, ProcessRef};

use crate::{
    LinkError,
    sync::{Mutex, lock},
};

/// Which side of a link a hook watches.
const A: usize = 0;
const B: usize = 1;

/// What both sides' hooks share: whether the link is still up, and the hook
/// each side registered, so the first to fire removes the other's.
#[derive(Debug, Default)]
struct Shared {
    /// Set once by the first exit or by `unlink`; nothing happens after.
    done: bool,
    hooks: [Option<ExitHookId>; 2],
}

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
    shared: Arc<Mutex<Shared>>,
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
    let shared = Arc::new(Mutex::new(Shared::default()));
    let link = Link {
        sides: [a.clone(), b.clone()],
        shared,
    };
    for side in [A, B] {
        let hook = on_exit_of(&link.sides[side], &link.sides[1 - side], &link.shared, side);
        match hook {
            Ok(id) => {
                let mut shared = lock(&link.shared);
                if shared.done {
                    // The other side exited while this hook was being added:
                    // its hook has fired already and found nothing to remove.
                    drop(shared);
                    link.sides[side].cancel_exit_hook(id);
                } else {
                    shared.hooks[side] = Some(id);
                }
            }
            Err(_) => {
                let pid = link.sides[side].pid();
                link.unlink();
                return Err(LinkError::NoProcess(pid));
            }
        }
    }
    tracing::debug!(target: "foundation::monitor_manager", a = %a.pid(), b = %b.pid(), "linked");
    Ok(link)
}

/// Adds the hook that tells `other` when `exiting` exits.
fn on_exit_of(
    exiting: &ProcessRef,
    other: &ProcessRef,
    shared: &Arc<Mutex<Shared>>,
    side: usize,
) -> Result<ExitHookId, ExitReason> {
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

impl Link {
    /// The two linked processes' pids.
    pub fn pids(&self) -> (Pid, Pid) {
        (self.sides[A].pid(), self.sides[B].pid())
    }

    /// Whether the link is still up: neither side has exited, nobody unlinked.
    pub fn is_active(&self) -> bool {
        !lock(&self.shared).done
    }

    /// Removes the link from both processes. Returns `false` if it was
    /// already gone (a side exited and the link fired, or it was unlinked).
    pub fn unlink(&self) -> bool {
        let hooks = {
            let mut shared = lock(&self.shared);
            if shared.done {
                return false;
            }
            shared.done = true;
            std::mem::take(&mut shared.hooks)
        };
        for (side, hook) in hooks.into_iter().enumerate() {
            if let Some(hook) = hook {
                self.sides[side].cancel_exit_hook(hook);
            }
        }
        true
    }
}
