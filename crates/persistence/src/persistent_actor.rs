//! The [`PersistentActor`] trait: an actor whose whole state is saved and restored.

use std::future::Future;

use foundation_mailbox::{Context, ExitReason, SystemMessage};
use serde::{Serialize, de::DeserializeOwned};

use crate::{MigrationError, Persistent, Tracked, codec::Legacy};

/// An actor whose state survives crashes: the actor value itself is the
/// state, serialized whole with serde.
///
/// Run it as [`Persistent<Self>`](Persistent) (see [`start`](crate::start)).
/// At every start and restart, before any message is handled, the entry
/// under its persistence key is read: if there is one, the decoded value
/// *replaces* the actor whole ([`init`](Self::init) is not called, nothing
/// is merged into fresh defaults), then [`after_load`](Self::after_load)
/// runs; if there is none, `init` builds it. The [`SavePolicy`](crate::SavePolicy)
/// decides when it is saved; [`before_save`](Self::before_save) runs first.
/// Only a message whose handler changed the state is saved: the handler
/// gets the state behind a [`Tracked`] guard that notices mutable access,
/// so a read-only request costs no encoding and no I/O.
///
/// Fields that must not be saved (a connection, a reference to another
/// actor) are `#[serde(skip)]` and rebuilt in `after_load`.
///
/// When the serialized shape changes, bump [`SCHEMA_VERSION`](Self::SCHEMA_VERSION)
/// and teach [`migrate`](Self::migrate) to read the older versions. An
/// entry from a newer version is refused with a typed error, never
/// half-read.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Context, Reply};
/// use foundation_persistence::{MemoryStore, Persistence, Persistent, PersistentActor, Tracked, start};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Serialize, Deserialize)]
/// struct Counter {
///     count: u64,
/// }
///
/// #[derive(Debug)]
/// enum Msg {
///     /// Adds, and answers with the new count once it is durable.
///     Add(u64, Reply<u64>),
/// }
///
/// impl PersistentActor for Counter {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
///         Ok(Counter { count: 0 })
///     }
///
///     async fn handle(counter: &mut Tracked<'_, Self>, msg: Msg, _: &mut Context<Persistent<Self>>) -> Result<(), Self::Error> {
///         let Msg::Add(n, reply) = msg;
///         counter.count += n; // a mutable access: the state is saved
///         reply.send(counter.count).unwrap_or_default();
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryStore::new();
/// let timeout = Duration::from_secs(1);
/// let (counter, _handle) = start::<Counter>((), Persistence::new(store.clone(), "counter")).await.unwrap();
/// assert_eq!(counter.call(|r| Msg::Add(5, r), timeout).await.unwrap(), 5);
/// counter.kill(); // no terminate, no last save: write-through already saved
/// # counter.wait_for_exit(timeout).await.unwrap();
///
/// let (counter, _handle) = start::<Counter>((), Persistence::new(store, "counter")).await.unwrap();
/// assert_eq!(counter.call(|r| Msg::Add(1, r), timeout).await.unwrap(), 6);
/// # }
/// ```
pub trait PersistentActor: Serialize + DeserializeOwned + Send + Sized + 'static {
    /// What `init` and `after_load` start from.
    type Args: Send + 'static;
    /// The messages it handles; a request carries a
    /// [`Reply`](foundation_mailbox::Reply) port, as for any actor. Sent
    /// with [`PersistentRef::call`](crate::PersistentRef::call), its
    /// answer reaches the caller only once the change it caused is saved
    /// (under write-through).
    type Msg: Send + 'static;
    /// Why a handler failed; it becomes the exit reason.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The version of the serialized shape, written in every entry's header.
    const SCHEMA_VERSION: u32 = 1;

    /// Builds the state when nothing is saved under the key yet.
    fn init(
        args: Self::Args,
        ctx: &mut Context<Persistent<Self>>,
    ) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    /// Runs after the state was loaded (instead of `init`), before any
    /// message: rebuild the skipped fields from `args` here. Does nothing
    /// by default.
    fn after_load(
        &mut self,
        args: Self::Args,
        ctx: &mut Context<Persistent<Self>>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = (args, ctx);
        async { Ok(()) }
    }

    /// Runs before each save, e.g. to trim caches that need not be saved.
    /// Does nothing by default.
    fn before_save(&mut self) {}

    /// Turns state saved by an older schema version into this one. Refuses
    /// by default; the error names the key and both versions.
    fn migrate(old: Legacy<'_>) -> Result<Self, MigrationError> {
        Err(MigrationError::Unsupported(old.schema()))
    }

    /// Handles one message. `state` is the actor itself behind a
    /// [`Tracked`] guard: reading is free, and any mutable access marks it
    /// changed. Only a changed state is saved (when the policy says); a
    /// handler that only read it causes no save, and a call it answered is
    /// released at once.
    fn handle(
        state: &mut Tracked<'_, Self>,
        message: Self::Msg,
        ctx: &mut Context<Persistent<Self>>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Handles a system message (a monitor's DOWN, a trapped exit); as in
    /// [`handle`](Self::handle), only a change made through `state` is
    /// saved. Ignores them by default.
    fn handle_system(
        state: &mut Tracked<'_, Self>,
        message: SystemMessage,
        ctx: &mut Context<Persistent<Self>>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = (state, message, ctx);
        async { Ok(()) }
    }

    /// Runs when the actor stops (not after a panic or a kill), before the
    /// last save.
    fn terminate(
        &mut self,
        reason: &ExitReason,
        ctx: &mut Context<Persistent<Self>>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }
}
