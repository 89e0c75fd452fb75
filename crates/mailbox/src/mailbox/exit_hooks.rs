//! Exit hooks: what runs, once, right after a process's exit is published.

use crate::ExitReason;

/// What runs when a process exits: the exit reason is passed in.
pub(crate) type ExitHook = Box<dyn FnOnce(&ExitReason) + Send>;

// Hook ids only need to be unique per process; one counter for all keeps
// the per-process list small.
static NEXT_HOOK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A process's exit hooks; one pointer while there are none.
#[derive(Default)]
// Boxed so every process cell pays one word, not a Vec's three: most
// processes never have a hook.
#[allow(clippy::box_collection)]
pub(super) struct ExitHooks(Option<Box<Vec<(u64, ExitHook)>>>);

impl std::fmt::Debug for ExitHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ExitHooks")
            .field(&self.0.as_ref().map_or(0, |hooks| hooks.len()))
            .finish()
    }
}

impl ExitHooks {
    pub(super) fn add(&mut self, hook: ExitHook) -> u64 {
        let id = NEXT_HOOK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.0.get_or_insert_with(Default::default).push((id, hook));
        id
    }

    pub(super) fn remove(&mut self, id: u64) -> bool {
        let Some(hooks) = &mut self.0 else {
            return false;
        };
        let Some(index) = hooks.iter().position(|(hook_id, _)| *hook_id == id) else {
            return false;
        };
        drop(hooks.swap_remove(index));
        if hooks.is_empty() {
            self.0 = None;
        }
        true
    }

    /// Runs every hook, outside the lock.
    pub(super) fn run(self, reason: &ExitReason) {
        for (_, hook) in self.0.into_iter().flat_map(|hooks| *hooks) {
            hook(reason);
        }
    }
}
