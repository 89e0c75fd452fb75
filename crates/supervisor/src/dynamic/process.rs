//! The dynamic supervisor's process: it restarts exited children
//! one-for-one within its intensity, retrying a failed restart as a queued
//! message, and stops every child when it shuts down.

use std::{collections::HashMap, fmt, sync::Arc};

use foundation_mailbox::{
    Actor, Context, Down, ExitReason, Pid, ProcessRef, Reference, Reply, SystemMessage,
};

use super::children::{Entry, Shared, untie};
use crate::{
    DynamicSpec, Started, SupervisorError, TryAgain,
    child::stop,
    error::answer,
    intensity::RestartLog,
    registry::Registry,
    retry::{self, Queued},
};

/// A message to a dynamic supervisor's process: the request for the state
/// its handles share, made by
/// [`DynamicSupervisorRef`](crate::DynamicSupervisorRef), or its note to
/// itself to retry a failed restart. Not built by hand.
#[non_exhaustive]
pub enum DynamicSupervisorMsg<T: Send + 'static> {
    /// The state the process shares with its handles.
    Shared(Reply<Arc<Shared<T>>>),
    /// Try the failed restart of the child that had this pid again.
    TryAgain(TryAgain<Pid>),
}

impl<T: Send + 'static> fmt::Debug for DynamicSupervisorMsg<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shared(reply) => f.debug_tuple("Shared").field(reply).finish(),
            Self::TryAgain(retry) => f.debug_tuple("TryAgain").field(retry).finish(),
        }
    }
}

impl<T: Send + 'static> From<TryAgain<Pid>> for DynamicSupervisorMsg<T> {
    fn from(retry: TryAgain<Pid>) -> Self {
        Self::TryAgain(retry)
    }
}

/// The dynamic supervisor's process. Start one with
/// [`DynamicSupervisorRef::start`](crate::DynamicSupervisorRef::start).
pub struct DynamicSupervisor<T: Send + 'static> {
    pub(crate) shared: Arc<Shared<T>>,
    restarts: RestartLog,
    me: ProcessRef,
    /// The arguments of children whose restart is being retried, by the
    /// pid of the incarnation that exited. Held here rather than under the
    /// registry's lock, so copying one (user code) never runs under it.
    retrying: HashMap<Pid, T>,
}

impl<T: Send + 'static> fmt::Debug for DynamicSupervisor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("pid", &self.me.pid())
            .field("children", &self.shared.registry.len())
            .field("retrying", &self.retrying.len())
            .finish()
    }
}

/// How one restart attempt ended.
enum Attempt {
    /// Restarted, given up, or nothing left to restart.
    Done,
    /// The start failed: try again.
    Failed,
}

impl<T: Send + 'static> DynamicSupervisor<T> {
    async fn child_exited(&mut self, down: Down, ctx: &mut Context<Self>) {
        let restart = self.shared.spec.restart_type().restarts_after(&down.reason);
        tracing::debug!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = %down.pid, reason = %down.reason, restart, "dynamic child exited");
        if !restart {
            drop(self.shared.registry.remove(down.pid));
            return;
        }
        // Not registered: stopped on purpose, or already shut down.
        let taken = self.shared.registry.update(down.pid, |entry| {
            entry.restarting = true;
            entry.hook = None;
            entry.arg.take()
        });
        match taken {
            None => {}
            Some(Some(arg)) => {
                self.retrying.insert(down.pid, arg);
                self.restart(down.pid, ctx).await;
            }
            // Nothing to restart it with: forget it.
            Some(None) => drop(self.shared.registry.remove(down.pid)),
        }
    }

    /// Restarts the child that was `old`; a failed attempt is retried as a
    /// queued message (OTP's `try_again_restart`), so calls, a
    /// `terminate_child` of `old` and a stop are handled in between.
    async fn restart(&mut self, old: Pid, ctx: &mut Context<Self>) {
        while let Attempt::Failed = self.restart_once(old, ctx).await {
            match retry::queue(ctx, old) {
                Queued::Yes | Queued::Exiting => return,
                // No room to queue the retry behind: try again now.
                Queued::Full => {}
            }
        }
    }

    async fn restart_once(&mut self, old: Pid, ctx: &mut Context<Self>) -> Attempt {
        if let Err(give_up) = self.restarts.add(self.me.pid()) {
            ctx.stop(give_up);
            return Attempt::Done;
        }
        let Some(arg) = self
            .retrying
            .get(&old)
            .and_then(|arg| self.shared.spec.copy_arg(arg))
        else {
            return Attempt::Done;
        };
        let started = crate::start::contained(|| self.shared.spec.start_future(arg)).await;
        let process = match started.as_ref().map(Started::process) {
            Ok(Some(process)) => process.clone(),
            // "Not now": the child is removed, as OTP removes a dynamic
            // child whose restart returns `ignore`.
            Ok(None) => {
                tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = %old, "dynamic child's restart ignored: removed");
                self.retrying.remove(&old);
                drop(self.shared.registry.remove(old));
                return Attempt::Done;
            }
            Err(cause) => {
                tracing::error!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = %old, %cause, "dynamic child failed to restart; trying again");
                return Attempt::Failed;
            }
        };
        let entry = Entry::new(process.clone(), self.retrying.remove(&old));
        let (me, shared) = (&self.me, &self.shared);
        match shared
            .registry
            .replace(old, process.pid(), entry, |entry| shared.tie(entry, me))
        {
            Ok(()) => {
                crate::metrics::restarted("dynamic");
                tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), %old, new = %process.pid(), "dynamic child restarted");
            }
            // Terminated while restarting, or shut down meanwhile: the new
            // child is ours to stop.
            Err(entry) => {
                // `stop` reports a child that will not die.
                let _ = stop(&entry.process, self.shared.spec.shutdown).await;
            }
        }
        Attempt::Done
    }

    /// A queued retry: tries again unless the child was terminated
    /// meanwhile.
    async fn try_again(&mut self, old: Pid, ctx: &mut Context<Self>) {
        let restarting = self.shared.registry.update(old, |entry| entry.restarting);
        if restarting == Some(true) {
            self.restart(old, ctx).await;
        } else {
            self.retrying.remove(&old);
        }
    }
}

impl<T: Send + 'static> Actor for DynamicSupervisor<T> {
    type Args = DynamicSpec<T>;
    type Msg = DynamicSupervisorMsg<T>;
    type Error = SupervisorError;

    async fn init(spec: DynamicSpec<T>, ctx: &mut Context<Self>) -> Result<Self, SupervisorError> {
        spec.validate()?;
        ctx.trap_exits(true);
        let restarts = RestartLog::new(spec.intensity);
        let shared = Arc::new(Shared {
            registry: Registry::new(spec.max_children),
            spec,
            reference: Reference::new(),
        });
        let me = ctx.myself().process_ref();
        // However this process ends, even killed, no child outlives it: the
        // ones still registered get its exit signal.
        let link = Arc::clone(&shared);
        let pid = me.pid();
        let _ = me.on_exit(move |reason| {
            for entry in link.registry.close() {
                untie(&entry);
                entry.process.exit_signal(pid, reason.clone());
            }
        });
        Ok(Self {
            shared,
            restarts,
            me,
            retrying: HashMap::new(),
        })
    }

    async fn handle(
        &mut self,
        message: DynamicSupervisorMsg<T>,
        ctx: &mut Context<Self>,
    ) -> Result<(), SupervisorError> {
        match message {
            DynamicSupervisorMsg::Shared(reply) => answer(reply, Arc::clone(&self.shared)),
            DynamicSupervisorMsg::TryAgain(TryAgain(old)) => self.try_again(old, ctx).await,
        }
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), SupervisorError> {
        match message {
            SystemMessage::Down(down) => self.child_exited(down, ctx).await,
            SystemMessage::Exit { reason, .. } => {
                if !reason.is_normal() {
                    ctx.stop(reason);
                }
            }
        }
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), %reason, children = self.shared.registry.len(), "dynamic supervisor shutting down");
        self.shared.stop_all().await;
    }
}
