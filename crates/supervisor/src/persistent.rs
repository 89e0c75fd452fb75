//! Supervising a persistent actor: [`ChildSpec::persistent`], behind the
//! `persistence` feature.

use std::sync::Arc;

use foundation_persistence::{Persistence, Persistent, PersistentActor};
use futures::FutureExt;

use crate::ChildSpec;

impl ChildSpec {
    /// A worker that runs the persistent actor `P` (as
    /// [`Persistent<P>`](foundation_persistence::Persistent)), its state
    /// recovered from `persistence`'s store at every start and restart. Each
    /// start takes a clone of `args` and of `persistence`, so every
    /// incarnation uses the same store and key, and an in-flight save of a
    /// crashed incarnation lands before the next one reads.
    ///
    /// Reach the running child with a [`ChildRef`](crate::ChildRef) of
    /// `Persistent<P>`, and talk to it through
    /// [`PersistentRef::from`](foundation_persistence::PersistentRef).
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::mailbox::{Context, Reply};
    /// use foundation::persistence::{MemoryStore, Persistence, Persistent, PersistentActor, PersistentRef, Tracked};
    /// use foundation::supervisor::{ChildSpec, Strategy, Supervisor, SupervisorSpec};
    /// use serde::{Deserialize, Serialize};
    ///
    /// #[derive(Debug, Serialize, Deserialize)]
    /// struct Visits(u64);
    ///
    /// #[derive(Debug)]
    /// struct Visit(Reply<u64>);
    ///
    /// impl PersistentActor for Visits {
    ///     type Args = ();
    ///     type Msg = Visit;
    ///     type Error = std::convert::Infallible;
    ///
    ///     async fn init((): (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
    ///         Ok(Visits(0))
    ///     }
    ///
    ///     async fn handle(visits: &mut Tracked<'_, Self>, Visit(reply): Visit, _: &mut Context<Persistent<Self>>) -> Result<(), Self::Error> {
    ///         visits.0 += 1;
    ///         reply.send(visits.0).unwrap_or_default();
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let persistence = Persistence::new(MemoryStore::new(), "visits");
    /// let spec = SupervisorSpec::new(Strategy::OneForOne)
    ///     .child(ChildSpec::persistent::<Visits>("visits", (), persistence));
    /// let tree = Supervisor::start(spec).await.unwrap();
    /// let visits = tree.child_ref::<Persistent<Visits>>("visits").unwrap().current().unwrap();
    /// let visits = PersistentRef::from(visits);
    /// assert_eq!(visits.call(Visit, Duration::from_secs(1)).await.unwrap(), 1);
    /// # tree.shutdown(Duration::from_secs(1)).await.unwrap();
    /// # }
    /// ```
    pub fn persistent<P: PersistentActor>(
        id: impl Into<Arc<str>>,
        args: P::Args,
        persistence: Persistence,
    ) -> Self
    where
        P::Args: Clone + Sync,
    {
        Self::worker(id, move || {
            // A combinator, not an async block: see `ChildSpec::worker`.
            foundation_persistence::start::<P>(args.clone(), persistence.clone())
                .map(|started| started.map(|(actor, _handle)| actor.process_ref()))
        })
        .starting::<Persistent<P>>()
    }
}
