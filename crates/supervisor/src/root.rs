//! [`Root`]: a running system. The top of a supervision tree, with a
//! graceful, bounded shutdown on demand or on a signal such as ctrl-c.

use std::{future::Future, time::Duration};

use foundation_mailbox::{ExitReason, StopError};

use crate::{Supervisor, SupervisorError, SupervisorRef, SupervisorSpec};

/// How a running system ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Ended {
    /// The shutdown signal came and everything stopped in reverse order
    /// within the budget, with this reason.
    Shutdown(ExitReason),
    /// The shutdown signal came, and the tree was still stopping when the
    /// budget ran out: the root was killed, and every child with it.
    Killed(Duration),
    /// The root supervisor exited by itself, for instance because it reached
    /// its restart intensity: the whole system has stopped.
    Exited(ExitReason),
}

/// The root of a running system: starts a tree, hands out its
/// [`SupervisorRef`], and shuts everything down, children in reverse start
/// order, within one overall time budget.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::{ChildSpec, Ended, Root, Strategy, SupervisorSpec};
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
/// let root = Root::start(
///     SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ())),
/// )
/// .await
/// .unwrap();
/// // In a service: `root.run_until(tokio::signal::ctrl_c(), budget)`.
/// let ended = root.run_until(async {}, Duration::from_secs(10)).await;
/// assert!(matches!(ended, Ended::Shutdown(_)));
/// # }
/// ```
#[derive(Debug)]
pub struct Root {
    supervisor: SupervisorRef,
}

impl Root {
    /// Starts the tree described by `spec`.
    pub async fn start(spec: SupervisorSpec) -> Result<Self, SupervisorError> {
        let supervisor = Supervisor::start(spec).await?;
        tracing::info!(target: "foundation::supervisor", root = %supervisor.pid(), "system started");
        Ok(Self { supervisor })
    }

    /// The root supervisor.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    /// Shuts the system down now: children stop in reverse start order,
    /// each subtree likewise, all within `budget`; past it the root is
    /// killed and takes every child with it.
    pub async fn shutdown(self, budget: Duration) -> Ended {
        tracing::info!(target: "foundation::supervisor", root = %self.supervisor.pid(), ?budget, "system shutting down");
        match self.supervisor.shutdown(budget).await {
            Ok(reason) => Ended::Shutdown(reason),
            Err(StopError::Timeout(budget)) => {
                tracing::error!(target: "foundation::supervisor", ?budget, "system shutdown overran its budget: killed");
                Ended::Killed(budget)
            }
            Err(StopError::NoProcess) => Ended::Exited(
                self.supervisor
                    .process_ref()
                    .exit_reason()
                    .unwrap_or(ExitReason::NoProcess),
            ),
        }
    }

    /// Runs until `signal` resolves (for instance `tokio::signal::ctrl_c()`),
    /// then shuts down within `budget`; or until the root exits by itself.
    pub async fn run_until<F: Future>(self, signal: F, budget: Duration) -> Ended {
        tokio::select! {
            biased;
            reason = self.supervisor.exited() => {
                tracing::error!(target: "foundation::supervisor", %reason, "root supervisor exited: system stopped");
                Ended::Exited(reason)
            }
            _ = signal => self.shutdown(budget).await,
        }
    }
}
