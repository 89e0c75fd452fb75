//! [`Tracked`]: the state handed to a persistent actor's handler, which notes whether the handler changed it.

use std::{
    fmt,
    ops::{Deref, DerefMut},
};

/// A persistent actor's state as its handler sees it: reading goes through
/// [`Deref`], and any mutable access ([`DerefMut`], calling a `&mut self`
/// method) marks the state changed. After the handler, a changed state is
/// saved by the [`SavePolicy`](crate::SavePolicy); an unchanged one is not
/// saved at all, so a read-only request costs no encoding and no I/O, and
/// its answer is released at once.
///
/// The mark errs on the side of saving: taking `&mut` and not changing
/// anything still counts as a change. The one way to change the state
/// without the mark is interior mutability (a `Cell`, a `Mutex` field)
/// reached through `&`; call [`mark_changed`](Self::mark_changed) after such
/// a change.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Context, Reply};
/// use foundation_persistence::{MemoryStore, Persistence, Persistent, PersistentActor, Tracked, start};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Default, Serialize, Deserialize)]
/// struct Jobs(Vec<String>);
///
/// #[derive(Debug)]
/// enum Msg {
///     Submit(String, Reply<usize>),
///     Count(Reply<usize>),
/// }
///
/// impl PersistentActor for Jobs {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
///         Ok(Jobs::default())
///     }
///
///     async fn handle(jobs: &mut Tracked<'_, Self>, msg: Msg, _: &mut Context<Persistent<Self>>) -> Result<(), Self::Error> {
///         match msg {
///             // `jobs.0.push` takes `&mut`: the state is marked changed and saved.
///             Msg::Submit(job, reply) => {
///                 jobs.0.push(job);
///                 reply.send(jobs.0.len()).unwrap_or_default();
///             }
///             // Only reads: nothing is encoded or written.
///             Msg::Count(reply) => reply.send(jobs.0.len()).unwrap_or_default(),
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryStore::new();
/// let timeout = Duration::from_secs(1);
/// let (jobs, _handle) = start::<Jobs>((), Persistence::new(store.clone(), "jobs")).await.unwrap();
/// jobs.call(|r| Msg::Submit("build".into(), r), timeout).await.unwrap();
/// let version = foundation_persistence::StateStore::get(&store, "jobs").await.unwrap().unwrap().version;
/// assert_eq!(jobs.call(Msg::Count, timeout).await.unwrap(), 1);
/// // The read wrote nothing.
/// assert_eq!(foundation_persistence::StateStore::get(&store, "jobs").await.unwrap().unwrap().version, version);
/// # }
/// ```
pub struct Tracked<'a, P> {
    state: &'a mut P,
    changed: bool,
}

impl<'a, P> Tracked<'a, P> {
    pub(crate) fn new(state: &'a mut P) -> Self {
        Self {
            state,
            changed: false,
        }
    }

    /// Marks the state changed, for a change made through interior
    /// mutability that [`DerefMut`] did not see.
    pub fn mark_changed(&mut self) {
        self.changed = true;
    }

    /// Whether the handler has (or may have) changed the state so far.
    pub fn is_changed(&self) -> bool {
        self.changed
    }
}

impl<P> Deref for Tracked<'_, P> {
    type Target = P;

    fn deref(&self) -> &P {
        self.state
    }
}

impl<P> DerefMut for Tracked<'_, P> {
    fn deref_mut(&mut self) -> &mut P {
        self.changed = true;
        self.state
    }
}

impl<P: fmt::Debug> fmt::Debug for Tracked<'_, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracked")
            .field("state", &self.state)
            .field("changed", &self.changed)
            .finish()
    }
}
