//! [`DynamicSupervisorRef`]: a running dynamic supervisor, to start and
//! stop its children.

use std::{sync::Arc, time::Duration};

use foundation_mailbox::{
    ActorOptions, ActorRef, ExitReason, Exited, Pid, ProcessRef, StopError, start_with,
};

use crate::{
    ChildCounts, DynamicSpec, Started, SupervisorError,
    child::stop,
    dynamic::{DynamicSupervisor, DynamicSupervisorMsg, Shared, untie},
    error::call,
    registry::Refused,
};

/// A running dynamic supervisor. Cheap to clone. Children start on the
/// caller's task and are registered with the supervisor, which restarts
/// them one-for-one within its intensity and stops them all, concurrently,
/// when it shuts down.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::{DynamicSpec, DynamicSupervisorRef};
/// # use foundation::mailbox::{Actor, Context, Reply};
/// # #[derive(Debug)] struct Session(u32);
/// # #[derive(Debug)] enum Ask { Id(Reply<u32>) }
/// # impl Actor for Session {
/// #     type Args = u32; type Msg = Ask;
/// #     type Error = std::convert::Infallible;
/// #     async fn init(id: u32, _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Session(id)) }
/// #     async fn handle(&mut self, Ask::Id(reply): Ask, _: &mut Context<Self>) -> Result<(), Self::Error> {
/// #         reply.send(self.0).unwrap_or_default();
/// #         Ok(())
/// #     }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sessions = DynamicSupervisorRef::start(DynamicSpec::actor::<Session>().max_children(2))
///     .await
///     .unwrap();
/// let first = sessions.start_child(1).await.unwrap().into_process().unwrap();
/// sessions.start_child(2).await.unwrap();
/// assert!(sessions.start_child(3).await.is_err(), "max_children reached");
/// let session = first.downcast::<Session>().unwrap();
/// assert_eq!(session.call(Ask::Id, Duration::from_secs(1)).await.unwrap(), 1);
/// sessions.shutdown(Duration::from_secs(5)).await.unwrap();
/// assert!(!first.is_alive());
/// # }
/// ```
#[derive(Debug)]
pub struct DynamicSupervisorRef<T: Send + 'static> {
    actor: ActorRef<DynamicSupervisor<T>>,
    pub(crate) shared: Arc<Shared<T>>,
}

impl<T: Send + 'static> Clone for DynamicSupervisorRef<T> {
    fn clone(&self) -> Self {
        Self {
            actor: self.actor.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: Send + 'static> DynamicSupervisorRef<T> {
    /// Starts a dynamic supervisor with no children.
    pub async fn start(spec: DynamicSpec<T>) -> Result<Self, SupervisorError> {
        let started = start_with::<DynamicSupervisor<T>>(spec, ActorOptions::new()).await;
        let (actor, _handle) = started.map_err(SupervisorError::from_start)?;
        Self::from_actor(actor).await
    }

    async fn from_actor(actor: ActorRef<DynamicSupervisor<T>>) -> Result<Self, SupervisorError> {
        let shared = call(&actor, DynamicSupervisorMsg::Shared).await?;
        Ok(Self { actor, shared })
    }

    /// The dynamic supervisor behind `process` (a child found with
    /// [`SupervisorRef::which_children`](crate::SupervisorRef::which_children)),
    /// if it is one whose children take arguments of type `T`.
    pub async fn from_process(process: &ProcessRef) -> Result<Option<Self>, SupervisorError> {
        match process.downcast::<DynamicSupervisor<T>>() {
            Some(actor) => Self::from_actor(actor).await.map(Some),
            None => Ok(None),
        }
    }

    /// Starts a child for `arg`, on this task, and puts it under the
    /// supervisor. Fails with [`SupervisorError::MaxChildren`] at the limit
    /// (before starting anything), with the start function's error, or
    /// with [`SupervisorError::Exited`] if the supervisor is gone or shut
    /// down meanwhile (the child is then stopped, never orphaned). A start
    /// that says "not now" answers [`Started::Ignored`] and adds nothing.
    pub async fn start_child(&self, arg: T) -> Result<Started, SupervisorError> {
        let slot = self
            .shared
            .registry
            .reserve()
            .map_err(|refused| match refused {
                Refused::Full(max) => SupervisorError::MaxChildren(max),
                Refused::Closed => SupervisorError::Exited(
                    self.actor
                        .exit_reason()
                        .unwrap_or_else(ExitReason::shutdown),
                ),
            })?;
        self.shared.start_child(slot, arg, &self.actor).await
    }

    /// Stops the child `pid` with the spec's shutdown; it is not restarted.
    /// For a child whose restart is being retried, `pid` is the
    /// incarnation that exited: this ends the retries and answers how it
    /// exited.
    pub async fn terminate_child(&self, pid: Pid) -> Result<ExitReason, SupervisorError> {
        let entry = self
            .shared
            .registry
            .remove(pid)
            .ok_or(SupervisorError::NoSuchPid(pid))?;
        untie(&entry);
        // A child that will not die is reported by `stop`; its pid is no
        // longer this supervisor's either way.
        Ok(stop(&entry.process, self.shared.spec.shutdown)
            .await
            .unwrap_or(ExitReason::Killed))
    }

    /// The running children, in no particular order (a deliberate
    /// difference from OTP, which lists them newest first: they are kept by
    /// pid for a constant-time exit). A child whose restart is being
    /// retried is not listed; [`count_children`](Self::count_children)
    /// counts it.
    pub fn which_children(&self) -> Vec<ProcessRef> {
        self.shared.running()
    }

    /// How many children there are (OTP's `count_children`): `specs` counts
    /// every child, `active` those running (not those whose restart is
    /// being retried), and `workers` or `supervisors` every child, by the
    /// spec's kind.
    pub fn count_children(&self) -> ChildCounts {
        self.shared.counts()
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
        self.actor.exited()
    }

    /// Stops the supervisor: every child is stopped concurrently within its
    /// own shutdown, then the supervisor exits. Past `timeout` the
    /// supervisor is killed, which still takes every child down.
    pub async fn shutdown(&self, timeout: Duration) -> Result<ExitReason, StopError> {
        self.actor.stop(ExitReason::shutdown(), timeout).await
    }
}
