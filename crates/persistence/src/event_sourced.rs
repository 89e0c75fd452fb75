//! The [`EventSourced`] trait (an actor whose state is the fold of its events) and the [`Emitter`] its handler emits through.

use std::{fmt, future::Future, ops::Deref};

use foundation_mailbox::{Context, ExitReason, SystemMessage};
use serde::{Serialize, de::DeserializeOwned};

use crate::{Journaled, MigrationError, codec::Legacy};

/// An actor whose state is rebuilt from the events it emitted: a command
/// handler decides, [`apply`](Self::apply) changes the state, and only the
/// events are written, appended to a per-actor [`Journal`](crate::Journal).
///
/// Run it as [`Journaled<Self>`](Journaled) (see [`start_journaled`](crate::start_journaled)).
/// A message costs one append of the events it emitted, whatever the size
/// of the state, and nothing when it emitted none; this is what to choose
/// over a [`PersistentActor`](crate::PersistentActor) (which writes the
/// whole state) once the state is large or grows, as a queue of jobs does.
///
/// At every start, before any message, the state is recovered: the latest
/// snapshot is decoded (then [`after_load`](Self::after_load) runs), or,
/// without one, [`init`](Self::init) builds the state; then every event
/// after the snapshot is applied in order. Every
/// [`SnapshotPolicy`](crate::SnapshotPolicy) events or bytes a snapshot
/// of the state is written and the journal compacted behind it, so
/// recovery replays only what came after.
///
/// Events and snapshots go through the [`codec`](crate::codec) with their
/// own schema versions: bump [`EVENT_SCHEMA_VERSION`](Self::EVENT_SCHEMA_VERSION)
/// when the event type's shape changes and teach
/// [`migrate_event`](Self::migrate_event) the older ones (the same for
/// [`SCHEMA_VERSION`](Self::SCHEMA_VERSION) and [`migrate`](Self::migrate)
/// for the snapshot). A damaged event is a typed error naming the actor
/// and the event's sequence number, and recovery stops there.
///
/// ```
/// use std::time::Duration;
/// use foundation_mailbox::{Context, Reply};
/// use foundation_persistence::{Emitter, EventSourced, Journaled, Journaling, MemoryStore, start_journaled};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, Default, Serialize, Deserialize)]
/// struct Account { balance: i64 }
///
/// #[derive(Debug, Serialize, Deserialize)]
/// enum Event { Deposited(i64), Withdrew(i64) }
///
/// #[derive(Debug)]
/// enum Command {
///     Deposit(i64, Reply<i64>),
///     Withdraw(i64, Reply<Result<i64, String>>),
///     Balance(Reply<i64>),
/// }
///
/// impl EventSourced for Account {
///     type Args = ();
///     type Msg = Command;
///     type Event = Event;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Journaled<Self>>) -> Result<Self, Self::Error> {
///         Ok(Account::default())
///     }
///
///     fn apply(&mut self, event: &Event) {
///         match event {
///             Event::Deposited(amount) => self.balance += amount,
///             Event::Withdrew(amount) => self.balance -= amount,
///         }
///     }
///
///     async fn handle(account: &mut Emitter<'_, Self>, command: Command, _: &mut Context<Journaled<Self>>) -> Result<(), Self::Error> {
///         match command {
///             Command::Deposit(amount, reply) => {
///                 account.emit(Event::Deposited(amount)); // applied now, durable before the reply
///                 reply.send(account.balance).unwrap_or_default();
///             }
///             Command::Withdraw(amount, reply) if amount > account.balance => {
///                 reply.send(Err("insufficient funds".into())).unwrap_or_default(); // no event, no write
///             }
///             Command::Withdraw(amount, reply) => {
///                 account.emit(Event::Withdrew(amount));
///                 reply.send(Ok(account.balance)).unwrap_or_default();
///             }
///             Command::Balance(reply) => reply.send(account.balance).unwrap_or_default(),
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let store = MemoryStore::new();
/// let timeout = Duration::from_secs(1);
/// let (account, _handle) = start_journaled::<Account>((), Journaling::new(store.clone(), "account/7")).await.unwrap();
/// account.call(|r| Command::Deposit(100, r), timeout).await.unwrap();
/// account.call(|r| Command::Withdraw(30, r), timeout).await.unwrap().unwrap();
/// account.kill();
/// # account.wait_for_exit(timeout).await.unwrap();
///
/// // Replayed from the journal: 100 in, 30 out.
/// let (account, _handle) = start_journaled::<Account>((), Journaling::new(store, "account/7")).await.unwrap();
/// assert_eq!(account.call(Command::Balance, timeout).await.unwrap(), 70);
/// # }
/// ```
pub trait EventSourced: Serialize + DeserializeOwned + Send + Sized + 'static {
    /// What `init` and `after_load` start from.
    type Args: Send + 'static;
    /// The commands it handles; a request carries a
    /// [`Reply`](foundation_mailbox::Reply) port. Sent with
    /// [`JournaledRef::call`](crate::JournaledRef::call), its answer
    /// reaches the caller only once the events it emitted are durable.
    type Msg: Send + 'static;
    /// What happened: the only thing written, one entry per event.
    type Event: Serialize + DeserializeOwned + Send + 'static;
    /// Why a handler failed; it becomes the exit reason.
    type Error: std::error::Error + Send + Sync + 'static;

    /// The version of the state's serialized shape, in every snapshot.
    const SCHEMA_VERSION: u32 = 1;
    /// The version of the event type's serialized shape, in every event.
    const EVENT_SCHEMA_VERSION: u32 = 1;

    /// Builds the state before any event, when there is no snapshot.
    fn init(
        args: Self::Args,
        ctx: &mut Context<Journaled<Self>>,
    ) -> impl Future<Output = Result<Self, Self::Error>> + Send;

    /// Runs after a snapshot was loaded (instead of `init`), before the
    /// events after it are applied: rebuild the skipped fields here. Does
    /// nothing by default.
    fn after_load(
        &mut self,
        args: Self::Args,
        ctx: &mut Context<Journaled<Self>>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = (args, ctx);
        async { Ok(()) }
    }

    /// Changes the state by one event. It runs when the handler emits the
    /// event and again at every recovery, so it must do the same thing
    /// each time: no I/O, no clock, no randomness (decide those in the
    /// handler and put the outcome in the event).
    fn apply(&mut self, event: &Self::Event);

    /// Handles one command: reads the state through `state`, emits the
    /// events that record the decision (each applied at once), answers.
    /// Emitted events are appended in one atomic write after the handler
    /// returns `Ok`; a handler that emitted none costs no write. If the
    /// handler fails or panics, its events are not written.
    fn handle(
        state: &mut Emitter<'_, Self>,
        message: Self::Msg,
        ctx: &mut Context<Journaled<Self>>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Handles a system message (a monitor's DOWN, a trapped exit), as
    /// `handle` does a command. Ignores them by default.
    fn handle_system(
        state: &mut Emitter<'_, Self>,
        message: SystemMessage,
        ctx: &mut Context<Journaled<Self>>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let _ = (state, message, ctx);
        async { Ok(()) }
    }

    /// Runs when the actor stops (not after a panic or a kill). Every
    /// event is already durable, so nothing is saved afterwards.
    fn terminate(
        &self,
        reason: &ExitReason,
        ctx: &mut Context<Journaled<Self>>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, ctx);
        async {}
    }

    /// Turns a snapshot written by an older schema version into this one.
    /// Refuses by default.
    fn migrate(old: Legacy<'_>) -> Result<Self, MigrationError> {
        Err(MigrationError::Unsupported(old.schema()))
    }

    /// Turns an event written by an older event schema version into this
    /// one. Refuses by default.
    fn migrate_event(old: Legacy<'_>) -> Result<Self::Event, MigrationError> {
        Err(MigrationError::Unsupported(old.schema()))
    }
}

/// An event-sourced actor's state as its handler sees it: read-only
/// ([`Deref`]), changed only by [`emit`](Self::emit), which applies the
/// event at once and queues it for the append that follows the handler.
/// There is no way to change the state without an event, so no change
/// can be lost at recovery.
pub struct Emitter<'a, A: EventSourced> {
    state: &'a mut A,
    emitted: &'a mut Vec<A::Event>,
}

impl<'a, A: EventSourced> Emitter<'a, A> {
    pub(crate) fn new(state: &'a mut A, emitted: &'a mut Vec<A::Event>) -> Self {
        Self { state, emitted }
    }

    /// Applies `event` to the state and queues it to be appended once the
    /// handler returns.
    pub fn emit(&mut self, event: A::Event) {
        self.state.apply(&event);
        self.emitted.push(event);
    }

    /// The events emitted so far by this handler.
    pub fn emitted(&self) -> &[A::Event] {
        self.emitted
    }
}

impl<A: EventSourced> Deref for Emitter<'_, A> {
    type Target = A;

    fn deref(&self) -> &A {
        self.state
    }
}

impl<A: EventSourced + fmt::Debug> fmt::Debug for Emitter<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emitter")
            .field("state", &self.state)
            .field("emitted", &self.emitted.len())
            .finish()
    }
}
