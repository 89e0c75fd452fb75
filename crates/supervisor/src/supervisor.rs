//! The supervisor process: starts its children in order, restarts them by
//! its strategy within its intensity, and stops them in reverse order.

use std::sync::Arc;

use foundation_mailbox::{
    Actor, ActorOptions, Context, ExitReason, ProcessRef, SystemMessage, start_with,
};

use crate::{
    AutoShutdown, ChildSpec, Restart, Strategy, SupervisorError, SupervisorRef, SupervisorSpec,
    child::{self, Running},
    directory::{Directory, Incarnation, Publisher},
    intensity::RestartLog,
    retry::{self, Queued},
    supervisor_ref::SupervisorMsg,
};

mod operations;

/// The cause a supervisor gives when it exits because its children failed
/// more often than its intensity allows. It exits with
/// [`ExitReason::Shutdown`] carrying this text, as OTP's supervisor exits
/// with `shutdown`: its parent restarts it if its spec says so.
pub const INTENSITY_REACHED: &str = "reached maximum restart intensity";

/// Whether `reason` is the exit of a supervisor that reached its restart
/// intensity.
///
/// ```
/// use foundation::mailbox::ExitReason;
/// use foundation::supervisor::{INTENSITY_REACHED, reached_intensity};
///
/// assert!(reached_intensity(&ExitReason::shutdown_because(INTENSITY_REACHED)));
/// assert!(!reached_intensity(&ExitReason::shutdown()));
/// ```
pub fn reached_intensity(reason: &ExitReason) -> bool {
    matches!(reason, ExitReason::Shutdown(Some(cause)) if &**cause == INTENSITY_REACHED)
}

/// A supervisor (OTP's `supervisor` behaviour) as an actor. Start one with
/// [`Supervisor::start`] and talk to it through the [`SupervisorRef`].
#[derive(Debug)]
pub struct Supervisor {
    strategy: Strategy,
    auto_shutdown: AutoShutdown,
    /// In start order.
    children: Vec<Child>,
    restarts: RestartLog,
    me: ProcessRef,
    directory: Arc<Directory>,
}

#[derive(Debug)]
struct Child {
    spec: ChildSpec,
    running: Option<Running>,
    /// Its restart failed and a retry is queued (OTP's `restarting` pid).
    restarting: bool,
    /// Where its current incarnation is published to its readers.
    publisher: Publisher,
}

impl Child {
    fn new(spec: ChildSpec, running: Option<Running>) -> Self {
        Self {
            spec,
            running,
            restarting: false,
            publisher: Publisher::new(),
        }
    }

    /// What the child's readers should see, from its state.
    fn incarnation(&self) -> Incarnation {
        match &self.running {
            Some(running) => Incarnation::Running(running.process.clone()),
            None if self.restarting => Incarnation::Restarting,
            None => Incarnation::Stopped,
        }
    }
}

impl Supervisor {
    /// Starts a supervisor running `spec`: validates it, then starts the
    /// children in order. If one fails to start, the ones already started
    /// are stopped in reverse order and the error names the child and why.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
    /// # use foundation::mailbox::{Actor, Context};
    /// # #[derive(Debug)] struct Worker;
    /// # impl Actor for Worker {
    /// #     type Args = (); type Msg = ();
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
    /// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let spec = SupervisorSpec::new(Strategy::OneForOne)
    ///     .child(ChildSpec::actor::<Worker>("worker", ()));
    /// let supervisor = Supervisor::start(spec).await.unwrap();
    /// assert_eq!(supervisor.count_children().await.unwrap().active, 1);
    /// supervisor.shutdown(Duration::from_secs(5)).await.unwrap();
    /// # }
    /// ```
    pub async fn start(spec: SupervisorSpec) -> Result<SupervisorRef, SupervisorError> {
        // Children's own start timeouts bound the supervisor's start.
        let options = ActorOptions::new().start_timeout(std::time::Duration::MAX);
        let directory = Arc::new(Directory::default());
        let mut spec = spec;
        spec.directory = Some(Arc::clone(&directory));
        match start_with::<Supervisor>(spec, options).await {
            Ok((actor, _handle)) => Ok(SupervisorRef::new(actor, directory)),
            Err(error) => Err(SupervisorError::from_start(error)),
        }
    }

    /// Publishes every child's current incarnation to its readers, and the
    /// list of children to the directory.
    fn publish(&self) {
        for child in &self.children {
            child.publisher.set(child.incarnation());
        }
        self.directory.list(self.children.iter().map(|child| {
            (
                child.spec.shared_id(),
                child.spec.actor_type(),
                &child.publisher,
            )
        }));
    }

    /// Stops the running children in `range`, last first.
    async fn stop_children(&mut self, range: std::ops::Range<usize>, reason: &str) {
        for index in range.rev() {
            let child = &mut self.children[index];
            if let Some(running) = child.running.take() {
                let pid = running.process.pid();
                match running.shutdown(child.spec.shutdown_mode(), &self.me).await {
                    Ok(exit) => tracing::info!(
                        target: "foundation::supervisor",
                        supervisor = %self.me.pid(),
                        child = child.spec.id(),
                        %pid,
                        %exit,
                        "child shut down ({reason})"
                    ),
                    Err(process) => {
                        tracing::error!(
                            target: "foundation::supervisor",
                            supervisor = %self.me.pid(),
                            child = child.spec.id(),
                            %pid,
                            "killed child has not exited (it runs code that never awaits): \
                             it stays the running incarnation, and no second one is started beside it"
                        );
                        // Tied again: its exit, at its next await, comes as
                        // a DOWN like any other and is handled by strategy.
                        child.running = Some(child::tie(process, &self.me));
                    }
                }
            }
        }
    }

    /// Starts every child in `range` that is not running, in order. Returns
    /// the index of the first that failed, with its error. A child whose
    /// start says "not now" (OTP's `ignore`) stays listed as not running; a
    /// temporary one is forgotten, as OTP does.
    async fn start_children(
        &mut self,
        range: std::ops::Range<usize>,
    ) -> Result<(), (usize, foundation_mailbox::ErrorCause)> {
        let (mut index, mut end) = (range.start, range.end);
        while index < end {
            let child = &mut self.children[index];
            if child.running.is_some() {
                index += 1;
                continue;
            }
            let (running, _) = child::start(&child.spec, &self.me)
                .await
                .map_err(|cause| (index, cause))?;
            child.restarting = false;
            if let Some(running) = running {
                tracing::info!(
                    target: "foundation::supervisor",
                    supervisor = %self.me.pid(),
                    child = child.spec.id(),
                    pid = %running.process.pid(),
                    "child started"
                );
                child.running = Some(running);
            } else {
                tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = child.spec.id(), "child's start ignored: not running");
                if child.spec.restart_type() == Restart::Temporary {
                    self.children.remove(index);
                    end -= 1;
                    continue;
                }
            }
            index += 1;
        }
        Ok(())
    }

    /// A child exited by itself: restart by strategy, forget, or shut down.
    async fn child_exited(&mut self, index: usize, reason: ExitReason, ctx: &mut Context<Self>) {
        let child = &mut self.children[index];
        if let Some(running) = child.running.take() {
            running.untie(&self.me);
        }
        let restart = child.spec.restart_type().restarts_after(&reason);
        if reason.is_normal() {
            tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = child.spec.id(), %reason, "child exited");
        } else {
            tracing::error!(target: "foundation::supervisor", supervisor = %self.me.pid(), child = child.spec.id(), %reason, "child exited");
        }
        if restart {
            self.restart(index, ctx).await;
            return;
        }
        let significant = child.spec.is_significant();
        if child.spec.restart_type() == Restart::Temporary {
            self.children.remove(index);
        }
        if significant && self.auto_shutdown_due() {
            tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), "significant child exited: auto-shutdown");
            ctx.stop(ExitReason::shutdown());
        }
    }

    fn auto_shutdown_due(&self) -> bool {
        match self.auto_shutdown {
            AutoShutdown::Never => false,
            AutoShutdown::AnySignificant => true,
            AutoShutdown::AllSignificant => !self
                .children
                .iter()
                .any(|child| child.spec.is_significant() && child.running.is_some()),
        }
    }

    /// Restarts after the child at `index` exited, by strategy. A restart
    /// that fails to start a child counts against the intensity too, and is
    /// tried again from that child (OTP's `try_again_restart`): the child is
    /// marked restarting and the retry is queued as a message, so requests
    /// and a stop that arrived meanwhile are handled before the next attempt.
    async fn restart(&mut self, mut index: usize, ctx: &mut Context<Self>) {
        while let Some(failed) = self.restart_once(index, ctx).await {
            self.children[failed].restarting = true;
            let id = self.children[failed].spec.shared_id();
            match retry::queue(ctx, id) {
                Queued::Yes | Queued::Exiting => return,
                // No room to queue the retry behind: try again now.
                Queued::Full => index = failed,
            }
        }
    }

    /// One restart attempt; returns the index of the child that failed to
    /// start, if one did.
    async fn restart_once(&mut self, index: usize, ctx: &mut Context<Self>) -> Option<usize> {
        if let Err(give_up) = self.restarts.add(self.me.pid()) {
            ctx.stop(give_up);
            return None;
        }
        // From here until they run again, the children's readers wait for
        // their next incarnation instead of reaching the one going away.
        for child in &self.children[self.restart_range(index)] {
            child.publisher.set(Incarnation::Restarting);
        }
        let failed_id = self.children[index].spec.shared_id();
        self.stop_children(
            self.restart_range(index),
            "restarting after a sibling exited",
        )
        .await;
        // Temporary children taken down with the failed one stay down.
        // Only those are not running now: the others exited by themselves
        // or were terminated, and a temporary one is forgotten then.
        let mut rest = self.children.split_off(self.restart_range(index).start);
        rest.retain(|child| {
            child.running.is_some() || child.spec.restart_type() != Restart::Temporary
        });
        self.children.append(&mut rest);
        // Nothing before the range's start was removed, so the range
        // still starts there (and one-for-one's failed child, not
        // temporary, is still at `index`).
        let range = self.restart_range(index);
        for child in &mut self.children[range] {
            child.restarting = false;
        }
        match self.start_children(self.restart_range(index)).await {
            Ok(()) => {
                crate::metrics::restarted(&failed_id);
                tracing::info!(
                    target: "foundation::supervisor",
                    supervisor = %self.me.pid(),
                    child = &*failed_id,
                    strategy = ?self.strategy,
                    "child restarted"
                );
                None
            }
            Err((failed, cause)) => {
                tracing::error!(
                    target: "foundation::supervisor",
                    supervisor = %self.me.pid(),
                    child = self.children[failed].spec.id(),
                    %cause,
                    "child failed to restart; trying again"
                );
                Some(failed)
            }
        }
    }

    /// A queued retry: tries the restart again unless the child was
    /// terminated, deleted or started some other way meanwhile.
    async fn try_again(&mut self, id: &str, ctx: &mut Context<Self>) {
        let Ok(index) = self.position(id) else {
            return;
        };
        if self.children[index].restarting && self.children[index].running.is_none() {
            self.restart(index, ctx).await;
        }
    }

    /// The children a restart after the child at `index` exited takes down
    /// and starts again, by strategy.
    fn restart_range(&self, index: usize) -> std::ops::Range<usize> {
        match self.strategy {
            Strategy::OneForOne => index..index + 1,
            Strategy::OneForAll => 0..self.children.len(),
            Strategy::RestForOne => index..self.children.len(),
        }
    }
}

impl Actor for Supervisor {
    type Args = SupervisorSpec;
    type Msg = SupervisorMsg;
    type Error = SupervisorError;

    async fn init(spec: SupervisorSpec, ctx: &mut Context<Self>) -> Result<Self, SupervisorError> {
        spec.validate()?;
        // Exit signals (from a parent that died) become messages, so the
        // children are shut down in order before this supervisor exits.
        ctx.trap_exits(true);
        let mut supervisor = Supervisor {
            strategy: spec.strategy,
            auto_shutdown: spec.auto_shutdown,
            children: spec
                .children
                .into_iter()
                .map(|spec| Child::new(spec, None))
                .collect(),
            restarts: RestartLog::new(spec.intensity),
            me: ctx.myself().process_ref(),
            directory: spec.directory.unwrap_or_default(),
        };
        let all = 0..supervisor.children.len();
        if let Err((failed, cause)) = supervisor.start_children(all).await {
            let id = supervisor.children[failed].spec.shared_id();
            tracing::error!(target: "foundation::supervisor", child = &*id, %cause, "child failed to start; unwinding");
            supervisor
                .stop_children(0..failed, "a sibling failed to start")
                .await;
            return Err(SupervisorError::ChildStart { id, cause });
        }
        supervisor.publish();
        Ok(supervisor)
    }

    async fn handle(
        &mut self,
        message: SupervisorMsg,
        ctx: &mut Context<Self>,
    ) -> Result<(), SupervisorError> {
        self.handle_message(message, ctx).await;
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        ctx: &mut Context<Self>,
    ) -> Result<(), SupervisorError> {
        match message {
            SystemMessage::Down(down) => {
                let found = self.children.iter().position(|child| {
                    child
                        .running
                        .as_ref()
                        .is_some_and(|running| running.reference == down.reference)
                });
                // Otherwise a child this supervisor already stopped on purpose.
                if let Some(index) = found {
                    // Before anything else: from now on no reader reaches
                    // the incarnation that exited.
                    let child = &self.children[index];
                    child.publisher.set(
                        if child.spec.restart_type().restarts_after(&down.reason) {
                            Incarnation::Restarting
                        } else {
                            Incarnation::Stopped
                        },
                    );
                    self.child_exited(index, down.reason, ctx).await;
                    self.publish();
                }
            }
            SystemMessage::Exit { from, reason } => {
                // Only a dying parent links to a supervisor: go down with it,
                // children first.
                if !reason.is_normal() {
                    tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), %from, %reason, "parent exited");
                    ctx.stop(reason);
                }
            }
        }
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        tracing::info!(target: "foundation::supervisor", supervisor = %self.me.pid(), %reason, "shutting down");
        let all = 0..self.children.len();
        self.stop_children(all, "supervisor shutting down").await;
        self.publish();
    }
}
