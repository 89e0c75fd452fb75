//! [`start_tree`] and [`RunningTree`]: a supervision tree started from the production spec and torn down within a bound.

use std::time::Duration;

use foundation_mailbox::ExitReason;
use foundation_supervisor::{Ended, Root, SupervisorError, SupervisorRef, SupervisorSpec};

use crate::TreeShutdownError;

/// The shutdown budget of a [`RunningTree`] unless set with
/// [`RunningTree::shutdown_within`].
pub const DEFAULT_SHUTDOWN_BUDGET: Duration = Duration::from_secs(5);

/// Starts the supervision tree `spec` describes, exactly as production
/// starts it (through [`Root`]): the same strategies, intensities,
/// shutdown specs and children. There is no test supervisor; the test
/// only gains a teardown that is bounded and that reports a tree that did
/// not stop cleanly.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Actor, Context};
/// use foundation::supervisor::{ChildSpec, Strategy, SupervisorSpec};
/// use foundation::testkit::start_tree;
/// # #[derive(Debug)] struct Worker;
/// # impl Actor for Worker {
/// #     type Args = (); type Msg = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
/// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// // The spec a service builds for production, reused as is.
/// fn production_spec() -> SupervisorSpec {
///     SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::actor::<Worker>("worker", ()))
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let tree = start_tree(production_spec()).await.unwrap();
/// assert!(tree.supervisor().whereis("worker").is_some());
/// tree.shutdown().await.unwrap();
/// # }
/// ```
pub async fn start_tree(spec: SupervisorSpec) -> Result<RunningTree, SupervisorError> {
    let root = Root::start(spec).await?;
    Ok(RunningTree {
        supervisor: root.supervisor().clone(),
        root: Some(root),
        budget: DEFAULT_SHUTDOWN_BUDGET,
    })
}

/// A tree started by [`start_tree`]. [`shutdown`](Self::shutdown) stops it
/// in reverse start order within its budget; dropping it without a
/// shutdown kills its root, which takes every child down through its
/// links, so no test leaves processes behind.
#[derive(Debug)]
pub struct RunningTree {
    supervisor: SupervisorRef,
    /// Taken by `shutdown`; still here at Drop means nobody shut it down.
    root: Option<Root>,
    budget: Duration,
}

impl RunningTree {
    /// The root supervisor: look children up, start and stop them.
    pub fn supervisor(&self) -> &SupervisorRef {
        &self.supervisor
    }

    /// Sets the budget [`shutdown`](Self::shutdown) gives the tree.
    pub fn shutdown_within(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// Stops the tree, children in reverse start order, within the budget
    /// ([`DEFAULT_SHUTDOWN_BUDGET`] unless set), and says whether it
    /// stopped cleanly.
    ///
    /// Not cancel-safe in the sense of finishing the shutdown: dropping the
    /// future part way leaves the root stopping under its own budget.
    pub async fn shutdown(mut self) -> Result<ExitReason, TreeShutdownError> {
        let Some(root) = self.root.take() else {
            return Err(TreeShutdownError::AlreadyExited(ExitReason::NoProcess));
        };
        match root.shutdown(self.budget).await {
            Ended::Shutdown(reason) => Ok(reason),
            Ended::Killed(budget) => Err(TreeShutdownError::Overran(budget)),
            Ended::Exited(reason) => Err(TreeShutdownError::AlreadyExited(reason)),
        }
    }
}

impl Drop for RunningTree {
    fn drop(&mut self) {
        if let Some(root) = self.root.take() {
            let process = root.supervisor().process_ref();
            if process.kill() {
                tracing::warn!(target: "foundation::testkit", root = %process.pid(), "test tree dropped without shutdown: root killed");
            }
        }
    }
}
