//! A dynamic supervisor's children, shared between the callers that start
//! them (on their own tasks) and the supervisor process that restarts and
//! stops them.

use std::fmt;

use foundation_mailbox::{ActorRef, ExitHookId, ExitReason, ProcessRef, Reference};

use super::DynamicSupervisor;

use crate::{
    ChildCounts, ChildKind, DynamicSpec, Started, SupervisorError,
    child::stop,
    registry::{Registry, Slot},
};

/// One registered child.
#[derive(Debug)]
pub(crate) struct Entry<T> {
    pub(crate) process: ProcessRef,
    /// Kept for restarts: `None` for a temporary child, and while a restart
    /// is being tried (the supervisor process holds it then).
    pub(crate) arg: Option<T>,
    pub(crate) hook: Option<ExitHookId>,
    /// Its restart failed and is being tried again; `process` is the exited
    /// incarnation, whose pid keys the entry until the restart succeeds.
    pub(crate) restarting: bool,
}

impl<T> Entry<T> {
    pub(crate) fn new(process: ProcessRef, arg: Option<T>) -> Self {
        Self {
            process,
            arg,
            hook: None,
            restarting: false,
        }
    }
}

/// What a dynamic supervisor's process and its handles share: its spec and
/// its children. Opaque; reached through [`DynamicSupervisorRef`](crate::DynamicSupervisorRef).
pub struct Shared<T> {
    pub(crate) spec: DynamicSpec<T>,
    pub(crate) registry: Registry<Entry<T>>,
    /// The reference of every child's DOWN: the supervisor tells its
    /// children apart by pid, so one reference serves them all and a
    /// start makes none.
    pub(crate) reference: Reference,
}

impl<T> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> Shared<T> {
    /// Starts one child for `arg` in a reserved `slot` and registers it
    /// with `supervisor`; a start that says "not now" gives the slot back
    /// and registers nothing.
    pub(crate) async fn start_child(
        &self,
        slot: Slot,
        arg: T,
        supervisor: &ActorRef<DynamicSupervisor<T>>,
    ) -> Result<Started, SupervisorError> {
        // Dropped with this future (a cancelled start) or on a failed
        // start, the slot goes back.
        let reserved = self.registry.guard(slot);
        let (start_arg, kept) = self.spec.split_arg(arg);
        let started = crate::start::contained(|| self.spec.start_future(start_arg))
            .await
            .map_err(|cause| SupervisorError::ChildStart {
                id: "dynamic child".into(),
                cause,
            })?;
        // Ignored: the guard gives the slot back.
        let Some(process) = started.process() else {
            return Ok(started);
        };
        let slot = reserved.take();
        let pid = process.pid();
        let entry = Entry::new(process.clone(), kept);
        let inserted = self
            .registry
            .insert(slot, pid, entry, |entry| self.tie(entry, supervisor));
        if let Err(entry) = inserted {
            // The supervisor shut down while the child started: it is ours to stop.
            // `stop` reports a child that will not die; there is no one to hand it to.
            let _ = stop(&entry.process, self.spec.shutdown).await;
            return Err(SupervisorError::Exited(
                supervisor
                    .exit_reason()
                    .unwrap_or_else(ExitReason::shutdown),
            ));
        }
        Ok(started)
    }

    /// Reports the child's exit to the supervisor as a DOWN. Runs under the
    /// registry lock, so the DOWN cannot be handled before the child is in.
    pub(crate) fn tie(&self, entry: &mut Entry<T>, supervisor: impl Into<ProcessRef>) {
        // A child that exited already is reported the same way, at once.
        entry.hook = entry.process.notify_on_exit(supervisor, self.reference);
    }

    /// Stops every child concurrently, each within its own shutdown.
    pub(crate) async fn stop_all(&self) {
        let children = self.registry.close();
        let shutdown = self.spec.shutdown;
        futures::future::join_all(children.into_iter().map(|entry| async move {
            untie(&entry);
            stop(&entry.process, shutdown).await
        }))
        .await;
    }

    /// The running children (not those whose restart is being retried).
    pub(crate) fn running(&self) -> Vec<ProcessRef> {
        let mut children = Vec::new();
        self.registry.for_each(|_, entry| {
            if !entry.restarting {
                children.push(entry.process.clone());
            }
        });
        children
    }

    /// Elixir's `DynamicSupervisor.count_children`: every child is a spec
    /// of the supervisor's one kind; active ones are running.
    pub(crate) fn counts(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        self.registry.for_each(|_, entry| {
            counts.specs += 1;
            counts.active += usize::from(!entry.restarting);
        });
        match self.spec.kind() {
            ChildKind::Worker => counts.workers = counts.specs,
            ChildKind::Supervisor => counts.supervisors = counts.specs,
        }
        counts
    }
}

pub(crate) fn untie<T>(entry: &Entry<T>) {
    if let Some(hook) = entry.hook {
        entry.process.cancel_exit_hook(hook);
    }
}
