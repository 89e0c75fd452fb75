//! [`SupervisorRef`]: a running supervisor, and the runtime operations
//! OTP's `supervisor` module offers on one.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{Actor, ActorRef, ExitReason, Exited, Pid, ProcessRef, Reply, StopError};

use crate::{
    ChildKind, ChildRef, ChildRefError, ChildSpec, Restart, Started, Supervisor, SupervisorError,
    TryAgain,
    directory::{ActorType, Directory, Incarnation},
    error::call,
};

/// A message to a supervisor's process: a request, carrying the port its
/// answer goes to, or the supervisor's note to itself to retry a failed
/// restart. Use the methods of [`SupervisorRef`] rather than building these.
#[derive(Debug)]
#[non_exhaustive]
pub enum SupervisorMsg {
    /// [`SupervisorRef::which_children`].
    WhichChildren(Reply<Vec<ChildInfo>>),
    /// [`SupervisorRef::count_children`].
    CountChildren(Reply<ChildCounts>),
    /// [`SupervisorRef::start_child`].
    StartChild(ChildSpec, Reply<Result<Started, SupervisorError>>),
    /// [`SupervisorRef::restart_child`].
    RestartChild(Arc<str>, Reply<Result<Started, SupervisorError>>),
    /// [`SupervisorRef::terminate_child`].
    TerminateChild(Arc<str>, Reply<Result<(), SupervisorError>>),
    /// [`SupervisorRef::delete_child`].
    DeleteChild(Arc<str>, Reply<Result<(), SupervisorError>>),
    /// [`SupervisorRef::get_childspec`].
    GetChildSpec(Arc<str>, Reply<Result<ChildSpec, SupervisorError>>),
    /// The directory behind [`SupervisorRef::whereis`].
    Directory(Reply<Arc<Directory>>),
    /// Try the failed restart of the child with this id again.
    TryAgain(TryAgain<Arc<str>>),
}

impl From<TryAgain<Arc<str>>> for SupervisorMsg {
    fn from(retry: TryAgain<Arc<str>>) -> Self {
        Self::TryAgain(retry)
    }
}

/// One child as [`SupervisorRef::which_children`] reports it.
#[derive(Clone, Debug)]
pub struct ChildInfo {
    /// The child's id.
    pub id: Arc<str>,
    /// The running process, or `None` if the child is not running
    /// (terminated, a transient child that exited normally, or restarting).
    pub process: Option<ProcessRef>,
    /// Its restart failed and is being tried again (OTP's `restarting` in
    /// place of a pid); `process` is `None` meanwhile.
    pub restarting: bool,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Its restart type.
    pub restart: Restart,
}

/// What [`SupervisorRef::count_children`] reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChildCounts {
    /// Child specs held, running or not.
    pub specs: usize,
    /// Children running now.
    pub active: usize,
    /// Specs of kind supervisor.
    pub supervisors: usize,
    /// Specs of kind worker.
    pub workers: usize,
}

/// A running supervisor. Cheap to clone; holding it does not keep the
/// supervisor alive. Every operation is a call with the configured call
/// timeout ([`TimeoutConfig`](foundation_mailbox::TimeoutConfig)); [`shutdown`](Self::shutdown) takes its own.
#[derive(Clone, Debug)]
pub struct SupervisorRef {
    actor: ActorRef<Supervisor>,
    directory: Arc<Directory>,
}

impl SupervisorRef {
    pub(crate) fn new(actor: ActorRef<Supervisor>, directory: Arc<Directory>) -> Self {
        Self { actor, directory }
    }

    /// The supervisor behind `process`, if it is one: how to reach a nested
    /// supervisor found with [`which_children`](Self::which_children).
    pub async fn from_process(process: &ProcessRef) -> Result<Option<Self>, SupervisorError> {
        let Some(actor) = process.downcast::<Supervisor>() else {
            return Ok(None);
        };
        let directory = call(&actor, SupervisorMsg::Directory).await?;
        Ok(Some(Self::new(actor, directory)))
    }

    /// The running process of child `id`, read from the supervisor's
    /// directory without a round trip: OTP's `whereis` for a registered
    /// name. Right after a crash it may still name the old process until
    /// the supervisor has seen the exit; to keep talking to a child across
    /// its restarts, use [`child_ref`](Self::child_ref).
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
    /// # use foundation::mailbox::{Actor, Context, Reply};
    /// # #[derive(Debug)] struct Worker;
    /// # #[derive(Debug)] enum Ask { Ping(Reply<()>) }
    /// # impl Actor for Worker {
    /// #     type Args = (); type Msg = Ask;
    /// #     type Error = std::convert::Infallible;
    /// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
    /// #     async fn handle(&mut self, Ask::Ping(reply): Ask, _: &mut Context<Self>) -> Result<(), Self::Error> {
    /// #         reply.send(()).unwrap_or_default();
    /// #         Ok(())
    /// #     }
    /// # }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let tree = Supervisor::start(
    ///     SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ())),
    /// )
    /// .await
    /// .unwrap();
    /// let worker = tree.whereis("worker").and_then(|p| p.downcast::<Worker>()).unwrap();
    /// worker.call(Ask::Ping, Duration::from_secs(1)).await.unwrap();
    /// assert!(tree.whereis("nobody").is_none());
    /// # }
    /// ```
    pub fn whereis(&self, id: &str) -> Option<ProcessRef> {
        self.directory.whereis(id)
    }

    /// A typed reference to child `id`, running actor `A`, that follows its
    /// restarts: see [`ChildRef`]. Read from the supervisor's directory
    /// without a round trip. Fails if there is no such child, or if it
    /// runs another actor type (checked from its spec when that says, as
    /// [`ChildSpec::actor`] does, else from the running child).
    ///
    /// ```
    /// use foundation::supervisor::{ChildRefError, ChildSpec, Strategy, Supervisor, SupervisorSpec};
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
    /// let tree = Supervisor::start(
    ///     SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ())),
    /// )
    /// .await
    /// .unwrap();
    /// let worker = tree.child_ref::<Worker>("worker").unwrap();
    /// worker.try_cast(()).unwrap();
    /// assert!(matches!(tree.child_ref::<Supervisor>("worker"), Err(ChildRefError::WrongType { .. })));
    /// assert!(matches!(tree.child_ref::<Worker>("nobody"), Err(ChildRefError::NotFound(_))));
    /// # }
    /// ```
    pub fn child_ref<A: Actor>(&self, id: &str) -> Result<ChildRef<A>, ChildRefError> {
        let (actor_type, incarnation) = self
            .directory
            .slot(id)
            .ok_or_else(|| ChildRefError::NotFound(id.into()))?;
        let matches = match actor_type {
            Some(declared) => declared == ActorType::of::<A>(),
            None => incarnation.read(|incarnation| match incarnation {
                Some(Incarnation::Running(process)) => process.downcast::<A>().is_some(),
                // Checked on each call once it runs.
                Some(Incarnation::Restarting | Incarnation::Stopped) | None => true,
            }),
        };
        if !matches {
            return Err(ChildRefError::WrongType {
                id: id.into(),
                expected: std::any::type_name::<A>(),
            });
        }
        Ok(ChildRef::new(id.into(), incarnation))
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        self.actor.pid()
    }

    /// The supervisor as a process, for monitors, links and parents.
    pub fn process_ref(&self) -> ProcessRef {
        self.actor.process_ref()
    }

    /// Whether the supervisor is still running.
    pub fn is_alive(&self) -> bool {
        self.actor.is_alive()
    }

    /// Resolves with the supervisor's exit reason.
    pub fn exited(&self) -> Exited {
        self.actor.process_ref().exited()
    }

    /// Every child, in start order (OTP's `which_children`). OTP lists the
    /// newest first; this lists them in the order the strategies use (start
    /// order, which is also the reverse of the stop order), a deliberate
    /// difference. A child whose restart is being retried shows
    /// [`restarting`](ChildInfo::restarting).
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, SupervisorError> {
        call(&self.actor, SupervisorMsg::WhichChildren).await
    }

    /// The running process of child `id`, if it is running.
    pub async fn child(&self, id: &str) -> Result<Option<ProcessRef>, SupervisorError> {
        let children = self.which_children().await?;
        children
            .into_iter()
            .find(|child| &*child.id == id)
            .map(|child| child.process)
            .ok_or_else(|| SupervisorError::NotFound(id.into()))
    }

    /// How many children there are, running, workers and supervisors (OTP's
    /// `count_children`).
    pub async fn count_children(&self) -> Result<ChildCounts, SupervisorError> {
        call(&self.actor, SupervisorMsg::CountChildren).await
    }

    /// Adds a child after the others and starts it. Like OTP, a child added
    /// at run time is not part of the supervisor's spec: it is gone when the
    /// supervisor itself is restarted. Answers what the start function
    /// said: running (with its info, if any), or [`Started::Ignored`], in
    /// which case the child is listed as not running (a temporary one is
    /// not kept).
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Started, SupervisorError> {
        call(&self.actor, |reply| SupervisorMsg::StartChild(spec, reply)).await?
    }

    /// Starts again a child that is not running (terminated, or transient
    /// and exited normally, or ignored its start); answers what its start
    /// function said.
    pub async fn restart_child(&self, id: &str) -> Result<Started, SupervisorError> {
        call(&self.actor, |reply| {
            SupervisorMsg::RestartChild(id.into(), reply)
        })
        .await?
    }

    /// Stops a child with its shutdown spec. Its spec stays (except a
    /// temporary child's), so [`restart_child`](Self::restart_child) can
    /// start it again.
    pub async fn terminate_child(&self, id: &str) -> Result<(), SupervisorError> {
        call(&self.actor, |reply| {
            SupervisorMsg::TerminateChild(id.into(), reply)
        })
        .await?
    }

    /// The spec of child `id`, running or not (OTP's `get_childspec`), to
    /// read its settings or add it to another supervisor.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{ChildSpec, Restart, Strategy, Supervisor, SupervisorSpec};
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
    /// let tree = Supervisor::start(SupervisorSpec::new(Strategy::OneForOne).child(
    ///     ChildSpec::actor::<Worker>("worker", ()).restart(Restart::Transient),
    /// ))
    /// .await
    /// .unwrap();
    /// let spec = tree.get_childspec("worker").await.unwrap();
    /// assert_eq!(spec.restart_type(), Restart::Transient);
    /// assert!(tree.get_childspec("nobody").await.is_err());
    /// # }
    /// ```
    pub async fn get_childspec(&self, id: &str) -> Result<ChildSpec, SupervisorError> {
        call(&self.actor, |reply| {
            SupervisorMsg::GetChildSpec(id.into(), reply)
        })
        .await?
    }

    /// Forgets the spec of a child that is not running.
    pub async fn delete_child(&self, id: &str) -> Result<(), SupervisorError> {
        call(&self.actor, |reply| {
            SupervisorMsg::DeleteChild(id.into(), reply)
        })
        .await?
    }

    /// Stops the supervisor: its children stop in reverse start order, each
    /// within its own shutdown, then it exits with
    /// [`ExitReason::Shutdown`]. If all that takes longer than `timeout`,
    /// the supervisor is killed, which still takes each child down by its
    /// link, and [`StopError::Timeout`] is returned.
    pub async fn shutdown(&self, timeout: Duration) -> Result<ExitReason, StopError> {
        self.actor.stop(ExitReason::shutdown(), timeout).await
    }
}
