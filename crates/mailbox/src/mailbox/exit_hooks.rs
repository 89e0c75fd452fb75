//! Exit hooks: what runs, once, right after a process's exit is published.
//!
//! They are kept as a singly linked list of boxed nodes: an idle process
//! pays one pointer, and adding a hook is one allocation. A DOWN for a
//! watcher (a monitor, a supervisor's child) is a node of its own kind, so
//! it needs no boxed closure on top.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{Down, ExitReason, Pid, ProcessRef, Reference, SystemMessage, system::Signal};

/// A closure run with the exit reason.
pub(crate) type ExitHook = Box<dyn FnOnce(&ExitReason) + Send>;

/// One thing to do when the process exits.
pub(crate) enum Hook {
    /// Run a closure.
    Run(ExitHook),
    /// Deliver a DOWN into `watcher`'s system lane.
    Down {
        watcher: ProcessRef,
        pid: Pid,
        reference: Reference,
    },
}

impl Hook {
    /// Does what the hook is for, with the exit reason.
    pub(crate) fn run(self, reason: &ExitReason) {
        match self {
            Hook::Run(hook) => hook(reason),
            Hook::Down {
                watcher,
                pid,
                reference,
            } => {
                let down = Down {
                    pid,
                    reference,
                    reason: reason.clone(),
                };
                // A watcher that has exited has nobody left to tell. One
                // registration sends one DOWN: not subject to the bound on
                // system messages sent by hand.
                let _ = watcher
                    .0
                    .push_signal(Signal::Message(SystemMessage::Down(down)), false);
            }
        }
    }
}

// Hook ids only need to be unique per process; one counter for all keeps
// the per-process state small. Each thread takes ids from it a block at a
// time, so adding a hook costs no atomic operation of its own (a child's
// exit notification is added for every supervised start).
static NEXT_HOOK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many hook ids a thread takes from [`NEXT_HOOK`] at once.
const ID_BLOCK: u64 = 1024;

// audit:allow(FND002) a cache of ids this thread reserved from `NEXT_HOOK`: it holds no state anyone reads back, only which ids are still unused
std::thread_local! {
    /// This thread's next hook id, and the end of its block.
    static IDS: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// A hook's id: never zero, so an `Option` of one (what a supervisor keeps
/// for each child) takes no more room than the id.
pub(crate) type HookId = std::num::NonZeroU64;

/// A hook id no other hook has had.
fn next_id() -> HookId {
    let take = || NEXT_HOOK.fetch_add(ID_BLOCK, std::sync::atomic::Ordering::Relaxed);
    let id = IDS
        .try_with(|ids| {
            let (mut next, mut end) = ids.get();
            if next == end {
                next = take();
                end = next + ID_BLOCK;
            }
            ids.set((next + 1, end));
            next
        })
        // A thread tearing down its locals takes a block for one id.
        .unwrap_or_else(|_| take());
    // One to one onto the ids that are not zero, below `u64::MAX`.
    HookId::MIN.saturating_add(id)
}

struct Node {
    id: HookId,
    hook: Hook,
    next: Option<Box<Node>>,
}

/// A process's exit hooks, newest first; one pointer while there are none.
#[derive(Default)]
pub(super) struct ExitHooks(Option<Box<Node>>);

impl std::fmt::Debug for ExitHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut count = 0;
        let mut cursor = &self.0;
        while let Some(node) = cursor {
            count += 1;
            cursor = &node.next;
        }
        f.debug_tuple("ExitHooks").field(&count).finish()
    }
}

impl ExitHooks {
    pub(super) fn add(&mut self, hook: Hook) -> HookId {
        let id = next_id();
        let next = self.0.take();
        self.0 = Some(Box::new(Node { id, hook, next }));
        id
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub(super) fn remove(&mut self, id: HookId) -> bool {
        let mut cursor = &mut self.0;
        loop {
            match cursor {
                None => return false,
                Some(node) if node.id == id => {
                    let next = node.next.take();
                    // Drops the removed node (and its hook) here.
                    *cursor = next;
                    return true;
                }
                Some(node) => cursor = &mut node.next,
            }
        }
    }

    /// Runs every hook, oldest first, outside the lock.
    pub(super) fn run(mut self, reason: &ExitReason) {
        // Reverse the list in place so hooks run in the order they were added.
        let mut oldest_first = None;
        while let Some(mut node) = self.0.take() {
            self.0 = node.next.take();
            node.next = oldest_first;
            oldest_first = Some(node);
        }
        while let Some(mut node) = oldest_first {
            oldest_first = node.next.take();
            // A hook is a watcher's code running on whichever task finishes
            // the exit: its panic must not reach that task, nor stop the
            // hooks after it from running.
            let hook = node.hook;
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| hook.run(reason))) {
                let panic = ExitReason::from_panic(&*payload);
                tracing::error!(target: "foundation::mailbox", %panic, "an exit hook panicked");
            }
        }
    }
}

impl Drop for ExitHooks {
    /// Unlinks node by node: a process watched a million times must not
    /// drop its list recursively.
    fn drop(&mut self) {
        let mut next = self.0.take();
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
}

#[cfg(all(test, not(foundation_loom)))]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn recorder(log: &Arc<Mutex<Vec<u32>>>, value: u32) -> Hook {
        let log = Arc::clone(log);
        Hook::Run(Box::new(move |_| log.lock().unwrap().push(value)))
    }

    #[test]
    fn hooks_run_oldest_first_and_removed_ones_never_run() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut hooks = ExitHooks::default();
        let first = hooks.add(recorder(&log, 1));
        let second = hooks.add(recorder(&log, 2));
        hooks.add(recorder(&log, 3));
        hooks.add(recorder(&log, 4));
        assert!(hooks.remove(second));
        assert!(!hooks.remove(second), "already removed");
        assert!(hooks.remove(first), "the oldest, at the tail");
        assert_eq!(format!("{hooks:?}"), "ExitHooks(2)");
        hooks.run(&ExitReason::Normal);
        assert_eq!(*log.lock().unwrap(), [3, 4]);
    }

    #[test]
    fn a_million_hooks_drop_without_recursion() {
        let mut hooks = ExitHooks::default();
        for _ in 0..1_000_000 {
            hooks.add(Hook::Run(Box::new(|_| {})));
        }
        drop(hooks);
    }

    /// Threads take ids in blocks: ids taken on several threads at once,
    /// each across several blocks, are never handed out twice, and a
    /// hook added on another thread is removed by its own id only.
    #[test]
    fn hook_ids_taken_on_racing_threads_are_all_distinct() {
        const EACH: usize = 3 * ID_BLOCK as usize + 7;
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..EACH).map(|_| next_id()).collect::<Vec<_>>()))
            .collect();
        let mut ids: Vec<HookId> = threads
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 4 * EACH, "an id was handed out twice");

        let log = Arc::new(Mutex::new(Vec::new()));
        let mut hooks = ExitHooks::default();
        let here = hooks.add(recorder(&log, 1));
        let elsewhere = {
            let mut hooks = std::mem::take(&mut hooks);
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let id = hooks.add(recorder(&log, 2));
                (hooks, id)
            })
            .join()
            .unwrap()
        };
        let (mut hooks, there) = elsewhere;
        assert_ne!(here, there);
        assert!(hooks.remove(here));
        hooks.run(&ExitReason::Normal);
        assert_eq!(
            *log.lock().unwrap(),
            [2],
            "removing one hook took the other"
        );
    }

    /// Supervisors keep an optional hook id per child: one word, not two.
    #[test]
    fn an_optional_hook_id_is_one_word() {
        assert_eq!(
            std::mem::size_of::<Option<crate::ExitHookId>>(),
            std::mem::size_of::<u64>()
        );
    }
}
